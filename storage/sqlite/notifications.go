package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// CreateNotification inserts n, with Read and ReadAt as given, and sets
// n.ID. It returns domain.ErrNotFound if the user does not exist.
func (t *Tx) CreateNotification(ctx context.Context, n *domain.Notification) error {
	id, err := t.insert(ctx, qCreateNotification,
		n.UserID, n.Title, n.Message, n.Read, micros(n.CreatedAt), nullMicros(n.ReadAt))
	if err != nil {
		return fmt.Errorf("create notification of user %d: %w", n.UserID, err)
	}
	n.ID = id
	return nil
}

// FindNotifications lists the notifications that match f newest first and
// returns how many match.
func (t *Tx) FindNotifications(ctx context.Context, f storage.NotificationFilter, p domain.Page) ([]domain.Notification, int, error) {
	query := qFindNotifications
	if f.UnreadOnly {
		query = qFindUnreadNotifications
	}
	notifications, err := t.queryNotifications(ctx, query, f.UserID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find notifications %+v: %w", f, err)
	}
	total, err := pageTotal(p, len(notifications), func() (int, error) { return t.CountNotifications(ctx, f) })
	if err != nil {
		return nil, 0, err
	}
	return notifications, total, nil
}

// CountNotifications returns the number of notifications that match f.
func (t *Tx) CountNotifications(ctx context.Context, f storage.NotificationFilter) (int, error) {
	query := qCountNotifications
	if f.UnreadOnly {
		query = qCountUnreadNotifications
	}
	n, err := t.count(ctx, query, f.UserID)
	if err != nil {
		return 0, fmt.Errorf("count notifications %+v: %w", f, err)
	}
	return n, nil
}

// MarkNotificationRead marks one of userID's notifications read at at and
// reports whether it was unread. A notification that is already read
// keeps its ReadAt. It returns domain.ErrNotFound unless userID owns the
// notification.
func (t *Tx) MarkNotificationRead(ctx context.Context, userID, id int64, at time.Time) (bool, error) {
	n, err := t.exec(ctx, qMarkNotificationRead, micros(at), id, userID)
	if err != nil {
		return false, fmt.Errorf("mark notification %d of user %d read: %w", id, userID, err)
	}
	if n > 0 {
		return true, nil
	}

	// Nothing changed: the notification is either read already or not
	// the user's.
	var exists bool
	if err := t.stmt(ctx, qNotificationExists).QueryRowContext(ctx, id, userID).Scan(&exists); err != nil {
		return false, fmt.Errorf("find notification %d of user %d: %w", id, userID, mapError(err))
	}
	if !exists {
		return false, fmt.Errorf("mark notification %d of user %d read: %w", id, userID, domain.ErrNotFound)
	}
	return false, nil
}

// MarkAllNotificationsRead marks every unread notification of userID read
// at at and returns how many it marked.
func (t *Tx) MarkAllNotificationsRead(ctx context.Context, userID int64, at time.Time) (int, error) {
	n, err := t.exec(ctx, qMarkAllNotificationsRead, micros(at), userID)
	if err != nil {
		return 0, fmt.Errorf("mark notifications of user %d read: %w", userID, err)
	}
	return int(n), nil
}

// queryNotifications runs a query that selects notificationColumns.
func (t *Tx) queryNotifications(ctx context.Context, query string, args ...any) ([]domain.Notification, error) {
	rows, err := t.stmt(ctx, query).QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	notifications := []domain.Notification{}
	for rows.Next() {
		var (
			n         domain.Notification
			createdAt int64
			readAt    sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &n.UserID, &n.Title, &n.Message, &n.Read, &createdAt, &readAt); err != nil {
			return nil, mapError(err)
		}
		n.CreatedAt = fromMicros(createdAt)
		n.ReadAt = fromNullMicros(readAt)
		notifications = append(notifications, n)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return notifications, nil
}
