package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// rowScanner is the Scan method shared by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// CreateUser inserts u and sets u.ID. It returns domain.ErrConflict if
// another user has the email in any letter case.
func (t *Tx) CreateUser(ctx context.Context, u *domain.User) error {
	id, err := t.insert(ctx, qCreateUser,
		u.Username, u.Email, u.PasswordHash, u.Bio, u.PFP, u.Plan, u.Verified,
		int64(u.Balance), u.FirstName, u.LastName, u.Phone, u.Address, micros(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Email, err)
	}
	u.ID = id
	return nil
}

// FindUserByID returns the user, or domain.ErrNotFound.
func (t *Tx) FindUserByID(ctx context.Context, id int64) (*domain.User, error) {
	u, err := scanUser(t.stmt(ctx, qFindUserByID).QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	return u, nil
}

// FindUserByEmail returns the user whose email matches in any letter case
// (ASCII letters only, as SQLite's NOCASE collation folds), or
// domain.ErrNotFound.
func (t *Tx) FindUserByEmail(ctx context.Context, email string) (*domain.User, error) {
	u, err := scanUser(t.stmt(ctx, qFindUserByEmail).QueryRowContext(ctx, email))
	if err != nil {
		return nil, fmt.Errorf("find user by email %q: %w", email, err)
	}
	return u, nil
}

func scanUser(row rowScanner) (*domain.User, error) {
	var (
		u         domain.User
		balance   int64
		createdAt int64
	)
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Bio, &u.PFP, &u.Plan,
		&u.Verified, &balance, &u.FirstName, &u.LastName, &u.Phone, &u.Address, &createdAt)
	if err != nil {
		return nil, mapError(err)
	}
	u.Balance = domain.Money(balance)
	u.CreatedAt = fromMicros(createdAt)
	return &u, nil
}

// UpdateProfile sets the non-nil fields of p. It returns domain.ErrNotFound
// if there is no such user.
func (t *Tx) UpdateProfile(ctx context.Context, id int64, p domain.ProfileUpdate) error {
	n, err := t.exec(ctx, qUpdateProfile, p.Bio, p.PFP, p.FirstName, p.LastName, p.Phone, p.Address, id)
	if err != nil {
		return fmt.Errorf("update profile of user %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("update profile of user %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// CountUsers returns the number of users.
func (t *Tx) CountUsers(ctx context.Context) (int, error) {
	n, err := t.count(ctx, qCountUsers)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateAPIKey inserts k and sets k.ID. It returns domain.ErrConflict if
// another key has the same hash and domain.ErrNotFound if the user does not
// exist.
func (t *Tx) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	id, err := t.insert(ctx, qCreateAPIKey,
		k.UserID, k.Name, k.Prefix, blob(k.Hash), k.CanRead, k.CanWrite,
		micros(k.CreatedAt), nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create api key for user %d: %w", k.UserID, err)
	}
	k.ID = id
	return nil
}

// FindAPIKeyByHash returns the key with the given hash, or
// domain.ErrNotFound.
func (t *Tx) FindAPIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error) {
	k, err := scanAPIKey(t.stmt(ctx, qFindAPIKeyByHash).QueryRowContext(ctx, blob(hash)))
	if err != nil {
		return nil, fmt.Errorf("find api key by hash: %w", err)
	}
	return k, nil
}

// FindAPIKeyByID returns the key if userID owns it, or domain.ErrNotFound.
func (t *Tx) FindAPIKeyByID(ctx context.Context, userID, id int64) (*domain.APIKey, error) {
	k, err := scanAPIKey(t.stmt(ctx, qFindAPIKeyByID).QueryRowContext(ctx, id, userID))
	if err != nil {
		return nil, fmt.Errorf("find api key %d of user %d: %w", id, userID, err)
	}
	return k, nil
}

// FindAPIKeys lists a user's keys by id and returns the number of keys the
// user has.
func (t *Tx) FindAPIKeys(ctx context.Context, userID int64, p domain.Page) ([]domain.APIKey, int, error) {
	rows, err := t.stmt(ctx, qFindAPIKeys).QueryContext(ctx, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find api keys of user %d: %w", userID, err)
	}
	defer rows.Close()
	keys := []domain.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find api keys of user %d: %w", userID, err)
		}
		keys = append(keys, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find api keys of user %d: %w", userID, err)
	}
	total, err := pageTotal(p, len(keys), func() (int, error) { return t.count(ctx, qCountAPIKeys, userID) })
	if err != nil {
		return nil, 0, fmt.Errorf("count api keys of user %d: %w", userID, err)
	}
	return keys, total, nil
}

func scanAPIKey(row rowScanner) (*domain.APIKey, error) {
	var (
		k                   domain.APIKey
		createdAt           int64
		expiresAt, lastUsed sql.NullInt64
	)
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.CanRead, &k.CanWrite,
		&createdAt, &expiresAt, &lastUsed)
	if err != nil {
		return nil, mapError(err)
	}
	k.CreatedAt = fromMicros(createdAt)
	k.ExpiresAt = fromNullMicros(expiresAt)
	k.LastUsedAt = fromNullMicros(lastUsed)
	return &k, nil
}

// DeleteAPIKey removes the key and, through the foreign key's ON DELETE
// CASCADE, its usage rows. It returns domain.ErrNotFound unless userID owns
// the key.
func (t *Tx) DeleteAPIKey(ctx context.Context, userID, id int64) error {
	n, err := t.exec(ctx, qDeleteAPIKey, id, userID)
	if err != nil {
		return fmt.Errorf("delete api key %d of user %d: %w", id, userID, err)
	}
	if n == 0 {
		return fmt.Errorf("delete api key %d of user %d: %w", id, userID, domain.ErrNotFound)
	}
	return nil
}

// AddUsage adds each row's Count to the stored count for its key and day
// and moves each key's LastUsedAt forward to lastUsed. A row's UserID is
// ignored: usage is recorded for the key's owner. Rows and times of keys
// that no longer exist are skipped.
func (t *Tx) AddUsage(ctx context.Context, rows []domain.Usage, lastUsed map[int64]time.Time) error {
	if len(rows) > 0 {
		addUser, add := t.stmt(ctx, qAddUserUsage), t.stmt(ctx, qAddUsage)
		for _, r := range rows {
			if _, err := addUser.ExecContext(ctx, r.Day, r.Count, r.UserID); err != nil {
				return fmt.Errorf("add usage of user %d on %s: %w", r.UserID, r.Day, mapError(err))
			}
			if _, err := add.ExecContext(ctx, r.Day, r.Count, r.KeyID); err != nil {
				return fmt.Errorf("add usage of api key %d on %s: %w", r.KeyID, r.Day, mapError(err))
			}
		}
	}

	if len(lastUsed) > 0 {
		touch := t.stmt(ctx, qTouchAPIKey)
		for keyID, at := range lastUsed {
			if _, err := touch.ExecContext(ctx, micros(at), keyID); err != nil {
				return fmt.Errorf("set last use of api key %d: %w", keyID, mapError(err))
			}
		}
	}
	return nil
}

// UserUsageOnDay sums a user's counts over all keys for one day.
func (t *Tx) UserUsageOnDay(ctx context.Context, userID int64, day string) (int64, error) {
	var sum int64
	if err := t.stmt(ctx, qUserUsageOnDay).QueryRowContext(ctx, userID, day).Scan(&sum); err != nil {
		return 0, fmt.Errorf("sum usage of user %d on %s: %w", userID, day, mapError(err))
	}
	return sum, nil
}

// FindKeyUsage lists a key's daily counts from sinceDay on, oldest first.
func (t *Tx) FindKeyUsage(ctx context.Context, keyID int64, sinceDay string) ([]domain.Usage, error) {
	rows, err := t.stmt(ctx, qFindKeyUsage).QueryContext(ctx, keyID, sinceDay)
	if err != nil {
		return nil, fmt.Errorf("find usage of api key %d: %w", keyID, mapError(err))
	}
	defer rows.Close()
	usage := []domain.Usage{}
	for rows.Next() {
		var u domain.Usage
		if err := rows.Scan(&u.KeyID, &u.UserID, &u.Day, &u.Count); err != nil {
			return nil, fmt.Errorf("find usage of api key %d: %w", keyID, mapError(err))
		}
		usage = append(usage, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find usage of api key %d: %w", keyID, mapError(err))
	}
	return usage, nil
}

// FindIdempotent returns the stored response for the user and key, or
// domain.ErrNotFound.
func (t *Tx) FindIdempotent(ctx context.Context, userID int64, key string) (*storage.IdempotentResponse, error) {
	var (
		r         storage.IdempotentResponse
		createdAt int64
	)
	err := t.stmt(ctx, qFindIdempotent).QueryRowContext(ctx, userID, key).
		Scan(&r.UserID, &r.Key, &r.RequestHash, &r.Status, &r.Body, &createdAt)
	if err != nil {
		return nil, fmt.Errorf("find idempotent response %q of user %d: %w", key, userID, mapError(err))
	}
	r.CreatedAt = fromMicros(createdAt)
	return &r, nil
}

// SaveIdempotent stores r, replacing any row with the same user and key.
// It returns domain.ErrNotFound if the user does not exist.
func (t *Tx) SaveIdempotent(ctx context.Context, r storage.IdempotentResponse) error {
	_, err := t.exec(ctx, qSaveIdempotent,
		r.UserID, r.Key, blob(r.RequestHash), r.Status, blob(r.Body), micros(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("save idempotent response %q of user %d: %w", r.Key, r.UserID, err)
	}
	return nil
}

// DeleteIdempotentBefore removes the responses created before before.
func (t *Tx) DeleteIdempotentBefore(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, qDeleteIdempotentBefore, micros(before)); err != nil {
		return fmt.Errorf("delete idempotent responses before %s: %w", before.Format(time.RFC3339), err)
	}
	return nil
}

// ScanUsers returns up to limit users with an id above afterID, by id
// ascending.
func (t *Tx) ScanUsers(ctx context.Context, afterID int64, limit int) ([]domain.User, error) {
	rows, err := t.stmt(ctx, qScanUsers).QueryContext(ctx, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan users after %d: %w", afterID, mapError(err))
	}
	defer rows.Close()
	users := []domain.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan users after %d: %w", afterID, err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan users after %d: %w", afterID, mapError(err))
	}
	return users, nil
}

// FindUserUsage lists a user's daily totals, keys deleted since included,
// from sinceDay on, oldest first, as rows with KeyID 0.
func (t *Tx) FindUserUsage(ctx context.Context, userID int64, sinceDay string) ([]domain.Usage, error) {
	rows, err := t.stmt(ctx, qFindUserUsage).QueryContext(ctx, userID, sinceDay)
	if err != nil {
		return nil, fmt.Errorf("find usage of user %d: %w", userID, mapError(err))
	}
	defer rows.Close()
	usage := []domain.Usage{}
	for rows.Next() {
		var u domain.Usage
		if err := rows.Scan(&u.UserID, &u.Day, &u.Count); err != nil {
			return nil, fmt.Errorf("find usage of user %d: %w", userID, mapError(err))
		}
		usage = append(usage, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find usage of user %d: %w", userID, mapError(err))
	}
	return usage, nil
}

// FindUserKeyUsage lists the daily counts of every existing key of the
// user from sinceDay on, ordered by key id, then day.
func (t *Tx) FindUserKeyUsage(ctx context.Context, userID int64, sinceDay string) ([]domain.Usage, error) {
	rows, err := t.stmt(ctx, qFindUserKeyUsage).QueryContext(ctx, userID, sinceDay)
	if err != nil {
		return nil, fmt.Errorf("find key usage of user %d: %w", userID, mapError(err))
	}
	defer rows.Close()
	usage := []domain.Usage{}
	for rows.Next() {
		var u domain.Usage
		if err := rows.Scan(&u.KeyID, &u.UserID, &u.Day, &u.Count); err != nil {
			return nil, fmt.Errorf("find key usage of user %d: %w", userID, mapError(err))
		}
		usage = append(usage, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find key usage of user %d: %w", userID, mapError(err))
	}
	return usage, nil
}
