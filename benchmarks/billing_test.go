package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/sqlite"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// The list benchmarks below measure one user's first page of invoices and
// of notifications while the database holds 1,000 or 100,000 rows of each
// across 1,000 users. The measured user has the same 100 rows at both
// sizes, so the page and its total are the same and only the other users'
// rows grow. The page cost does not grow with them, because the list and
// its count query read the indexes on (user_id, id) of invoices and
// notifications. SQLite seeks to the user's range in the index and walks
// only that user's entries, so only the depth of the B-tree grows with
// the other users' rows.

const (
	// billingUsers is the number of users at every size, the measured
	// user included.
	billingUsers = 1000
	// measuredRows is the number of invoices, and of notifications, that
	// the measured user has at every size.
	measuredRows = 100
	// billingPageLimit is the limit of every measured list request.
	billingPageLimit = 50
	// seedBatchRows is the number of invoices and notifications written
	// per transaction while seeding.
	seedBatchRows = 10_000
)

// billingSizes are the total numbers of invoices, and of notifications,
// in the database of each benchmark size, in ascending order.
var billingSizes = []int{1000, 100_000}

// billingFixture is a seeded SQLite file with the API serving it.
type billingFixture struct {
	dir        string
	store      *sqlite.Store
	engine     *sharepanel.Engine
	httpServer *httptest.Server
	server     *server
}

// billingFixtures caches one fixture per size for the whole process, so
// that -count and every sub-benchmark reuse the seeded file. TestMain
// closes them and removes their directories.
var billingFixtures struct {
	sync.Mutex
	bySize map[int]*billingFixture
}

// TestMain closes the fixtures that the list benchmarks cached, once every
// test and benchmark has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := closeBillingFixtures(); err != nil {
		fmt.Fprintln(os.Stderr, "close billing fixtures:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// billingServer returns the cached server for a database of rows invoices
// and rows notifications, seeding it on first use.
func billingServer(b *testing.B, rows int) *server {
	b.Helper()
	billingFixtures.Lock()
	defer billingFixtures.Unlock()
	if f, ok := billingFixtures.bySize[rows]; ok {
		return f.server
	}

	dir, err := os.MkdirTemp("", "sharepanel-bench-billing-")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	f, err := openBillingFixture(dir, billingUsers, rows)
	if err != nil {
		os.RemoveAll(dir)
		b.Fatalf("seed %d rows: %v", rows, err)
	}
	b.Logf("seeded %d invoices and %d notifications across %d users in %v", rows, rows, billingUsers, time.Since(start).Round(time.Millisecond))
	if billingFixtures.bySize == nil {
		billingFixtures.bySize = make(map[int]*billingFixture)
	}
	billingFixtures.bySize[rows] = f
	return f.server
}

func closeBillingFixtures() error {
	billingFixtures.Lock()
	defer billingFixtures.Unlock()
	var first error
	for rows, f := range billingFixtures.bySize {
		if err := f.close(); err != nil && first == nil {
			first = err
		}
		delete(billingFixtures.bySize, rows)
	}
	return first
}

// openBillingFixture seeds a SQLite file in dir with users users and rows
// invoices and notifications, and starts the API over it. The caller
// closes the fixture.
func openBillingFixture(dir string, users, rows int) (*billingFixture, error) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(dir, "billing.db"))
	if err != nil {
		return nil, err
	}
	measuredID, err := seedBilling(ctx, store, users, rows)
	if err != nil {
		store.Close()
		return nil, err
	}
	engine, err := sharepanel.New(store, sharepanel.Config{Plans: benchPlans(), BcryptCost: bcrypt.MinCost})
	if err != nil {
		store.Close()
		return nil, err
	}
	key, err := engine.IssueAPIKey(ctx, measuredID, "bench", true, true, nil)
	if err != nil {
		engine.Close()
		store.Close()
		return nil, err
	}
	srv := httptest.NewServer(httpapi.New(engine, httpapi.Options{}))
	return &billingFixture{
		dir: dir, store: store, engine: engine, httpServer: srv,
		server: &server{url: srv.URL, key: key, client: newClient()},
	}, nil
}

func (f *billingFixture) close() error {
	f.httpServer.Close()
	err := f.engine.Close()
	if cerr := f.store.Close(); err == nil {
		err = cerr
	}
	if rerr := os.RemoveAll(f.dir); err == nil {
		err = rerr
	}
	return err
}

// seedBilling writes users users, then rows invoices (each with one item)
// and rows notifications, and returns the id of the measured user. The
// measured user owns measuredRows of each, and the other users own the
// rest, spread evenly. Owners are shuffled with a fixed seed, so the measured
// user's rows are interleaved with everyone else's by id, as they would be
// in a live database.
func seedBilling(ctx context.Context, store storage.Store, users, rows int) (int64, error) {
	if users < 2 || rows < measuredRows {
		return 0, fmt.Errorf("invalid seed size: %d users and %d rows, need at least 2 users and %d rows", users, rows, measuredRows)
	}
	// Every user shares one hash, because hashing a password per user,
	// even at bcrypt's minimum cost, would slow the seeding down.
	hash, err := domain.HashPassword("password-1", bcrypt.MinCost)
	if err != nil {
		return 0, err
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	ids := make([]int64, users)
	err = storage.WithTx(ctx, store, true, func(tx storage.Tx) error {
		for i := range ids {
			u := &domain.User{
				Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("user%d@example.com", i),
				PasswordHash: hash, Plan: "bench", Verified: true, CreatedAt: created,
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		return nil
	})
	if err != nil {
		return 0, err
	}

	owners := make([]int64, rows)
	for i := range owners {
		if i < measuredRows {
			owners[i] = ids[0]
		} else {
			owners[i] = ids[1+(i-measuredRows)%(users-1)]
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(owners), func(i, j int) { owners[i], owners[j] = owners[j], owners[i] })

	// Texts, amounts and the read flag follow the row's number within its
	// owner's rows, so the measured user's page has the same content at
	// every size and only the ids differ.
	statuses := []string{domain.InvoicePending, domain.InvoicePaid, domain.InvoiceOverdue}
	ownerRows := make(map[int64]int, users)
	for start := 0; start < rows; start += seedBatchRows {
		end := min(start+seedBatchRows, rows)
		err := storage.WithTx(ctx, store, true, func(tx storage.Tx) error {
			for i := start; i < end; i++ {
				seq := ownerRows[owners[i]]
				ownerRows[owners[i]]++
				at := created.Add(time.Duration(seq) * 24 * time.Hour)
				price := domain.Money(1000 + 25*seq)
				inv := &domain.Invoice{
					UserID: owners[i], Status: statuses[seq%len(statuses)],
					Description: fmt.Sprintf("Hosting, invoice %d", seq+1), Total: price,
					CreatedAt: at, DueAt: at.Add(30 * 24 * time.Hour),
					Items: []domain.InvoiceItem{{Description: "Shared hosting, one month", Quantity: 1, UnitPrice: price, Amount: price}},
				}
				if err := tx.CreateInvoice(ctx, inv); err != nil {
					return err
				}

				n := &domain.Notification{
					UserID: owners[i], Title: fmt.Sprintf("Invoice %d issued", seq+1),
					Message:   "A new invoice is ready. It is due 30 days after its creation.",
					CreatedAt: at,
				}
				if seq%3 == 0 {
					readAt := at.Add(time.Hour)
					n.Read, n.ReadAt = true, &readAt
				}
				if err := tx.CreateNotification(ctx, n); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return ids[0], nil
}

// listPage is the part of a list response that the benchmarks check.
type listPage struct {
	Data       []json.RawMessage `json:"data"`
	Pagination struct {
		Total int `json:"total"`
	} `json:"pagination"`
}

// checkMeasuredPage fails unless the list returns a full page of the
// measured user's rows and counts only that user's rows.
func checkMeasuredPage(tb testing.TB, s *server, q url.Values) {
	tb.Helper()
	var page listPage
	body := s.mustOK(tb, http.MethodGet, q)
	if err := json.Unmarshal(body, &page); err != nil {
		tb.Fatalf("%s %s: decode: %v", q.Get("mode"), q.Get("action"), err)
	}
	if len(page.Data) != billingPageLimit {
		tb.Errorf("%s %s: %d rows, want %d", q.Get("mode"), q.Get("action"), len(page.Data), billingPageLimit)
	}
	if page.Pagination.Total != measuredRows {
		tb.Errorf("%s %s: total %d, want %d", q.Get("mode"), q.Get("action"), page.Pagination.Total, measuredRows)
	}
}

// benchListSizes runs the list request q at every size, then alternates
// requests to the smallest and the largest database and reports the ratio
// of their times. Alternating, in both orders, makes both sizes see the
// same machine load, so the ratio is the number to compare across runs.
func benchListSizes(b *testing.B, q url.Values) {
	servers := make(map[int]*server, len(billingSizes))
	for _, rows := range billingSizes {
		s := billingServer(b, rows)
		checkMeasuredPage(b, s, q)
		servers[rows] = s
	}
	for _, rows := range billingSizes {
		s := servers[rows]
		target := s.url + "/?" + q.Encode()
		body := get(b, s.client, http.MethodGet, target, s.header())
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				get(b, s.client, http.MethodGet, target, s.header())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(len(body)), "body-bytes")
		})
	}

	smallRows, largeRows := billingSizes[0], billingSizes[len(billingSizes)-1]
	small, large := servers[smallRows], servers[largeRows]
	smallTarget := small.url + "/?" + q.Encode()
	largeTarget := large.url + "/?" + q.Encode()
	b.Run(fmt.Sprintf("rows=%d_vs_%d", largeRows, smallRows), func(b *testing.B) {
		var smallTime, largeTime time.Duration
		timeGet := func(s *server, target string) time.Duration {
			t0 := time.Now()
			get(b, s.client, http.MethodGet, target, s.header())
			return time.Since(t0)
		}
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				smallTime += timeGet(small, smallTarget)
				largeTime += timeGet(large, largeTarget)
			} else {
				largeTime += timeGet(large, largeTarget)
				smallTime += timeGet(small, smallTarget)
			}
		}
		b.ReportMetric(float64(smallTime.Nanoseconds())/float64(b.N), "small-ns/op")
		b.ReportMetric(float64(largeTime.Nanoseconds())/float64(b.N), "large-ns/op")
		b.ReportMetric(float64(largeTime)/float64(smallTime), "ratio")
	})
}

// BenchmarkBillingInvoices measures billing invoices, one page of 50 of
// the measured user's 100 invoices, at 1,000 and 100,000 invoices in all.
func BenchmarkBillingInvoices(b *testing.B) {
	benchListSizes(b, url.Values{"mode": {"billing"}, "action": {"invoices"}, "limit": {strconv.Itoa(billingPageLimit)}})
}

// BenchmarkNotificationsList measures notifications list, one page of 50
// of the measured user's 100 notifications, at 1,000 and 100,000
// notifications in all.
func BenchmarkNotificationsList(b *testing.B) {
	benchListSizes(b, url.Values{"mode": {"notifications"}, "action": {"list"}, "limit": {strconv.Itoa(billingPageLimit)}})
}

// TestBillingSetup runs the list benchmarks' wiring on a small database
// under go test, so it cannot rot between benchmark runs.
func TestBillingSetup(t *testing.T) {
	f, err := openBillingFixture(t.TempDir(), 3, 3*measuredRows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.close(); err != nil {
			t.Error(err)
		}
	})

	limit := []string{strconv.Itoa(billingPageLimit)}
	checkMeasuredPage(t, f.server, url.Values{"mode": {"billing"}, "action": {"invoices"}, "limit": limit})
	checkMeasuredPage(t, f.server, url.Values{"mode": {"notifications"}, "action": {"list"}, "limit": limit})
}
