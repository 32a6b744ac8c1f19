package storagetest

import (
	"context"
	"fmt"
	"math"
	"strings"
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
	t.Run("references", func(t *testing.T) { testReferences(t, open) })
}

// findByReference returns the user's transaction with the reference, or
// the error of FindTransactionByReference.
func findByReference(s storage.Store, userID int64, reference string) (*domain.Transaction, error) {
	var tr *domain.Transaction
	err := tryRead(s, func(ctx context.Context, tx storage.Tx) (err error) {
		tr, err = tx.FindTransactionByReference(ctx, userID, reference)
		return err
	})
	return tr, err
}

// addReferenced stores a transaction of amount with the reference and
// returns it with its ID and BalanceAfter set.
func addReferenced(tb testing.TB, s storage.Store, userID int64, amount domain.Money, reference string) domain.Transaction {
	tb.Helper()
	tr := newTransaction(userID, amount, t0)
	tr.Reference = reference
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddTransaction(ctx, &tr) })
	return tr
}

func testReferences(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("duplicate conflicts and changes nothing", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		first := addReferenced(t, s, a.ID, 100, "pay-1")

		// Each failed add must leave the balance and the rows as they
		// were, and the transaction usable, so the writes after it commit.
		var (
			second                                     domain.Transaction
			committedDuplicateErr, pendingDuplicateErr error
			balanceAfterCommittedDuplicate             domain.Money
			balanceAfterPendingDuplicate               domain.Money
			transactionsAfterPendingDuplicate          int
		)
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			duplicate := newTransaction(a.ID, 500, t0)
			duplicate.Reference = "pay-1"
			committedDuplicateErr = tx.AddTransaction(ctx, &duplicate)
			u, err := tx.FindUserByID(ctx, a.ID)
			if err != nil {
				return err
			}
			balanceAfterCommittedDuplicate = u.Balance

			second = newTransaction(a.ID, 7, t0)
			second.Reference = "pay-2"
			if err := tx.AddTransaction(ctx, &second); err != nil {
				return err
			}
			duplicate = newTransaction(a.ID, 9, t0)
			duplicate.Reference = "pay-2"
			pendingDuplicateErr = tx.AddTransaction(ctx, &duplicate)
			if u, err = tx.FindUserByID(ctx, a.ID); err != nil {
				return err
			}
			balanceAfterPendingDuplicate = u.Balance
			if _, transactionsAfterPendingDuplicate, err = tx.FindTransactions(ctx, a.ID, domain.Page{Limit: 10}); err != nil {
				return err
			}
			return tx.UpdateProfile(ctx, a.ID, domain.ProfileUpdate{Bio: ptr("after conflict")})
		})

		wantErr(t, committedDuplicateErr, domain.ErrConflict)
		wantErr(t, pendingDuplicateErr, domain.ErrConflict)
		equal(t, "balance after the duplicate of a committed reference", balanceAfterCommittedDuplicate, domain.Money(1150))
		equal(t, "balance after of the next add", second.BalanceAfter, domain.Money(1157))
		equal(t, "balance after the duplicate of a reference in the same transaction", balanceAfterPendingDuplicate, domain.Money(1157))
		equal(t, "transactions after the duplicate in the same transaction", transactionsAfterPendingDuplicate, 2)

		got := findUser(t, s, a.ID)
		equal(t, "balance", got.Balance, domain.Money(1157))
		equal(t, "bio written after the conflicts", got.Bio, "after conflict")
		list, total := findTransactions(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "transactions", list, []domain.Transaction{second, first})
		equal(t, "total", total, 2)
	})

	t.Run("same reference for two users", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		forA := addReferenced(t, s, a.ID, 100, "pay-1")
		forB := addReferenced(t, s, b.ID, 200, "pay-1")

		got, err := findByReference(s, a.ID, "pay-1")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "transaction of the first user", *got, forA)
		got, err = findByReference(s, b.ID, "pay-1")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "transaction of the second user", *got, forB)
	})

	t.Run("empty references never conflict", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		addReferenced(t, s, a.ID, 1, "x")
		for i := range 3 {
			tr := addReferenced(t, s, a.ID, 10, "")
			equal(t, "balance after empty reference "+fmt.Sprint(i), tr.BalanceAfter, domain.Money(1051+10*(i+1)))
		}
		_, total := findTransactions(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "total", total, 4)
		_, err := findByReference(s, a.ID, "")
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("round-trips through every read", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		long := strings.Repeat("ä", domain.MaxReferenceLen/2) + "x"
		if len(long) != domain.MaxReferenceLen {
			t.Fatalf("test reference has %d bytes, want %d", len(long), domain.MaxReferenceLen)
		}
		plain := addReferenced(t, s, a.ID, 5, "")
		referenced := addReferenced(t, s, a.ID, 6, "stripe:ch_3PqÄ 'quoted' %_")
		longest := addReferenced(t, s, a.ID, 7, long)
		want := []domain.Transaction{plain, referenced, longest}

		list, _ := findTransactions(t, s, a.ID, domain.Page{Limit: 10})
		equal(t, "listed transactions", list, []domain.Transaction{longest, referenced, plain})
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.ScanTransactions(ctx, a.ID, 0, 10)
			if err != nil {
				return err
			}
			equal(t, "scanned transactions", got, want)
			return nil
		})
		for _, tr := range want[1:] {
			got, err := findByReference(s, a.ID, tr.Reference)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "transaction found by reference", *got, tr)
		}
	})

	t.Run("find by reference not found", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		addReferenced(t, s, a.ID, 100, "pay-1")

		tests := []struct {
			name      string
			userID    int64
			reference string
		}{
			{name: "other user's reference", userID: b.ID, reference: "pay-1"},
			{name: "unknown reference", userID: a.ID, reference: "pay-2"},
			{name: "other case", userID: a.ID, reference: "PAY-1"},
			{name: "prefix", userID: a.ID, reference: "pay-"},
			{name: "missing user", userID: b.ID + 10, reference: "pay-1"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := findByReference(s, tt.userID, tt.reference)
				wantErr(t, err, domain.ErrNotFound)
				if got != nil {
					t.Fatalf("transaction = %+v, want nil", got)
				}
			})
		}
	})

	t.Run("failed add leaves the reference free", func(t *testing.T) {
		s := open(t)
		u := newUser("ada@example.com")
		u.Balance = math.MaxInt64 - 10
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateUser(ctx, &u) })

		var overflow error
		var next domain.Transaction
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			tr := newTransaction(u.ID, 11, t0)
			tr.Reference = "pay-1"
			overflow = tx.AddTransaction(ctx, &tr)
			next = newTransaction(u.ID, 1, t0)
			next.Reference = "pay-1"
			return tx.AddTransaction(ctx, &next)
		})
		if overflow == nil {
			t.Fatal("add over the maximum balance succeeded, want an error")
		}
		got, err := findByReference(s, u.ID, "pay-1")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "transaction found by reference", *got, next)
	})

	t.Run("rollback frees the reference", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		ctx := context.Background()
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		tr := newTransaction(a.ID, 100, t0)
		tr.Reference = "pay-1"
		if err := tx.AddTransaction(ctx, &tr); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}

		_, err = findByReference(s, a.ID, "pay-1")
		wantErr(t, err, domain.ErrNotFound)
		again := addReferenced(t, s, a.ID, 100, "pay-1")
		equal(t, "balance after of the add after rollback", again.BalanceAfter, domain.Money(1150))
	})
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
func equalInvoice(tb testing.TB, label string, got, want domain.Invoice) {
	tb.Helper()
	if len(got.Items) == 0 {
		got.Items = nil
	}
	if len(want.Items) == 0 {
		want.Items = nil
	}
	equal(tb, label, got, want)
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
	findByTransaction := func(s storage.Store, userID, transactionID int64) (*domain.Purchase, error) {
		var p *domain.Purchase
		err := tryRead(s, func(ctx context.Context, tx storage.Tx) (err error) {
			p, err = tx.FindPurchaseByTransaction(ctx, userID, transactionID)
			return err
		})
		return p, err
	}

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

	t.Run("create needs a transaction of the user", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		ofA := addTransaction(t, s, a.ID, -10, t0)
		ofB := addTransaction(t, s, b.ID, -10, t0)

		tests := []struct {
			name          string
			userID        int64
			transactionID int64
		}{
			{name: "other user's transaction", userID: a.ID, transactionID: ofB.ID},
			{name: "missing transaction", userID: a.ID, transactionID: ofB.ID + 10},
			{name: "missing user", userID: b.ID + 10, transactionID: ofA.ID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// The failed create must store nothing even in its own
				// transaction, which then commits.
				var (
					createErr error
					stored    []domain.Purchase
				)
				update(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
					p := domain.Purchase{UserID: tt.userID, TransactionID: tt.transactionID, Description: "stolen", Amount: 10, CreatedAt: t0}
					createErr = tx.CreatePurchase(ctx, &p)
					stored, err = tx.ScanPurchases(ctx, tt.userID, 0, 10)
					return err
				})
				wantErr(t, createErr, domain.ErrNotFound)
				equal(t, "purchases of the user in the same transaction", len(stored), 0)

				for _, u := range []domain.User{a, b} {
					list, total := find(t, s, u.ID, domain.Page{Limit: 10})
					equal(t, "purchases of "+u.Email, len(list), 0)
					equal(t, "total of "+u.Email, total, 0)
				}
				_, err := findByTransaction(s, tt.userID, tt.transactionID)
				wantErr(t, err, domain.ErrNotFound)
			})
		}
	})

	t.Run("find by transaction", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		first := purchase(t, s, a.ID, 100, t0)
		ofB := purchase(t, s, b.ID, 200, t0)
		second := purchase(t, s, a.ID, 300, t0.Add(time.Hour))
		credit := addTransaction(t, s, a.ID, 50, t0)

		found := []domain.Purchase{first, second, ofB}
		for _, want := range found {
			got, err := findByTransaction(s, want.UserID, want.TransactionID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "purchase of transaction "+fmt.Sprint(want.TransactionID), *got, want)
		}

		tests := []struct {
			name          string
			userID        int64
			transactionID int64
		}{
			{name: "other user's purchase", userID: a.ID, transactionID: ofB.TransactionID},
			{name: "own purchase asked by other user", userID: b.ID, transactionID: first.TransactionID},
			{name: "transaction without purchase", userID: a.ID, transactionID: credit.ID},
			{name: "missing transaction", userID: a.ID, transactionID: credit.ID + 10},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := findByTransaction(s, tt.userID, tt.transactionID)
				wantErr(t, err, domain.ErrNotFound)
				if got != nil {
					t.Fatalf("purchase = %+v, want nil", got)
				}
			})
		}
	})

	t.Run("scan", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var created []domain.Purchase
		for i := range 4 {
			// Times run backward, so an order by time instead of id fails.
			created = append(created, purchase(t, s, a.ID, domain.Money(i+1), t0.Add(-time.Duration(i)*time.Hour)))
			purchase(t, s, b.ID, 9, t0)
		}

		tests := []struct {
			name    string
			afterID int64
			limit   int
			want    []domain.Purchase
		}{
			{name: "from the start", afterID: 0, limit: 2, want: created[:2]},
			{name: "after an id", afterID: created[1].ID, limit: 10, want: created[2:]},
			{name: "after another user's id", afterID: created[0].ID + 1, limit: 1, want: created[1:2]},
			{name: "exact end", afterID: 0, limit: 4, want: created},
			{name: "limit zero", afterID: 0, limit: 0, want: []domain.Purchase{}},
			{name: "after the last", afterID: created[3].ID, limit: 10, want: []domain.Purchase{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.ScanPurchases(ctx, a.ID, tt.afterID, tt.limit)
					if err != nil {
						return err
					}
					equal(t, "ids", ids(got, purchaseID), ids(tt.want, purchaseID))
					equal(t, "purchases", got, tt.want)
					return nil
				})
			})
		}
	})
}
