package memory_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
)

func TestActivityHashesAreCopied(t *testing.T) {
	s := memory.New()
	u := mustCreateUser(t, s, "ada@example.com", 0)
	a := domain.Activity{UserID: u.ID, Action: "login", CreatedAt: t0}
	domain.ChainActivity([]byte{1, 2, 3}, &a)
	want := bytes.Clone(a.Hash)
	mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddActivity(ctx, &a) })

	// Changing the caller's slices after the add must not reach the store.
	a.Hash[0] ^= 0xff
	a.PrevHash[0] ^= 0xff

	mustView(t, s, func(ctx context.Context, tx storage.Tx) error {
		scanned, err := tx.ScanActivities(ctx, u.ID, 0, 10)
		if err != nil {
			return err
		}
		if !bytes.Equal(scanned[0].Hash, want) {
			t.Errorf("stored hash = %x, want %x", scanned[0].Hash, want)
		}
		if !bytes.Equal(scanned[0].PrevHash, []byte{1, 2, 3}) {
			t.Errorf("stored prev hash = %x, want 010203", scanned[0].PrevHash)
		}
		scanned[0].Hash[0] ^= 0xff

		listed, _, err := tx.FindActivities(ctx, u.ID, domain.Page{Limit: 10})
		if err != nil {
			return err
		}
		if !bytes.Equal(listed[0].Hash, want) {
			t.Errorf("hash after changing a scanned copy = %x, want %x", listed[0].Hash, want)
		}
		return nil
	})
}

func TestNotificationReadAtIsCopied(t *testing.T) {
	s := memory.New()
	u := mustCreateUser(t, s, "ada@example.com", 0)
	readAt := t0.Add(time.Minute)
	n := domain.Notification{UserID: u.ID, Title: "hi", Read: true, ReadAt: &readAt, CreatedAt: t0}
	mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateNotification(ctx, &n) })
	*n.ReadAt = t0.Add(time.Hour)

	find := func() domain.Notification {
		var list []domain.Notification
		mustView(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			list, _, err = tx.FindNotifications(ctx, storage.NotificationFilter{UserID: u.ID}, domain.Page{Limit: 10})
			return err
		})
		return list[0]
	}
	*find().ReadAt = t0.Add(2 * time.Hour)
	if got := find().ReadAt; !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("stored read at = %v, want %v", got, t0.Add(time.Minute))
	}
}

// TestReadOnlySnapshot checks that a read-only transaction keeps seeing
// the lists and counters of the version it began on.
func TestReadOnlySnapshot(t *testing.T) {
	s := memory.New()
	u := mustCreateUser(t, s, "ada@example.com", 0)
	mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error {
		n := domain.Notification{UserID: u.ID, Title: "first", CreatedAt: t0}
		return tx.CreateNotification(ctx, &n)
	})

	ctx := context.Background()
	old, err := s.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Rollback()

	mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error {
		if _, err := tx.MarkAllNotificationsRead(ctx, u.ID, t0); err != nil {
			return err
		}
		inv := domain.Invoice{UserID: u.ID, Status: domain.InvoicePaid, CreatedAt: t0, DueAt: t0}
		if err := tx.CreateInvoice(ctx, &inv); err != nil {
			return err
		}
		tr := domain.Transaction{UserID: u.ID, Type: domain.TxCredit, Amount: 10, CreatedAt: t0}
		return tx.AddTransaction(ctx, &tr)
	})

	unread, err := old.CountNotifications(ctx, storage.NotificationFilter{UserID: u.ID, UnreadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if unread != 1 {
		t.Errorf("unread in the old snapshot = %d, want 1", unread)
	}
	invoices, err := old.CountInvoices(ctx, storage.InvoiceFilter{UserID: u.ID, Status: domain.InvoicePaid})
	if err != nil {
		t.Fatal(err)
	}
	if invoices != 0 {
		t.Errorf("paid invoices in the old snapshot = %d, want 0", invoices)
	}
	user, err := old.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if user.Balance != 0 {
		t.Errorf("balance in the old snapshot = %d, want 0", user.Balance)
	}
}
