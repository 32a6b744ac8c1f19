package memory_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

// mustUpdate runs fn in a writable transaction and fails the test on error.
func mustUpdate(tb testing.TB, s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) {
	tb.Helper()
	ctx := context.Background()
	if err := storage.WithTx(ctx, s, true, func(tx storage.Tx) error { return fn(ctx, tx) }); err != nil {
		tb.Fatalf("writable transaction: %v", err)
	}
}

// mustView runs fn in a read-only transaction and fails the test on error.
func mustView(tb testing.TB, s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) {
	tb.Helper()
	ctx := context.Background()
	if err := storage.WithTx(ctx, s, false, func(tx storage.Tx) error { return fn(ctx, tx) }); err != nil {
		tb.Fatalf("read-only transaction: %v", err)
	}
}

// mustCreateUser stores a user with the given email and balance.
func mustCreateUser(tb testing.TB, s storage.Store, email string, balance domain.Money) domain.User {
	tb.Helper()
	u := domain.User{Username: email, Email: email, Balance: balance, CreatedAt: t0}
	mustUpdate(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateUser(ctx, &u) })
	return u
}

func TestSumByMonthOverflow(t *testing.T) {
	tests := []struct {
		name    string
		balance domain.Money
		amounts []domain.Money
	}{
		{name: "credits", balance: math.MinInt64, amounts: []domain.Money{math.MaxInt64, -math.MaxInt64, math.MaxInt64}},
		{name: "debits", balance: math.MaxInt64, amounts: []domain.Money{-math.MaxInt64, math.MaxInt64, -math.MaxInt64}},
		{name: "debit of min int64", balance: 0, amounts: []domain.Money{math.MinInt64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memory.New()
			u := mustCreateUser(t, s, "ada@example.com", tt.balance)
			mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error {
				for _, amount := range tt.amounts {
					tr := domain.Transaction{UserID: u.ID, Type: domain.TxCredit, Amount: amount, CreatedAt: t0}
					if err := tx.AddTransaction(ctx, &tr); err != nil {
						return err
					}
				}
				return nil
			})

			ctx := context.Background()
			tx, err := s.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			totals, err := tx.SumTransactionsByMonth(ctx, u.ID, time.Time{})
			if err == nil {
				t.Fatalf("sum = %+v, want an overflow error", totals)
			}
		})
	}
}

func TestReturnedInvoiceItemsAreCopies(t *testing.T) {
	s := memory.New()
	u := mustCreateUser(t, s, "ada@example.com", 0)
	inv := domain.Invoice{
		UserID: u.ID, Status: domain.InvoicePending, Description: "May", Total: 5, CreatedAt: t0, DueAt: t0,
		Items: []domain.InvoiceItem{{Description: "disk", Quantity: 1, UnitPrice: 5, Amount: 5}},
	}
	mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInvoice(ctx, &inv) })

	scan := func() []domain.Invoice {
		var got []domain.Invoice
		mustView(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			got, err = tx.ScanInvoices(ctx, u.ID, 0, 10)
			return err
		})
		return got
	}
	scan()[0].Items[0].Description = "changed"
	if got := scan()[0].Items[0].Description; got != "disk" {
		t.Fatalf("stored item description = %q, want %q", got, "disk")
	}
}

func TestNegativeLimitIsNoLimit(t *testing.T) {
	s := memory.New()
	u := mustCreateUser(t, s, "ada@example.com", 0)
	mustUpdate(t, s, func(ctx context.Context, tx storage.Tx) error {
		for range 3 {
			tr := domain.Transaction{UserID: u.ID, Type: domain.TxCredit, Amount: 1, CreatedAt: t0}
			if err := tx.AddTransaction(ctx, &tr); err != nil {
				return err
			}
			n := domain.Notification{UserID: u.ID, Title: "hello", CreatedAt: t0}
			if err := tx.CreateNotification(ctx, &n); err != nil {
				return err
			}
		}
		return nil
	})

	mustView(t, s, func(ctx context.Context, tx storage.Tx) error {
		scanned, err := tx.ScanTransactions(ctx, u.ID, 0, -1)
		if err != nil {
			return err
		}
		if len(scanned) != 3 {
			t.Errorf("scanned transactions = %d, want 3", len(scanned))
		}

		found, total, err := tx.SearchNotifications(ctx, u.ID, "HELLO", -1)
		if err != nil {
			return err
		}
		if len(found) != 3 || total != 3 {
			t.Errorf("found notifications = %d of %d, want 3 of 3", len(found), total)
		}

		none, total, err := tx.SearchNotifications(ctx, u.ID, "hello", 0)
		if err != nil {
			return err
		}
		if len(none) != 0 || total != 3 {
			t.Errorf("found notifications with limit 0 = %d of %d, want 0 of 3", len(none), total)
		}
		return nil
	})
}
