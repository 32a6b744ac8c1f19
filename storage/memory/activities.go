package memory

import (
	"context"
	"fmt"

	"github.com/sharepanel/sharepanel/domain"
)

// cloneActivity returns a copy of a that shares no memory with it.
func cloneActivity(a domain.Activity) domain.Activity {
	a.PrevHash = cloneBytes(a.PrevHash)
	a.Hash = cloneBytes(a.Hash)
	return a
}

// AddActivity inserts a with copies of its hashes and sets a.ID. It
// returns domain.ErrNotFound if the user does not exist.
func (t *Tx) AddActivity(_ context.Context, a *domain.Activity) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("add activity of user %d: %w", a.UserID, err)
	}
	if !d.users.has(a.UserID) {
		return fmt.Errorf("add activity of user %d: %w", a.UserID, domain.ErrNotFound)
	}

	d.lastActivityID++
	stored := cloneActivity(*a)
	stored.ID = d.lastActivityID
	stored.CreatedAt = utc(a.CreatedAt)
	d.activities.set(stored.ID, stored)
	d.actsByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	a.ID = stored.ID
	return nil
}

// FindActivities lists a user's entries newest first (by id descending)
// and returns how many the user has.
func (t *Tx) FindActivities(_ context.Context, userID int64, p domain.Page) ([]domain.Activity, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find activities of user %d: %w", userID, err)
	}
	ids, total := pageUser(&d.actsByUser, userID, p)
	activities := []domain.Activity{}
	for _, id := range ids {
		a, _ := d.activities.get(id)
		activities = append(activities, cloneActivity(a))
	}
	return activities, total, nil
}

// LastActivity returns the user's entry with the highest id, or
// domain.ErrNotFound if the user has none.
func (t *Tx) LastActivity(_ context.Context, userID int64) (*domain.Activity, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find last activity of user %d: %w", userID, err)
	}
	id, ok := lastOfUser(&d.actsByUser, userID)
	if !ok {
		return nil, fmt.Errorf("find last activity of user %d: %w", userID, domain.ErrNotFound)
	}
	a, _ := d.activities.get(id)
	a = cloneActivity(a)
	return &a, nil
}

// ScanActivities returns up to limit of the user's entries with an id
// above afterID, by id ascending. A negative limit means no limit.
func (t *Tx) ScanActivities(_ context.Context, userID, afterID int64, limit int) ([]domain.Activity, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("scan activities of user %d after %d: %w", userID, afterID, err)
	}
	activities := []domain.Activity{}
	for _, id := range scanUser(&d.actsByUser, userID, afterID, limit) {
		a, _ := d.activities.get(id)
		activities = append(activities, cloneActivity(a))
	}
	return activities, nil
}
