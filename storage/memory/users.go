package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// CreateUser inserts u and sets u.ID. It returns domain.ErrConflict if
// another user has the email in any ASCII letter case.
func (t *Tx) CreateUser(_ context.Context, u *domain.User) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Email, err)
	}
	email := foldEmail(u.Email)
	if d.userByEmail.has(email) {
		return fmt.Errorf("create user %q: %w", u.Email, domain.ErrConflict)
	}

	d.lastUserID++
	stored := *u
	stored.ID = d.lastUserID
	stored.CreatedAt = utc(u.CreatedAt)
	d.users.set(stored.ID, stored)
	d.userByEmail.set(email, stored.ID)
	u.ID = stored.ID
	return nil
}

// FindUserByID returns the user, or domain.ErrNotFound.
func (t *Tx) FindUserByID(_ context.Context, id int64) (*domain.User, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	u, ok := d.users.get(id)
	if !ok {
		return nil, fmt.Errorf("find user %d: %w", id, domain.ErrNotFound)
	}
	return &u, nil
}

// FindUserByEmail returns the user whose email matches in any ASCII letter
// case, or domain.ErrNotFound.
func (t *Tx) FindUserByEmail(_ context.Context, email string) (*domain.User, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find user by email %q: %w", email, err)
	}
	id, ok := d.userByEmail.get(foldEmail(email))
	if !ok {
		return nil, fmt.Errorf("find user by email %q: %w", email, domain.ErrNotFound)
	}
	u, _ := d.users.get(id)
	return &u, nil
}

// UpdateProfile sets the non-nil fields of p. It returns domain.ErrNotFound
// if there is no such user.
func (t *Tx) UpdateProfile(_ context.Context, id int64, p domain.ProfileUpdate) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("update profile of user %d: %w", id, err)
	}
	u, ok := d.users.get(id)
	if !ok {
		return fmt.Errorf("update profile of user %d: %w", id, domain.ErrNotFound)
	}

	setIfGiven(&u.Bio, p.Bio)
	setIfGiven(&u.PFP, p.PFP)
	setIfGiven(&u.FirstName, p.FirstName)
	setIfGiven(&u.LastName, p.LastName)
	setIfGiven(&u.Phone, p.Phone)
	setIfGiven(&u.Address, p.Address)
	d.users.set(id, u)
	return nil
}

// setIfGiven sets *field to *value unless value is nil.
func setIfGiven(field, value *string) {
	if value != nil {
		*field = *value
	}
}

// CountUsers returns the number of users.
func (t *Tx) CountUsers(context.Context) (int, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return d.users.len(), nil
}

// ScanUsers returns up to limit users with an id above afterID, by id
// ascending. A negative limit means no limit.
func (t *Tx) ScanUsers(_ context.Context, afterID int64, limit int) ([]domain.User, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("scan users after %d: %w", afterID, err)
	}
	users := []domain.User{}
	if limit == 0 {
		return users, nil
	}
	for id, u := range d.users.ascend(afterID) {
		if id == afterID {
			continue
		}
		users = append(users, u)
		if len(users) == limit {
			break
		}
	}
	return users, nil
}

// CreateAPIKey inserts k and sets k.ID. It returns domain.ErrConflict if
// another key has the same hash and domain.ErrNotFound if the user does not
// exist.
func (t *Tx) CreateAPIKey(_ context.Context, k *domain.APIKey) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create api key for user %d: %w", k.UserID, err)
	}
	hash := string(k.Hash)
	if d.keyByHash.has(hash) {
		return fmt.Errorf("create api key for user %d: %w", k.UserID, domain.ErrConflict)
	}
	if !d.users.has(k.UserID) {
		return fmt.Errorf("create api key for user %d: %w", k.UserID, domain.ErrNotFound)
	}

	d.lastKeyID++
	stored := cloneKey(*k)
	stored.ID = d.lastKeyID
	stored.CreatedAt = utc(k.CreatedAt)
	d.keys.set(stored.ID, stored)
	d.keyByHash.set(hash, stored.ID)
	d.keysByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	k.ID = stored.ID
	return nil
}

// FindAPIKeyByHash returns the key with the given hash, or
// domain.ErrNotFound.
func (t *Tx) FindAPIKeyByHash(_ context.Context, hash []byte) (*domain.APIKey, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find api key by hash: %w", err)
	}
	id, ok := d.keyByHash.get(string(hash))
	if !ok {
		return nil, fmt.Errorf("find api key by hash: %w", domain.ErrNotFound)
	}
	k, _ := d.keys.get(id)
	k = cloneKey(k)
	return &k, nil
}

// FindAPIKeyByID returns the key if userID owns it, or domain.ErrNotFound.
func (t *Tx) FindAPIKeyByID(_ context.Context, userID, id int64) (*domain.APIKey, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find api key %d of user %d: %w", id, userID, err)
	}
	k, ok := d.keys.get(id)
	if !ok || k.UserID != userID {
		return nil, fmt.Errorf("find api key %d of user %d: %w", id, userID, domain.ErrNotFound)
	}
	k = cloneKey(k)
	return &k, nil
}

// FindAPIKeys lists a user's keys by id and returns the number of keys the
// user has.
func (t *Tx) FindAPIKeys(_ context.Context, userID int64, p domain.Page) ([]domain.APIKey, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find api keys of user %d: %w", userID, err)
	}
	ids := idsWithPrefix(&d.keysByUser, userID)
	keys := []domain.APIKey{}
	for _, id := range page(ids, p) {
		k, _ := d.keys.get(id)
		keys = append(keys, cloneKey(k))
	}
	return keys, len(ids), nil
}

// DeleteAPIKey removes the key and its usage rows. It returns
// domain.ErrNotFound unless userID owns the key.
func (t *Tx) DeleteAPIKey(_ context.Context, userID, id int64) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("delete api key %d of user %d: %w", id, userID, err)
	}
	k, ok := d.keys.get(id)
	if !ok || k.UserID != userID {
		return fmt.Errorf("delete api key %d of user %d: %w", id, userID, domain.ErrNotFound)
	}

	d.keys.delete(id)
	d.keyByHash.delete(string(k.Hash))
	d.keysByUser.delete(pair{k.UserID, id})

	// Deleting while ranging is safe: the range walks the root it started
	// from, and deletes never change existing nodes.
	for uk := range d.usage.ascend(usageKey{keyID: id}) {
		if uk.keyID != id {
			break
		}
		d.usage.delete(uk)
	}
	return nil
}

// AddUsage adds each row's Count to the stored count for its key and day
// and moves each key's LastUsedAt forward to lastUsed. A row's UserID is
// ignored: usage is recorded for the key's owner. Rows and times of keys
// that no longer exist are skipped.
func (t *Tx) AddUsage(_ context.Context, rows []domain.Usage, lastUsed map[int64]time.Time) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("add usage: %w", err)
	}

	for _, r := range rows {
		if d.users.has(r.UserID) {
			ud := userDayKey{userID: r.UserID, day: r.Day}
			total, _ := d.userUsage.get(ud)
			d.userUsage.set(ud, total+r.Count)
		}

		k, ok := d.keys.get(r.KeyID)
		if !ok {
			continue
		}
		uk := usageKey{keyID: r.KeyID, day: r.Day}
		row, ok := d.usage.get(uk)
		if !ok {
			row = domain.Usage{KeyID: r.KeyID, UserID: k.UserID, Day: r.Day}
		}
		row.Count += r.Count
		d.usage.set(uk, row)
	}

	for keyID, at := range lastUsed {
		k, ok := d.keys.get(keyID)
		if !ok {
			continue
		}
		at = utc(at)
		if k.LastUsedAt != nil && !k.LastUsedAt.Before(at) {
			continue
		}
		k.LastUsedAt = &at
		d.keys.set(keyID, k)
	}
	return nil
}

// UserUsageOnDay sums a user's counts over all keys for one day.
func (t *Tx) UserUsageOnDay(_ context.Context, userID int64, day string) (int64, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("sum usage of user %d on %s: %w", userID, day, err)
	}
	total, _ := d.userUsage.get(userDayKey{userID: userID, day: day})
	return total, nil
}

// FindKeyUsage lists a key's daily counts from sinceDay on, oldest first.
func (t *Tx) FindKeyUsage(_ context.Context, keyID int64, sinceDay string) ([]domain.Usage, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find usage of api key %d: %w", keyID, err)
	}
	usage := []domain.Usage{}
	for k, row := range d.usage.ascend(usageKey{keyID: keyID, day: sinceDay}) {
		if k.keyID != keyID {
			break
		}
		usage = append(usage, row)
	}
	return usage, nil
}

// FindUserUsage lists a user's daily totals from sinceDay on, oldest
// first, as rows with KeyID 0. The totals include deleted keys' counts.
func (t *Tx) FindUserUsage(_ context.Context, userID int64, sinceDay string) ([]domain.Usage, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find usage of user %d: %w", userID, err)
	}
	usage := []domain.Usage{}
	for k, total := range d.userUsage.ascend(userDayKey{userID: userID, day: sinceDay}) {
		if k.userID != userID {
			break
		}
		usage = append(usage, domain.Usage{UserID: userID, Day: k.day, Count: total})
	}
	return usage, nil
}

// FindUserKeyUsage lists the daily counts of every existing key of the
// user from sinceDay on, by key id, then day.
func (t *Tx) FindUserKeyUsage(_ context.Context, userID int64, sinceDay string) ([]domain.Usage, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find usage of api keys of user %d: %w", userID, err)
	}
	usage := []domain.Usage{}
	for _, keyID := range idsWithPrefix(&d.keysByUser, userID) {
		for k, row := range d.usage.ascend(usageKey{keyID: keyID, day: sinceDay}) {
			if k.keyID != keyID {
				break
			}
			usage = append(usage, row)
		}
	}
	return usage, nil
}

// FindIdempotent returns the stored response for the user and key, or
// domain.ErrNotFound.
func (t *Tx) FindIdempotent(_ context.Context, userID int64, key string) (*storage.IdempotentResponse, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find idempotent response %q of user %d: %w", key, userID, err)
	}
	r, ok := d.idempotency.get(idempotencyKey{userID: userID, key: key})
	if !ok {
		return nil, fmt.Errorf("find idempotent response %q of user %d: %w", key, userID, domain.ErrNotFound)
	}
	r.RequestHash = cloneBytes(r.RequestHash)
	r.Body = cloneBytes(r.Body)
	return &r, nil
}

// SaveIdempotent stores r, replacing any row with the same user and key.
// It returns domain.ErrNotFound if the user does not exist.
func (t *Tx) SaveIdempotent(_ context.Context, r storage.IdempotentResponse) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("save idempotent response %q of user %d: %w", r.Key, r.UserID, err)
	}
	if !d.users.has(r.UserID) {
		return fmt.Errorf("save idempotent response %q of user %d: %w", r.Key, r.UserID, domain.ErrNotFound)
	}
	r.RequestHash = cloneBytes(r.RequestHash)
	r.Body = cloneBytes(r.Body)
	r.CreatedAt = utc(r.CreatedAt)
	d.idempotency.set(idempotencyKey{userID: r.UserID, key: r.Key}, r)
	return nil
}

// DeleteIdempotentBefore removes the responses created before before.
func (t *Tx) DeleteIdempotentBefore(_ context.Context, before time.Time) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("delete idempotent responses before %s: %w", before.Format(time.RFC3339), err)
	}
	// Compare at the stored precision, as SQLite compares the integers.
	before = utc(before)
	// NOTE: this scans every stored response; SQLite uses an index on
	// created_at instead.
	for k, r := range d.idempotency.all() {
		if r.CreatedAt.Before(before) {
			d.idempotency.delete(k)
		}
	}
	return nil
}
