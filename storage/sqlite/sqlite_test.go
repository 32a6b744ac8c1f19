package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "sharepanel.db"))
	})
}

// mustOpen opens the store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// rawDB opens path with the driver directly, for inspecting the file.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func createUser(tb testing.TB, s storage.Store, email string) domain.User {
	tb.Helper()
	u, err := tryCreateUser(s, email)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// tryCreateUser creates a user; unlike createUser it may run on any
// goroutine.
func tryCreateUser(s storage.Store, email string) (domain.User, error) {
	u := domain.User{Username: email, Email: email, Plan: "free", CreatedAt: time.Unix(1700000000, 0).UTC()}
	err := storage.WithTx(context.Background(), s, true, func(tx storage.Tx) error {
		return tx.CreateUser(context.Background(), &u)
	})
	if err != nil {
		return u, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

func countUsers(tb testing.TB, s storage.Store) int {
	tb.Helper()
	var n int
	err := storage.WithTx(context.Background(), s, false, func(tx storage.Tx) (err error) {
		n, err = tx.CountUsers(context.Background())
		return err
	})
	if err != nil {
		tb.Fatalf("count users: %v", err)
	}
	return n
}

func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sharepanel.db")
	versions := func() map[int]string {
		t.Helper()
		rows, err := rawDB(t, path).Query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int]string{}
		for rows.Next() {
			var (
				v  int
				at string
			)
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			out[v] = at
		}
		return out
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	createUser(t, s, "ada@example.com")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	first := versions()
	if len(first) != len(migrations) {
		t.Fatalf("recorded %d migrations, want %d", len(first), len(migrations))
	}
	for v := 1; v <= len(migrations); v++ {
		if _, err := time.Parse(time.RFC3339, first[v]); err != nil {
			t.Fatalf("version %d applied_at %q: %v", v, first[v], err)
		}
	}

	// Reopening applies nothing and keeps the data.
	s = mustOpen(t, path)
	if n := countUsers(t, s); n != 1 {
		t.Fatalf("user count after reopen = %d, want 1", n)
	}
	second := versions()
	if fmt.Sprint(second) != fmt.Sprint(first) {
		t.Fatalf("migrations after reopen = %v, want %v", second, first)
	}
}

func TestMigrationChainsExistingActivities(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sharepanel.db")

	// Create a database of version 2, whose activities have no hashes.
	old, err := sql.Open(driverName, dsn(path, "rwc", "immediate")+"&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, old, migrations[:2]); err != nil {
		t.Fatalf("apply migrations 1 and 2: %v", err)
	}
	users := []int64{}
	balances := []domain.Money{4200, 0, 5}
	for i, email := range []string{"ada@example.com", "bob@example.com", "cy@example.com"} {
		res, err := old.Exec(`INSERT INTO users (username, email, password_hash, bio, pfp, plan, verified,
	balance, first_name, last_name, phone, address, created_at)
VALUES (?, ?, '', '', '', 'free', 0, ?, '', '', '', '', 0)`, email, email, int64(balances[i]))
		if err != nil {
			t.Fatal(err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, id)
	}

	// More rows than one backfill batch, interleaved between two users,
	// so batches end in the middle of a user's log. The third user has
	// no activities.
	rows := 2*chainBatch + 7
	insert, err := old.Begin()
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	for i := range rows {
		userID := users[0]
		if i%3 == 2 {
			userID = users[1]
		}
		_, err := insert.Exec(`INSERT INTO activities (user_id, action, subject, client_ip, created_at) VALUES (?, ?, ?, ?, ?)`,
			userID, fmt.Sprintf("action %d", i), "subject", "192.0.2.1", base.Add(time.Duration(i)*time.Second).UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := insert.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustOpen(t, path)
	seen := 0
	for _, userID := range users {
		var (
			prev    []byte
			afterID int64
		)
		for {
			var batch []domain.Activity
			err := storage.WithTx(ctx, s, false, func(tx storage.Tx) (err error) {
				batch, err = tx.ScanActivities(ctx, userID, afterID, 100)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(batch) == 0 {
				break
			}
			for _, a := range batch {
				if !bytes.Equal(a.PrevHash, prev) {
					t.Fatalf("activity %d of user %d: prev hash = %x, want %x", a.ID, userID, a.PrevHash, prev)
				}
				if want := domain.ActivityHash(prev, &a); !bytes.Equal(a.Hash, want) {
					t.Fatalf("activity %d of user %d: hash = %x, want %x", a.ID, userID, a.Hash, want)
				}
				prev, afterID = a.Hash, a.ID
				seen++
			}
		}
	}
	if seen != rows {
		t.Fatalf("checked %d activities, want %d", seen, rows)
	}

	// Each balance set before migration 3 is one opening transaction.
	for i, userID := range users {
		var list []domain.Transaction
		err := storage.WithTx(ctx, s, false, func(tx storage.Tx) (err error) {
			list, err = tx.ScanTransactions(ctx, userID, 0, 10)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if balances[i] == 0 {
			if len(list) != 0 {
				t.Errorf("user %d without a balance has transactions %+v", userID, list)
			}
			continue
		}
		if len(list) != 1 || list[0].Amount != balances[i] || list[0].BalanceAfter != balances[i] || list[0].Type != domain.TxCredit {
			t.Errorf("user %d with balance %s has transactions %+v, want one opening credit", userID, balances[i], list)
			continue
		}
		if list[0].Reference != "" {
			t.Errorf("opening transaction of user %d has reference %q, want none", userID, list[0].Reference)
		}
	}

	// A new entry chains onto the backfilled log.
	err = storage.WithTx(ctx, s, true, func(tx storage.Tx) error {
		last, err := tx.LastActivity(ctx, users[0])
		if err != nil {
			return err
		}
		next := domain.Activity{UserID: users[0], Action: "login", CreatedAt: base}
		domain.ChainActivity(last.Hash, &next)
		if err := tx.AddActivity(ctx, &next); err != nil {
			return err
		}
		got, err := tx.ScanActivities(ctx, users[0], last.ID, 10)
		if err != nil {
			return err
		}
		if len(got) != 1 || !bytes.Equal(got[0].PrevHash, last.Hash) {
			return fmt.Errorf("entry after the backfilled log = %+v, want one with prev hash %x", got, last.Hash)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListQueriesUseIndexes(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "sharepanel.db"))
	tests := []struct {
		name  string
		query string
		args  []any
		// index is the index search that the plan must contain.
		index string
		// sorts is true for a query whose GROUP BY needs a temporary
		// B-tree even though its WHERE uses an index.
		sorts bool
	}{
		{name: "transactions", query: qFindTransactions, args: []any{1, 10, 0}, index: "transactions_user_id_id (user_id=?)"},
		{name: "transactions scan", query: qScanTransactions, args: []any{1, 0, 10}, index: "transactions_user_id_id (user_id=? AND id>?)"},
		{name: "transaction by reference", query: qFindTransactionByReference, args: []any{1, "pay-1"}, index: "transactions_user_id_reference (user_id=? AND reference=?)"},
		{name: "transactions by month", query: qSumTransactionsByMonth, args: []any{1, 0}, index: "transactions_user_id_created_at (user_id=? AND created_at>?)", sorts: true},
		{name: "invoices", query: qFindInvoices, args: []any{1, 10, 0}, index: "invoices_user_id_id (user_id=?)"},
		{name: "invoices count", query: qCountInvoices, args: []any{1}, index: "invoices_user_id_id (user_id=?)"},
		{name: "invoices by status", query: qFindInvoicesByStatus, args: []any{1, "paid", 10, 0}, index: "invoices_user_id_status_id (user_id=? AND status=?)"},
		{name: "invoices count by status", query: qCountInvoicesByStatus, args: []any{1, "paid"}, index: "invoices_user_id_status_id (user_id=? AND status=?)"},
		{name: "invoice items", query: qFindInvoiceItems, args: []any{1}, index: "invoice_items_invoice_id_id (invoice_id=?)"},
		{name: "invoices scan", query: qScanInvoices, args: []any{1, 0, 10}, index: "invoices_user_id_id (user_id=? AND id>?)"},
		{name: "invoice items scan", query: qScanInvoiceItems, args: []any{1, 0, 10}, index: "invoice_items_invoice_id_id (invoice_id=?)"},
		{name: "purchases", query: qFindPurchases, args: []any{1, 10, 0}, index: "purchases_user_id_id (user_id=?)"},
		{name: "purchases scan", query: qScanPurchases, args: []any{1, 0, 10}, index: "purchases_user_id_id (user_id=? AND id>?)"},
		{name: "purchase by transaction", query: qFindPurchaseByTransaction, args: []any{1, 1}, index: "purchases_transaction_id (transaction_id=?)"},
		{name: "create purchase", query: qCreatePurchase, args: []any{1, 1, "", 0, 0}, index: "transactions USING INTEGER PRIMARY KEY (rowid=?)"},
		{name: "notifications", query: qFindNotifications, args: []any{1, 10, 0}, index: "notifications_user_id_id (user_id=?)"},
		{name: "unread notifications", query: qFindUnreadNotifications, args: []any{1, 10, 0}, index: "notifications_user_id_read_id (user_id=? AND read=?)"},
		{name: "unread notifications count", query: qCountUnreadNotifications, args: []any{1}, index: "notifications_user_id_read_id (user_id=? AND read=?)"},
		{name: "mark all notifications read", query: qMarkAllNotificationsRead, args: []any{1, 1}, index: "notifications_user_id_read_id (user_id=? AND read=?)"},
		{name: "activities scan", query: qScanActivities, args: []any{1, 0, 10}, index: "activities_user_id_id (user_id=? AND id>?)"},
		{name: "last activity", query: qLastActivity, args: []any{1}, index: "activities_user_id_id (user_id=?)"},
		{name: "user usage", query: qFindUserUsage, args: []any{1, ""}, index: "PRIMARY KEY (user_id=? AND day>?)"},
		{name: "user key usage", query: qFindUserKeyUsage, args: []any{1, ""}, index: "api_keys_user_id (user_id=?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.reader.db.Query("EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var (
					id, parent, unused int
					detail             string
				)
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(plan, "\n"), tt.index) {
				t.Errorf("plan %q does not search %s", plan, tt.index)
			}
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN ") {
					t.Errorf("plan scans a whole table: %q in %q", step, plan)
				}
				if !tt.sorts && strings.Contains(step, "TEMP B-TREE") {
					t.Errorf("plan sorts: %q in %q", step, plan)
				}
			}
		})
	}
}

func TestEmptyReferenceStoredAsNull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sharepanel.db")
	s := mustOpen(t, path)
	u := createUser(t, s, "ada@example.com")
	err := storage.WithTx(ctx, s, true, func(tx storage.Tx) error {
		for _, reference := range []string{"", "pay-1"} {
			tr := domain.Transaction{UserID: u.ID, Type: domain.TxCredit, Amount: 1, CreatedAt: time.Unix(1700000000, 0), Reference: reference}
			if err := tx.AddTransaction(ctx, &tr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var nulls, total int
	if err := rawDB(t, path).QueryRow("SELECT count(*) - count(reference), count(*) FROM transactions").Scan(&nulls, &total); err != nil {
		t.Fatal(err)
	}
	if total != 2 {
		t.Fatalf("transactions = %d, want 2", total)
	}
	if nulls != 1 {
		t.Fatalf("transactions with a NULL reference = %d, want 1", nulls)
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sharepanel.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := rawDB(t, path).Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'x')", len(migrations)+1); err != nil {
		t.Fatal(err)
	}

	if s, err := Open(path); err == nil {
		s.Close()
		t.Fatal("open of a newer schema succeeded, want an error")
	}
}

func TestOpenRejectsPathWithoutFile(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		t.Run(fmt.Sprintf("%q", path), func(t *testing.T) {
			if s, err := Open(path); err == nil {
				s.Close()
				t.Fatalf("open %q succeeded, want an error", path)
			}
		})
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%d.db")
	s := mustOpen(t, path)
	createUser(t, s, "ada@example.com")
	if n := countUsers(t, mustOpen(t, path)); n != 1 {
		t.Fatalf("user count seen by second store = %d, want 1", n)
	}
}

func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sharepanel.db")
	const stores = 4

	// Each Open plays the part of a separate process, such as the CLI's admin commands
	// while a server runs: all migrate the new file at the same time.
	opened := make([]*Store, stores)
	errs := make([]error, stores)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { opened[i], errs[i] = Open(path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { opened[i].Close() })
	}

	for i, s := range opened {
		wg.Go(func() { _, errs[i] = tryCreateUser(s, fmt.Sprintf("user%d@example.com", i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
	}
	for i, s := range opened {
		if n := countUsers(t, s); n != stores {
			t.Fatalf("store %d sees %d users, want %d", i, n, stores)
		}
	}

	var applied int
	if err := rawDB(t, path).QueryRow("SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(migrations) {
		t.Fatalf("recorded %d migrations, want %d", applied, len(migrations))
	}
}

func TestWriteVisibleToOtherStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sharepanel.db")
	a := mustOpen(t, path)
	b := mustOpen(t, path)

	u := createUser(t, a, "ada@example.com")
	err := storage.WithTx(context.Background(), b, false, func(tx storage.Tx) error {
		got, err := tx.FindUserByEmail(context.Background(), "ADA@example.com")
		if err != nil {
			return err
		}
		if got.ID != u.ID {
			return fmt.Errorf("user id = %d, want %d", got.ID, u.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read from second store: %v", err)
	}

	// The second store's writer waits for the first one's lock instead of
	// failing with SQLITE_BUSY.
	tx, err := a.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := tryCreateUser(b, "bob@example.com")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write from second store: %v", err)
	}
	if n := countUsers(t, a); n != 2 {
		t.Fatalf("user count = %d, want 2", n)
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sharepanel.db")
	s := mustOpen(t, path)

	var journal string
	if err := rawDB(t, path).QueryRow("PRAGMA journal_mode").Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if journal != "wal" {
		t.Fatalf("journal_mode of the file = %q, want wal", journal)
	}

	tests := []struct {
		name   string
		db     *sql.DB
		pragma string
		want   int
	}{
		{name: "writer busy timeout", db: s.writer.db, pragma: "busy_timeout", want: 5000},
		{name: "writer foreign keys", db: s.writer.db, pragma: "foreign_keys", want: 1},
		{name: "writer synchronous normal", db: s.writer.db, pragma: "synchronous", want: 1},
		{name: "reader busy timeout", db: s.reader.db, pragma: "busy_timeout", want: 5000},
		{name: "reader foreign keys", db: s.reader.db, pragma: "foreign_keys", want: 1},
		{name: "reader synchronous normal", db: s.reader.db, pragma: "synchronous", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			if err := tt.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("%s = %d, want %d", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestReaderIsReadOnly(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "sharepanel.db"))
	_, err := s.reader.db.Exec("CREATE TABLE t (x)")
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrReadonly {
		t.Fatalf("write on reader pool: error = %v, want SQLITE_READONLY", err)
	}
}

func TestMapErrorKeepsDriverError(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "sharepanel.db"))
	createUser(t, s, "ada@example.com")
	err := storage.WithTx(context.Background(), s, true, func(tx storage.Tx) error {
		u := domain.User{Email: "ADA@example.com"}
		return tx.CreateUser(context.Background(), &u)
	})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("error = %v, want ErrConflict", err)
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.ExtendedCode != sqlite3.ErrConstraintUnique {
		t.Fatalf("error = %v, want a wrapped SQLITE_CONSTRAINT_UNIQUE", err)
	}
}

// BenchmarkReadPath measures one read-only transaction with the reads a
// request makes: the key by hash, its user, the day's usage and an
// instance count.
func BenchmarkReadPath(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "sharepanel.db"))
	ctx := context.Background()
	u := createUser(b, s, "ada@example.com")
	hash := []byte("0123456789abcdef0123456789abcdef")
	err := storage.WithTx(ctx, s, true, func(tx storage.Tx) error {
		k := domain.APIKey{UserID: u.ID, Name: "k", Prefix: "sp_", Hash: hash, CanRead: true}
		if err := tx.CreateAPIKey(ctx, &k); err != nil {
			return err
		}
		for range 20 {
			in := domain.Instance{UserID: u.ID, Status: domain.StatusActive}
			if err := tx.CreateInstance(ctx, &in); err != nil {
				return err
			}
		}
		return tx.AddUsage(ctx, []domain.Usage{{KeyID: k.ID, Day: "2024-05-06", Count: 3}}, nil)
	})
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := storage.WithTx(ctx, s, false, func(tx storage.Tx) error {
				k, err := tx.FindAPIKeyByHash(ctx, hash)
				if err != nil {
					return err
				}
				if _, err := tx.FindUserByID(ctx, k.UserID); err != nil {
					return err
				}
				if _, err := tx.UserUsageOnDay(ctx, k.UserID, "2024-05-06"); err != nil {
					return err
				}
				_, err = tx.CountInstances(ctx, storage.InstanceFilter{UserID: k.UserID, Status: domain.StatusActive})
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
