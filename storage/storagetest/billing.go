package storagetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// addTransaction stores a transaction of amount for userID at at and
// returns it with its ID and BalanceAfter set.
func addTransaction(tb testing.TB, s storage.Store, userID int64, amount domain.Money, at time.Time) domain.Transaction {
	tb.Helper()
	tr := newTransaction(userID, amount, at)
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddTransaction(ctx, &tr) })
	return tr
}

// newTransaction returns a credit for a positive amount and a debit
// otherwise.
func newTransaction(userID int64, amount domain.Money, at time.Time) domain.Transaction {
	typ := domain.TxCredit
	if amount < 0 {
		typ = domain.TxDebit
	}
	return domain.Transaction{
		UserID:      userID,
		Type:        typ,
		Amount:      amount,
		Description: typ + " " + amount.String(),
		CreatedAt:   at,
	}
}

func findTransactions(tb testing.TB, s storage.Store, userID int64, p domain.Page) ([]domain.Transaction, int) {
	tb.Helper()
	var (
		list  []domain.Transaction
		total int
	)
	view(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		list, total, err = tx.FindTransactions(ctx, userID, p)
		return err
	})
	return list, total
}

func transactionID(t domain.Transaction) int64 { return t.ID }

func testBalances(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("add updates balance", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")

		steps := []struct {
			amount domain.Money
			want   domain.Money
		}{
			{amount: 500, want: 1550},
			{amount: -2000, want: -450},
			{amount: 0, want: -450},
			{amount: 451, want: 1},
		}
		for i, step := range steps {
			tr := addTransaction(t, s, a.ID, step.amount, t0.Add(time.Duration(i)*time.Second))
			equal(t, "balance after "+step.amount.String(), tr.BalanceAfter, step.want)
			equal(t, "user balance after "+step.amount.String(), findUser(t, s, a.ID).Balance, step.want)
		}
		equal(t, "other user's balance", findUser(t, s, b.ID).Balance, b.Balance)
	})

	t.Run("several in one transaction", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		var first, second domain.Transaction
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			first = newTransaction(a.ID, 100, t0)
			if err := tx.AddTransaction(ctx, &first); err != nil {
				return err
			}
			u, err := tx.FindUserByID(ctx, a.ID)
			if err != nil {
				return err
			}
			equal(t, "balance seen in the same transaction", u.Balance, domain.Money(1150))
			second = newTransaction(a.ID, -30, t0)
			return tx.AddTransaction(ctx, &second)
		})
		equal(t, "first balance after", first.BalanceAfter, domain.Money(1150))
		equal(t, "second balance after", second.BalanceAfter, domain.Money(1120))
		if second.ID <= first.ID {
			t.Fatalf("second transaction id = %d, want more than %d", second.ID, first.ID)
		}
		equal(t, "balance", findUser(t, s, a.ID).Balance, domain.Money(1120))
	})

	t.Run("fields round-trip", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		tr := domain.Transaction{
			UserID:      a.ID,
			Type:        domain.TxPurchase,
			Amount:      -999,
			Description: "Plan upgrade: ärzte & co",
			CreatedAt:   t0,
		}
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddTransaction(ctx, &tr) })
		equal(t, "first transaction id", tr.ID, int64(1))
		want := tr
		want.BalanceAfter = 51
		equal(t, "set fields", tr, want)
		list, _ := findTransactions(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "listed transactions", list, []domain.Transaction{want})
	})

	t.Run("missing user", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		tr := newTransaction(a.ID+10, 100, t0)
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.AddTransaction(ctx, &tr) })
		wantErr(t, err, domain.ErrNotFound)
		list, total := findTransactions(t, s, a.ID+10, domain.Page{Limit: 10})
		equal(t, "transactions of missing user", len(list), 0)
		equal(t, "total of missing user", total, 0)
	})

	t.Run("overflow changes nothing", func(t *testing.T) {
		tests := []struct {
			name    string
			balance domain.Money
			amount  domain.Money
		}{
			{name: "above max", balance: math.MaxInt64 - 10, amount: 11},
			{name: "max plus max", balance: math.MaxInt64, amount: math.MaxInt64},
			{name: "below min", balance: math.MinInt64 + 10, amount: -11},
			{name: "min plus min", balance: math.MinInt64, amount: math.MinInt64},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				u := newUser("ada@example.com")
				u.Balance = tt.balance
				update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateUser(ctx, &u) })

				// The failed add must leave the transaction usable, so the
				// write after it commits.
				update(t, s, func(ctx context.Context, tx storage.Tx) error {
					tr := newTransaction(u.ID, tt.amount, t0)
					if err := tx.AddTransaction(ctx, &tr); err == nil {
						t.Errorf("add %s to %s succeeded with balance after %s, want an error", tt.amount, tt.balance, tr.BalanceAfter)
					}
					return tx.UpdateProfile(ctx, u.ID, domain.ProfileUpdate{Bio: ptr("after overflow")})
				})

				got := findUser(t, s, u.ID)
				equal(t, "balance", got.Balance, tt.balance)
				equal(t, "bio written after the failed add", got.Bio, "after overflow")
				list, total := findTransactions(t, s, u.ID, domain.Page{Limit: 10})
				equal(t, "transactions", len(list), 0)
				equal(t, "total", total, 0)
			})
		}
	})

	t.Run("reaching the limits", func(t *testing.T) {
		s := open(t)
		u := newUser("ada@example.com")
		u.Balance = math.MaxInt64 - 10
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateUser(ctx, &u) })
		equal(t, "balance after reaching max", addTransaction(t, s, u.ID, 10, t0).BalanceAfter, domain.Money(math.MaxInt64))
		low := addTransaction(t, s, u.ID, math.MinInt64, t0).BalanceAfter
		equal(t, "balance after adding min", low, domain.Money(-1))
		equal(t, "balance after reaching min", addTransaction(t, s, u.ID, -math.MaxInt64, t0).BalanceAfter, domain.Money(math.MinInt64))
		equal(t, "user balance", findUser(t, s, u.ID).Balance, domain.Money(math.MinInt64))
	})

	t.Run("rollback undoes balance and row", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		addTransaction(t, s, a.ID, 50, t0)

		ctx := context.Background()
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		tr := newTransaction(a.ID, 700, t0)
		if err := tx.AddTransaction(ctx, &tr); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatalf("rollback: %v", err)
		}

		equal(t, "balance", findUser(t, s, a.ID).Balance, domain.Money(1100))
		list, total := findTransactions(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "transactions", len(list), 1)
		equal(t, "total", total, 1)
		equal(t, "balance after of the next add", addTransaction(t, s, a.ID, 1, t0).BalanceAfter, domain.Money(1101))
	})

	t.Run("list newest first", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var aIDs []int64
		for i := range 5 {
			// Times run backward, so an order by time instead of id fails.
			aIDs = append(aIDs, addTransaction(t, s, a.ID, domain.Money(i+1), t0.Add(-time.Duration(i)*time.Hour)).ID)
			if i == 1 {
				addTransaction(t, s, b.ID, 7, t0)
			}
		}

		tests := []struct {
			name string
			page domain.Page
			want []int64
		}{
			{name: "first page", page: domain.Page{Limit: 2}, want: []int64{aIDs[4], aIDs[3]}},
			{name: "middle page", page: domain.Page{Limit: 2, Offset: 2}, want: []int64{aIDs[2], aIDs[1]}},
			{name: "last page", page: domain.Page{Limit: 2, Offset: 4}, want: []int64{aIDs[0]}},
			{name: "exact end", page: domain.Page{Limit: 5}, want: []int64{aIDs[4], aIDs[3], aIDs[2], aIDs[1], aIDs[0]}},
			{name: "past the end", page: domain.Page{Limit: 2, Offset: 9}, want: []int64{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list, total := findTransactions(t, s, a.ID, tt.page)
				equal(t, "ids of "+label(tt.page), ids(list, transactionID), tt.want)
				equal(t, "total", total, 5)
			})
		}

		t.Run("balances add up", func(t *testing.T) {
			list, _ := findTransactions(t, s, a.ID, domain.Page{Limit: 10})
			balance := a.Balance
			for i := len(list) - 1; i >= 0; i-- {
				balance += list[i].Amount
				equal(t, "balance after transaction", list[i].BalanceAfter, balance)
			}
			equal(t, "user balance", findUser(t, s, a.ID).Balance, balance)
		})
	})

	t.Run("scan", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var aIDs []int64
		for i := range 5 {
			aIDs = append(aIDs, addTransaction(t, s, a.ID, domain.Money(i+1), t0).ID)
			addTransaction(t, s, b.ID, 1, t0)
		}

		tests := []struct {
			name    string
			afterID int64
			limit   int
			want    []int64
		}{
			{name: "from the start", afterID: 0, limit: 2, want: aIDs[:2]},
			{name: "after an id", afterID: aIDs[1], limit: 2, want: aIDs[2:4]},
			{name: "after another user's id", afterID: aIDs[1] + 1, limit: 10, want: aIDs[2:]},
			{name: "to the end", afterID: aIDs[3], limit: 10, want: aIDs[4:]},
			{name: "after the last", afterID: aIDs[4], limit: 10, want: []int64{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.ScanTransactions(ctx, a.ID, tt.afterID, tt.limit)
					if err != nil {
						return err
					}
					equal(t, "ids", ids(got, transactionID), tt.want)
					for _, tr := range got {
						equal(t, "user id", tr.UserID, a.ID)
					}
					return nil
				})
			})
		}
	})

	t.Run("sum by month", testSumByMonth(open))
}

func testSumByMonth(open func(t *testing.T) storage.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		east := time.FixedZone("UTC+5", 5*60*60)

		rows := []struct {
			amount domain.Money
			at     time.Time
		}{
			{amount: 100, at: time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC)},
			{amount: 200, at: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
			{amount: -50, at: time.Date(2024, 1, 31, 23, 59, 59, 999999000, time.UTC)},
			{amount: 0, at: time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)},
			{amount: 300, at: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
			// 2024-03-01 01:00 at UTC+5 is still February in UTC.
			{amount: -70, at: time.Date(2024, 3, 1, 1, 0, 0, 0, east)},
			{amount: -5, at: time.Date(2024, 4, 30, 23, 0, 0, 0, time.UTC)},
			{amount: 1, at: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)},
		}
		for _, r := range rows {
			addTransaction(t, s, a.ID, r.amount, r.at)
		}
		addTransaction(t, s, b.ID, 1000, time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC))
		addTransaction(t, s, b.ID, 1000, time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC))

		all := []domain.MonthTotal{
			{Month: "1969-12", Credits: 100, Debits: 0, Transactions: 1},
			{Month: "2024-01", Credits: 200, Debits: 50, Transactions: 3},
			{Month: "2024-02", Credits: 300, Debits: 70, Transactions: 2},
			{Month: "2024-04", Credits: 1, Debits: 5, Transactions: 2},
		}
		tests := []struct {
			name   string
			userID int64
			since  time.Time
			want   []domain.MonthTotal
		}{
			{name: "all", userID: a.ID, since: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), want: all},
			{name: "since month start", userID: a.ID, since: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), want: all[1:]},
			{name: "since is inclusive", userID: a.ID, since: time.Date(2024, 1, 31, 23, 59, 59, 999999000, time.UTC), want: []domain.MonthTotal{
				{Month: "2024-01", Credits: 0, Debits: 50, Transactions: 1},
				all[2], all[3],
			}},
			{name: "since one microsecond later", userID: a.ID, since: time.Date(2024, 2, 1, 0, 0, 0, 1000, time.UTC), want: []domain.MonthTotal{
				{Month: "2024-02", Credits: 0, Debits: 70, Transactions: 1},
				all[3],
			}},
			{name: "since in another zone", userID: a.ID, since: time.Date(2024, 2, 1, 5, 0, 0, 0, east), want: all[2:]},
			{name: "after the last", userID: a.ID, since: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), want: []domain.MonthTotal{}},
			{name: "other user", userID: b.ID, since: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), want: []domain.MonthTotal{
				{Month: "2024-01", Credits: 1000, Transactions: 1},
				{Month: "2024-03", Credits: 1000, Transactions: 1},
			}},
			{name: "missing user", userID: b.ID + 10, since: time.Time{}, want: []domain.MonthTotal{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.SumTransactionsByMonth(ctx, tt.userID, tt.since)
					if err != nil {
						return err
					}
					if len(tt.want) == 0 {
						equal(t, "month totals", len(got), 0)
						return nil
					}
					equal(t, "month totals", got, tt.want)
					return nil
				})
			})
		}
	}
}

// newInvoice returns an invoice of userID with one item per amount, each
// of quantity 1, and the sum of the amounts as Total.
func newInvoice(userID int64, status, description string, at time.Time, amounts ...domain.Money) domain.Invoice {
	inv := domain.Invoice{
		UserID:      userID,
		Status:      status,
		Description: description,
		CreatedAt:   at,
		DueAt:       at.Add(30 * 24 * time.Hour),
	}
	for _, amount := range amounts {
		inv.Items = append(inv.Items, domain.InvoiceItem{
			Description: "item " + amount.String(),
			Quantity:    1,
			UnitPrice:   amount,
			Amount:      amount,
		})
		inv.Total += amount
	}
	return inv
}

func createInvoice(tb testing.TB, s storage.Store, inv domain.Invoice) domain.Invoice {
	tb.Helper()
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInvoice(ctx, &inv) })
	return inv
}

func invoiceID(inv domain.Invoice) int64 { return inv.ID }

// equalInvoice fails the test unless got equals want, treating nil and
// empty Items as the same.
func equalInvoice(tb testing.TB, what string, got, want domain.Invoice) {
	tb.Helper()
	if len(got.Items) == 0 {
		got.Items = nil
	}
	if len(want.Items) == 0 {
		want.Items = nil
	}
	equal(tb, what, got, want)
}

func testInvoices(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("create sets ids", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		inv := newInvoice(a.ID, domain.InvoicePending, "May hosting", t0, 500, 250)
		inv.Items[0].Quantity = 2
		inv.Items[0].UnitPrice = 250
		created := createInvoice(t, s, inv)

		equal(t, "first invoice id", created.ID, int64(1))
		var itemIDs []int64
		for i, item := range created.Items {
			equal(t, "item invoice id", item.InvoiceID, created.ID)
			if item.ID == 0 {
				t.Fatalf("item %d has no id", i)
			}
			if i > 0 && item.ID <= itemIDs[i-1] {
				t.Fatalf("item ids %v then %d, want ascending", itemIDs, item.ID)
			}
			itemIDs = append(itemIDs, item.ID)
		}

		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.FindInvoice(ctx, a.ID, created.ID)
			if err != nil {
				return err
			}
			equalInvoice(t, "invoice", *got, created)
			return nil
		})
	})

	t.Run("total stored as given", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		inv := newInvoice(a.ID, domain.InvoicePaid, "adjusted", t0, 100)
		inv.Total = 12345
		created := createInvoice(t, s, inv)
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.FindInvoice(ctx, a.ID, created.ID)
			if err != nil {
				return err
			}
			equal(t, "total", got.Total, domain.Money(12345))
			return nil
		})
	})

	t.Run("invoice without items", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		created := createInvoice(t, s, newInvoice(a.ID, domain.InvoicePending, "empty", t0))
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.FindInvoice(ctx, a.ID, created.ID)
			if err != nil {
				return err
			}
			equalInvoice(t, "invoice", *got, created)
			return nil
		})
	})

	t.Run("missing user", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		inv := newInvoice(a.ID+10, domain.InvoicePending, "nobody", t0, 100)
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInvoice(ctx, &inv) })
		wantErr(t, err, domain.ErrNotFound)
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			n, err := tx.CountInvoices(ctx, storage.InvoiceFilter{UserID: a.ID + 10})
			if err != nil {
				return err
			}
			equal(t, "invoices of missing user", n, 0)
			return nil
		})
	})

	t.Run("find checks owner", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		inv := createInvoice(t, s, newInvoice(a.ID, domain.InvoicePending, "mine", t0, 100))

		tests := []struct {
			name   string
			userID int64
			id     int64
		}{
			{name: "other user", userID: b.ID, id: inv.ID},
			{name: "missing invoice", userID: a.ID, id: inv.ID + 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tryRead(s, func(ctx context.Context, tx storage.Tx) error {
					_, err := tx.FindInvoice(ctx, tt.userID, tt.id)
					return err
				})
				wantErr(t, err, domain.ErrNotFound)
			})
		}
	})

	t.Run("list", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		statuses := []string{domain.InvoicePending, domain.InvoicePaid, domain.InvoicePending, domain.InvoiceOverdue, domain.InvoicePending}
		var created []domain.Invoice
		for i, status := range statuses {
			// Times run backward, so an order by time instead of id fails.
			at := t0.Add(-time.Duration(i) * time.Hour)
			created = append(created, createInvoice(t, s, newInvoice(a.ID, status, "invoice", at, domain.Money(100*(i+1)), 1)))
			if i == 1 {
				createInvoice(t, s, newInvoice(b.ID, domain.InvoicePending, "other", t0, 5))
			}
		}
		id := func(i int) int64 { return created[i].ID }

		tests := []struct {
			name   string
			filter storage.InvoiceFilter
			page   domain.Page
			want   []int64
			total  int
		}{
			{name: "all newest first", filter: storage.InvoiceFilter{UserID: a.ID}, page: domain.Page{Limit: 10}, want: []int64{id(4), id(3), id(2), id(1), id(0)}, total: 5},
			{name: "first page", filter: storage.InvoiceFilter{UserID: a.ID}, page: domain.Page{Limit: 2}, want: []int64{id(4), id(3)}, total: 5},
			{name: "last page", filter: storage.InvoiceFilter{UserID: a.ID}, page: domain.Page{Limit: 2, Offset: 4}, want: []int64{id(0)}, total: 5},
			{name: "past the end", filter: storage.InvoiceFilter{UserID: a.ID}, page: domain.Page{Limit: 2, Offset: 5}, want: []int64{}, total: 5},
			{name: "pending", filter: storage.InvoiceFilter{UserID: a.ID, Status: domain.InvoicePending}, page: domain.Page{Limit: 10}, want: []int64{id(4), id(2), id(0)}, total: 3},
			{name: "pending page", filter: storage.InvoiceFilter{UserID: a.ID, Status: domain.InvoicePending}, page: domain.Page{Limit: 1, Offset: 1}, want: []int64{id(2)}, total: 3},
			{name: "paid", filter: storage.InvoiceFilter{UserID: a.ID, Status: domain.InvoicePaid}, page: domain.Page{Limit: 10}, want: []int64{id(1)}, total: 1},
			{name: "overdue", filter: storage.InvoiceFilter{UserID: a.ID, Status: domain.InvoiceOverdue}, page: domain.Page{Limit: 10}, want: []int64{id(3)}, total: 1},
			{name: "unknown status", filter: storage.InvoiceFilter{UserID: a.ID, Status: "void"}, page: domain.Page{Limit: 10}, want: []int64{}, total: 0},
			{name: "other user", filter: storage.InvoiceFilter{UserID: b.ID}, page: domain.Page{Limit: 10}, want: []int64{created[1].ID + 1}, total: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					list, total, err := tx.FindInvoices(ctx, tt.filter, tt.page)
					if err != nil {
						return err
					}
					equal(t, "ids of "+label(tt.page), ids(list, invoiceID), tt.want)
					equal(t, "total", total, tt.total)
					for _, inv := range list {
						equal(t, "items of listed invoice", len(inv.Items), 0)
					}

					n, err := tx.CountInvoices(ctx, tt.filter)
					if err != nil {
						return err
					}
					equal(t, "count", n, tt.total)
					return nil
				})
			})
		}

		t.Run("fields", func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				list, _, err := tx.FindInvoices(ctx, storage.InvoiceFilter{UserID: a.ID, Status: domain.InvoiceOverdue}, domain.Page{Limit: 10})
				if err != nil {
					return err
				}
				want := created[3]
				want.Items = nil
				equal(t, "invoices", len(list), 1)
				equalInvoice(t, "listed invoice", list[0], want)
				return nil
			})
		})
	})

	t.Run("scan with items", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var created []domain.Invoice
		for i := range 4 {
			amounts := make([]domain.Money, i)
			for j := range amounts {
				amounts[j] = domain.Money(10*i + j)
			}
			created = append(created, createInvoice(t, s, newInvoice(a.ID, domain.InvoicePaid, "scan", t0, amounts...)))
			createInvoice(t, s, newInvoice(b.ID, domain.InvoicePaid, "other", t0, 99))
		}

		tests := []struct {
			name    string
			afterID int64
			limit   int
			want    []domain.Invoice
		}{
			{name: "from the start", afterID: 0, limit: 2, want: created[:2]},
			{name: "after an id", afterID: created[1].ID, limit: 10, want: created[2:]},
			{name: "after another user's id", afterID: created[0].ID + 1, limit: 1, want: created[1:2]},
			{name: "after the last", afterID: created[3].ID, limit: 10, want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.ScanInvoices(ctx, a.ID, tt.afterID, tt.limit)
					if err != nil {
						return err
					}
					equal(t, "ids", ids(got, invoiceID), ids(tt.want, invoiceID))
					for i := range got {
						equalInvoice(t, "scanned invoice", got[i], tt.want[i])
					}
					return nil
				})
			})
		}
	})

	t.Run("caller cannot change stored items", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		inv := createInvoice(t, s, newInvoice(a.ID, domain.InvoicePending, "mine", t0, 100))
		inv.Items[0].Description = "changed"
		find := func() *domain.Invoice {
			var got *domain.Invoice
			view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
				got, err = tx.FindInvoice(ctx, a.ID, inv.ID)
				return err
			})
			return got
		}
		find().Items[0].Description = "changed too"
		equal(t, "stored item description", find().Items[0].Description, "item 1.00")
	})
}

func testPurchases(t *testing.T, open func(t *testing.T) storage.Store) {
	// purchase records a purchase transaction and the purchase it paid
	// for in one writable transaction.
	purchase := func(t *testing.T, s storage.Store, userID int64, amount domain.Money, at time.Time) domain.Purchase {
		t.Helper()
		var p domain.Purchase
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			tr := domain.Transaction{UserID: userID, Type: domain.TxPurchase, Amount: -amount, Description: "buy", CreatedAt: at}
			if err := tx.AddTransaction(ctx, &tr); err != nil {
				return err
			}
			p = domain.Purchase{UserID: userID, TransactionID: tr.ID, Description: "SSL certificate", Amount: amount, CreatedAt: at}
			return tx.CreatePurchase(ctx, &p)
		})
		return p
	}
	find := func(t *testing.T, s storage.Store, userID int64, p domain.Page) ([]domain.Purchase, int) {
		t.Helper()
		var (
			list  []domain.Purchase
			total int
		)
		view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			list, total, err = tx.FindPurchases(ctx, userID, p)
			return err
		})
		return list, total
	}
	purchaseID := func(p domain.Purchase) int64 { return p.ID }

	t.Run("create and list", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		p := purchase(t, s, a.ID, 300, t0)
		equal(t, "first purchase id", p.ID, int64(1))
		list, total := find(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "purchases", list, []domain.Purchase{p})
		equal(t, "total", total, 1)
		equal(t, "balance", findUser(t, s, a.ID).Balance, domain.Money(750))
	})

	t.Run("list newest first", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var aIDs []int64
		for i := range 4 {
			aIDs = append(aIDs, purchase(t, s, a.ID, domain.Money(i+1), t0.Add(-time.Duration(i)*time.Hour)).ID)
			if i == 0 {
				purchase(t, s, b.ID, 5, t0)
			}
		}

		tests := []struct {
			name string
			page domain.Page
			want []int64
		}{
			{name: "first page", page: domain.Page{Limit: 3}, want: []int64{aIDs[3], aIDs[2], aIDs[1]}},
			{name: "second page", page: domain.Page{Limit: 3, Offset: 3}, want: []int64{aIDs[0]}},
			{name: "past the end", page: domain.Page{Limit: 3, Offset: 4}, want: []int64{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list, total := find(t, s, a.ID, tt.page)
				equal(t, "ids of "+label(tt.page), ids(list, purchaseID), tt.want)
				equal(t, "total", total, 4)
			})
		}

		list, total := find(t, s, b.ID, domain.Page{Limit: 10})
		equal(t, "other user's purchases", len(list), 1)
		equal(t, "other user's total", total, 1)
	})

	t.Run("rollback", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		ctx := context.Background()
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		tr := domain.Transaction{UserID: a.ID, Type: domain.TxPurchase, Amount: -10, CreatedAt: t0}
		if err := tx.AddTransaction(ctx, &tr); err != nil {
			t.Fatal(err)
		}
		p := domain.Purchase{UserID: a.ID, TransactionID: tr.ID, Amount: 10, CreatedAt: t0}
		if err := tx.CreatePurchase(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		list, total := find(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "purchases", len(list), 0)
		equal(t, "total", total, 0)
		equal(t, "balance", findUser(t, s, a.ID).Balance, a.Balance)
	})
}
