package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sharepanel/sharepanel/domain"
)

// AddActivity inserts a and sets a.ID. It stores PrevHash and Hash as
// given and returns domain.ErrNotFound if the user does not exist.
func (t *Tx) AddActivity(ctx context.Context, a *domain.Activity) error {
	id, err := t.insert(ctx, qAddActivity,
		a.UserID, a.Action, a.Subject, a.ClientIP, micros(a.CreatedAt), blob(a.PrevHash), blob(a.Hash))
	if err != nil {
		return fmt.Errorf("add activity of user %d: %w", a.UserID, err)
	}
	a.ID = id
	return nil
}

// FindActivities lists a user's entries newest first (by id descending)
// and returns how many the user has.
func (t *Tx) FindActivities(ctx context.Context, userID int64, p domain.Page) ([]domain.Activity, int, error) {
	activities, err := t.queryActivities(ctx, qFindActivities, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find activities of user %d: %w", userID, err)
	}
	total, err := pageTotal(p, len(activities), func() (int, error) { return t.count(ctx, qCountActivities, userID) })
	if err != nil {
		return nil, 0, fmt.Errorf("count activities of user %d: %w", userID, err)
	}
	return activities, total, nil
}

// LastActivity returns the user's entry with the highest id, or
// domain.ErrNotFound if the user has none.
func (t *Tx) LastActivity(ctx context.Context, userID int64) (*domain.Activity, error) {
	a, err := scanActivity(t.stmt(ctx, qLastActivity).QueryRowContext(ctx, userID))
	if err != nil {
		return nil, fmt.Errorf("find last activity of user %d: %w", userID, err)
	}
	return a, nil
}

// ScanActivities returns up to limit of the user's entries with an id
// above afterID, by id ascending.
func (t *Tx) ScanActivities(ctx context.Context, userID, afterID int64, limit int) ([]domain.Activity, error) {
	activities, err := t.queryActivities(ctx, qScanActivities, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan activities of user %d after %d: %w", userID, afterID, err)
	}
	return activities, nil
}

// queryActivities runs a query that selects activityColumns.
func (t *Tx) queryActivities(ctx context.Context, query string, args ...any) ([]domain.Activity, error) {
	rows, err := t.stmt(ctx, query).QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	activities := []domain.Activity{}
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, err
		}
		activities = append(activities, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return activities, nil
}

// scanActivity reads one row of activityColumns. An empty PrevHash or
// Hash comes back nil, as domain.ChainActivity sets the first entry's
// PrevHash.
func scanActivity(row rowScanner) (*domain.Activity, error) {
	var (
		a         domain.Activity
		createdAt int64
	)
	err := row.Scan(&a.ID, &a.UserID, &a.Action, &a.Subject, &a.ClientIP, &createdAt, &a.PrevHash, &a.Hash)
	if err != nil {
		return nil, mapError(err)
	}
	a.CreatedAt = fromMicros(createdAt)
	if len(a.PrevHash) == 0 {
		a.PrevHash = nil
	}
	if len(a.Hash) == 0 {
		a.Hash = nil
	}
	return &a, nil
}

// chainBatch is how many activities chainActivities reads and updates at
// a time, so memory stays bounded on a large log.
const chainBatch = 500

// chainActivities is the Go step of migration 3. It sets prev_hash and
// hash of every activity, per user in id order, as domain.ChainActivity
// computes them, so logs written before the hash chain existed verify.
// It runs inside the migration's transaction.
func chainActivities(ctx context.Context, tx *sql.Tx) error {
	const (
		// The row value comparison walks the (user_id, id) index in order,
		// a batch at a time.
		selectBatch = `SELECT ` + activityColumns + ` FROM activities
WHERE (user_id, id) > (?, ?) ORDER BY user_id, id LIMIT ?`
		setHashes = `UPDATE activities SET prev_hash = ?, hash = ? WHERE id = ?`
	)
	sel, err := tx.PrepareContext(ctx, selectBatch)
	if err != nil {
		return fmt.Errorf("chain activities: %w", err)
	}
	defer sel.Close()
	set, err := tx.PrepareContext(ctx, setHashes)
	if err != nil {
		return fmt.Errorf("chain activities: %w", err)
	}
	defer set.Close()

	var (
		lastUser, lastID int64
		prev             []byte
	)
	for {
		batch, err := readActivityBatch(ctx, sel, lastUser, lastID)
		if err != nil {
			return fmt.Errorf("chain activities after user %d, id %d: %w", lastUser, lastID, err)
		}
		for i := range batch {
			a := &batch[i]
			if a.UserID != lastUser {
				prev = nil
			}
			domain.ChainActivity(prev, a)
			if _, err := set.ExecContext(ctx, blob(a.PrevHash), blob(a.Hash), a.ID); err != nil {
				return fmt.Errorf("chain activity %d: %w", a.ID, err)
			}
			prev, lastUser, lastID = a.Hash, a.UserID, a.ID
		}
		if len(batch) < chainBatch {
			return nil
		}
	}
}

// readActivityBatch reads up to chainBatch activities after the given
// user and id, ordered by user, then id.
func readActivityBatch(ctx context.Context, sel *sql.Stmt, afterUser, afterID int64) ([]domain.Activity, error) {
	rows, err := sel.QueryContext(ctx, afterUser, afterID, chainBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var batch []domain.Activity
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, err
		}
		batch = append(batch, *a)
	}
	return batch, rows.Err()
}
