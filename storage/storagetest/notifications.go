package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func newNotification(userID int64, title string, at time.Time) domain.Notification {
	return domain.Notification{
		UserID:    userID,
		Title:     title,
		Message:   "message for " + title,
		CreatedAt: at,
	}
}

func createNotification(tb testing.TB, s storage.Store, n domain.Notification) domain.Notification {
	tb.Helper()
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateNotification(ctx, &n) })
	return n
}

func findNotifications(tb testing.TB, s storage.Store, f storage.NotificationFilter, p domain.Page) ([]domain.Notification, int) {
	tb.Helper()
	var (
		list  []domain.Notification
		total int
	)
	view(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		list, total, err = tx.FindNotifications(ctx, f, p)
		return err
	})
	return list, total
}

// findNotification returns one of userID's notifications, found through
// the list, since the interface has no lookup by id.
func findNotification(tb testing.TB, s storage.Store, userID, id int64) domain.Notification {
	tb.Helper()
	list, _ := findNotifications(tb, s, storage.NotificationFilter{UserID: userID}, domain.Page{Limit: domain.MaxLimit})
	for _, n := range list {
		if n.ID == id {
			return n
		}
	}
	tb.Fatalf("notification %d of user %d not found", id, userID)
	return domain.Notification{}
}

func markRead(tb testing.TB, s storage.Store, userID, id int64, at time.Time) bool {
	tb.Helper()
	var wasUnread bool
	update(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		wasUnread, err = tx.MarkNotificationRead(ctx, userID, id, at)
		return err
	})
	return wasUnread
}

func notificationID(n domain.Notification) int64 { return n.ID }

func testNotifications(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("create and list", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		n := createNotification(t, s, newNotification(a.ID, "Welcome, ärzte", t0))
		equal(t, "first notification id", n.ID, int64(1))

		want := domain.Notification{ID: n.ID, UserID: a.ID, Title: "Welcome, ärzte", Message: "message for Welcome, ärzte", CreatedAt: t0}
		list, total := findNotifications(t, s, storage.NotificationFilter{UserID: a.ID}, domain.Page{Limit: 10})
		equal(t, "notifications", list, []domain.Notification{want})
		equal(t, "total", total, 1)
	})

	t.Run("create read notification", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		n := newNotification(a.ID, "already read", t0)
		n.Read = true
		n.ReadAt = ptr(t0.Add(time.Minute))
		n = createNotification(t, s, n)
		equal(t, "stored notification", findNotification(t, s, a.ID, n.ID), n)
	})

	t.Run("missing user", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		n := newNotification(a.ID+10, "nobody", t0)
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateNotification(ctx, &n) })
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("filter and pages", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var aIDs []int64
		for i := range 5 {
			// Times run backward, so an order by time instead of id fails.
			aIDs = append(aIDs, createNotification(t, s, newNotification(a.ID, "n", t0.Add(-time.Duration(i)*time.Hour))).ID)
			if i == 2 {
				createNotification(t, s, newNotification(b.ID, "other", t0))
			}
		}
		markRead(t, s, a.ID, aIDs[1], t0)
		markRead(t, s, a.ID, aIDs[4], t0)
		all := storage.NotificationFilter{UserID: a.ID}
		unread := storage.NotificationFilter{UserID: a.ID, UnreadOnly: true}

		tests := []struct {
			name   string
			filter storage.NotificationFilter
			page   domain.Page
			want   []int64
			total  int
		}{
			{name: "all newest first", filter: all, page: domain.Page{Limit: 10}, want: []int64{aIDs[4], aIDs[3], aIDs[2], aIDs[1], aIDs[0]}, total: 5},
			{name: "all first page", filter: all, page: domain.Page{Limit: 2}, want: []int64{aIDs[4], aIDs[3]}, total: 5},
			{name: "all last page", filter: all, page: domain.Page{Limit: 2, Offset: 4}, want: []int64{aIDs[0]}, total: 5},
			{name: "all past the end", filter: all, page: domain.Page{Limit: 2, Offset: 6}, want: []int64{}, total: 5},
			{name: "unread", filter: unread, page: domain.Page{Limit: 10}, want: []int64{aIDs[3], aIDs[2], aIDs[0]}, total: 3},
			{name: "unread first page", filter: unread, page: domain.Page{Limit: 2}, want: []int64{aIDs[3], aIDs[2]}, total: 3},
			{name: "unread second page", filter: unread, page: domain.Page{Limit: 2, Offset: 2}, want: []int64{aIDs[0]}, total: 3},
			{name: "other user", filter: storage.NotificationFilter{UserID: b.ID}, page: domain.Page{Limit: 10}, want: []int64{aIDs[2] + 1}, total: 1},
			{name: "missing user", filter: storage.NotificationFilter{UserID: b.ID + 10}, page: domain.Page{Limit: 10}, want: []int64{}, total: 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					list, total, err := tx.FindNotifications(ctx, tt.filter, tt.page)
					if err != nil {
						return err
					}
					equal(t, "ids of "+label(tt.page), ids(list, notificationID), tt.want)
					equal(t, "total", total, tt.total)
					n, err := tx.CountNotifications(ctx, tt.filter)
					if err != nil {
						return err
					}
					equal(t, "count", n, tt.total)
					return nil
				})
			})
		}
	})

	t.Run("mark one read", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		n := createNotification(t, s, newNotification(a.ID, "n", t0))
		other := createNotification(t, s, newNotification(a.ID, "other", t0))
		first, second := t0.Add(time.Minute), t0.Add(time.Hour)

		equal(t, "first mark was unread", markRead(t, s, a.ID, n.ID, first), true)
		got := findNotification(t, s, a.ID, n.ID)
		equal(t, "read", got.Read, true)
		equal(t, "read at", got.ReadAt, &first)
		equal(t, "other notification", findNotification(t, s, a.ID, other.ID), other)

		equal(t, "second mark was unread", markRead(t, s, a.ID, n.ID, second), false)
		equal(t, "read at after second mark", findNotification(t, s, a.ID, n.ID).ReadAt, &first)

		tests := []struct {
			name   string
			userID int64
			id     int64
		}{
			{name: "other user's notification", userID: b.ID, id: other.ID},
			{name: "missing notification", userID: a.ID, id: other.ID + 10},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var wasUnread bool
				err := tryWrite(s, func(ctx context.Context, tx storage.Tx) (err error) {
					wasUnread, err = tx.MarkNotificationRead(ctx, tt.userID, tt.id, second)
					return err
				})
				wantErr(t, err, domain.ErrNotFound)
				equal(t, "reported unread", wasUnread, false)
				equal(t, "other notification", findNotification(t, s, a.ID, other.ID), other)
			})
		}
	})

	t.Run("mark all read", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		n1 := createNotification(t, s, newNotification(a.ID, "1", t0))
		n2 := createNotification(t, s, newNotification(a.ID, "2", t0))
		n3 := createNotification(t, s, newNotification(a.ID, "3", t0))
		bn := createNotification(t, s, newNotification(b.ID, "b", t0))
		early, late := t0.Add(time.Minute), t0.Add(time.Hour)
		markRead(t, s, a.ID, n2.ID, early)

		markAll := func(userID int64, at time.Time) int {
			var n int
			update(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
				n, err = tx.MarkAllNotificationsRead(ctx, userID, at)
				return err
			})
			return n
		}
		equal(t, "marked", markAll(a.ID, late), 2)

		equal(t, "read at of n1", findNotification(t, s, a.ID, n1.ID).ReadAt, &late)
		equal(t, "read at of n2", findNotification(t, s, a.ID, n2.ID).ReadAt, &early)
		equal(t, "read at of n3", findNotification(t, s, a.ID, n3.ID).ReadAt, &late)
		equal(t, "read n3", findNotification(t, s, a.ID, n3.ID).Read, true)
		equal(t, "other user's notification", findNotification(t, s, b.ID, bn.ID), bn)
		list, total := findNotifications(t, s, storage.NotificationFilter{UserID: a.ID, UnreadOnly: true}, domain.Page{Limit: 10})
		equal(t, "unread left", len(list), 0)
		equal(t, "unread total", total, 0)

		equal(t, "marked again", markAll(a.ID, late.Add(time.Hour)), 0)
		equal(t, "read at of n1 after marking again", findNotification(t, s, a.ID, n1.ID).ReadAt, &late)
		equal(t, "marked for missing user", markAll(b.ID+10, late), 0)
	})

	t.Run("rollback keeps unread", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		n := createNotification(t, s, newNotification(a.ID, "n", t0))
		ctx := context.Background()
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.MarkAllNotificationsRead(ctx, a.ID, t0); err != nil {
			t.Fatal(err)
		}
		extra := newNotification(a.ID, "extra", t0)
		if err := tx.CreateNotification(ctx, &extra); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		list, total := findNotifications(t, s, storage.NotificationFilter{UserID: a.ID, UnreadOnly: true}, domain.Page{Limit: 10})
		equal(t, "unread", list, []domain.Notification{n})
		equal(t, "unread total", total, 1)
	})
}
