package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
)

// seedInvoices returns a store with users users and perUser invoices each,
// created round-robin so every user's invoices are spread over the whole
// id range. Every third invoice is paid, the rest pending.
func seedInvoices(b *testing.B, users, perUser int) *memory.Store {
	b.Helper()
	s := memory.New()
	mustUpdate(b, s, func(ctx context.Context, tx storage.Tx) error {
		for i := range users {
			u := domain.User{Username: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@example.com", i), CreatedAt: t0}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
		}
		for i := range users * perUser {
			status := domain.InvoicePending
			if i%3 == 0 {
				status = domain.InvoicePaid
			}
			inv := domain.Invoice{
				UserID: int64(i%users + 1), Status: status, Description: "hosting", Total: 100, CreatedAt: t0, DueAt: t0,
				Items: []domain.InvoiceItem{{Description: "plan", Quantity: 1, UnitPrice: 100, Amount: 100}},
			}
			if err := tx.CreateInvoice(ctx, &inv); err != nil {
				return err
			}
		}
		return nil
	})
	return s
}

// BenchmarkFindInvoices lists one user's page among 100,000 invoices of
// 1,000 users and among 1,000 invoices of 10 users. Each user has 100
// invoices in both, so the two times should differ only by the trees'
// logarithmic depth, not by the store's size.
func BenchmarkFindInvoices(b *testing.B) {
	for _, size := range []struct{ users, perUser int }{{10, 100}, {1000, 100}} {
		s := seedInvoices(b, size.users, size.perUser)
		filters := []struct {
			name   string
			filter storage.InvoiceFilter
		}{
			{name: "all", filter: storage.InvoiceFilter{UserID: int64(size.users / 2)}},
			{name: "paid", filter: storage.InvoiceFilter{UserID: int64(size.users / 2), Status: domain.InvoicePaid}},
		}
		for _, f := range filters {
			b.Run(fmt.Sprintf("%d invoices/%s", size.users*size.perUser, f.name), func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					tx, err := s.Begin(ctx, false)
					if err != nil {
						b.Fatal(err)
					}
					list, total, err := tx.FindInvoices(ctx, f.filter, domain.Page{Limit: 10, Offset: 10})
					if err != nil || len(list) != 10 || total == 0 {
						b.Fatalf("find invoices = %d rows of %d, %v", len(list), total, err)
					}
					tx.Rollback()
				}
			})
		}
	}
}
