package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// cloneNotification returns a copy of n that shares no memory with it.
func cloneNotification(n domain.Notification) domain.Notification {
	n.ReadAt = utcPtr(n.ReadAt)
	return n
}

// CreateNotification inserts n and sets n.ID. Read and ReadAt are stored
// as given. It returns domain.ErrNotFound if there is no such user.
func (t *Tx) CreateNotification(_ context.Context, n *domain.Notification) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create notification for user %d: %w", n.UserID, err)
	}
	if !d.users.has(n.UserID) {
		return fmt.Errorf("create notification for user %d: %w", n.UserID, domain.ErrNotFound)
	}

	d.lastNotificationID++
	stored := cloneNotification(*n)
	stored.ID = d.lastNotificationID
	stored.CreatedAt = utc(n.CreatedAt)
	d.notifications.set(stored.ID, stored)
	d.notifByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	if !stored.Read {
		d.unreadByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	}
	n.ID = stored.ID
	return nil
}

// notificationIndex returns the index that holds the notifications f
// selects: all of a user's, or only the unread ones.
func (d *data) notificationIndex(f storage.NotificationFilter) *tree[pair, struct{}] {
	if f.UnreadOnly {
		return &d.unreadByUser
	}
	return &d.notifByUser
}

// FindNotifications lists the notifications that f selects newest first
// (by id descending) and returns how many match.
func (t *Tx) FindNotifications(_ context.Context, f storage.NotificationFilter, p domain.Page) ([]domain.Notification, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find notifications %+v: %w", f, err)
	}
	ids, total := pageUser(d.notificationIndex(f), f.UserID, p)
	notifications := []domain.Notification{}
	for _, id := range ids {
		n, _ := d.notifications.get(id)
		notifications = append(notifications, cloneNotification(n))
	}
	return notifications, total, nil
}

// CountNotifications returns the number of notifications that f selects.
func (t *Tx) CountNotifications(_ context.Context, f storage.NotificationFilter) (int, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("count notifications %+v: %w", f, err)
	}
	return countUser(d.notificationIndex(f), f.UserID), nil
}

// markRead marks the unread notification id of userID read at at.
func (d *data) markRead(userID, id int64, at time.Time) {
	n, _ := d.notifications.get(id)
	n.Read = true
	n.ReadAt = &at
	d.notifications.set(id, n)
	d.unreadByUser.delete(pair{userID, id})
}

// MarkNotificationRead marks one of userID's notifications read at at and
// reports whether it was unread. A notification that is already read keeps
// its ReadAt. It returns domain.ErrNotFound unless userID owns it.
func (t *Tx) MarkNotificationRead(_ context.Context, userID, id int64, at time.Time) (bool, error) {
	d, err := t.write()
	if err != nil {
		return false, fmt.Errorf("mark notification %d of user %d read: %w", id, userID, err)
	}
	n, ok := d.notifications.get(id)
	if !ok || n.UserID != userID {
		return false, fmt.Errorf("mark notification %d of user %d read: %w", id, userID, domain.ErrNotFound)
	}
	if n.Read {
		return false, nil
	}
	d.markRead(userID, id, utc(at))
	return true, nil
}

// MarkAllNotificationsRead marks every unread notification of userID read
// at at and returns how many it marked.
func (t *Tx) MarkAllNotificationsRead(_ context.Context, userID int64, at time.Time) (int, error) {
	d, err := t.write()
	if err != nil {
		return 0, fmt.Errorf("mark notifications of user %d read: %w", userID, err)
	}
	at = utc(at)
	ids := idsWithPrefix(&d.unreadByUser, userID)
	for _, id := range ids {
		d.markRead(userID, id, at)
	}
	return len(ids), nil
}
