// Package memory implements storage.Store in process memory, for tests,
// demos and the WebAssembly builds, where the cgo SQLite driver is not
// available. It imports only the standard library, the domain and storage
// packages, and builds for GOOS=js and GOOS=wasip1.
//
// # Semantics
//
// The store behaves like the sqlite package in every observable way.
// Emails are unique ignoring ASCII letter case, as with SQLite's NOCASE
// collation, and org paths are unique exactly. Ids start at 1 and are not
// reused after a delete, but a rolled-back transaction's ids are handed out
// again. A reference to a missing user, org or key fails with
// domain.ErrNotFound wherever the SQLite schema has a foreign key. Times
// keep microsecond precision in UTC. A page with a negative Limit has no
// limit and a negative Offset counts as 0, as in SQLite's LIMIT and
// OFFSET. A scan or a search with a negative limit has no limit either.
// Values passed in and returned are copies, so callers cannot change the
// stored data.
//
// # Concurrency
//
// The data is a set of persistent ordered trees: a write copies only the
// nodes on the path to the changed key and shares the rest. A read-only
// transaction takes the latest committed version when it begins and reads
// it without locks, so it never waits and never reads later commits. A
// writable transaction holds the store's single writer slot until it ends,
// writes to its own version, and publishes that version on Commit;
// Rollback drops it, which restores the prior state exactly, including the
// id sequences. A writable Begin waits for the writer slot until its
// context ends, so a goroutine must not begin a second writable transaction
// while it holds one.
package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

var (
	// errTxDone is returned by a Tx used after Commit or Rollback.
	errTxDone = errors.New("memory: transaction has already been committed or rolled back")
	// errReadOnly is returned by a write in a read-only Tx.
	errReadOnly = errors.New("memory: write in a read-only transaction")
	// errClosed is returned by Begin after Close.
	errClosed = errors.New("memory: store is closed")
)

// Store is an in-memory storage.Store. It is safe for concurrent use.
type Store struct {
	// current is the latest committed version; it is never changed, only
	// replaced.
	current atomic.Pointer[data]
	// writer has room for one token, held by the open writable Tx.
	writer chan struct{}
	closed atomic.Bool
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	s := &Store{writer: make(chan struct{}, 1)}
	s.current.Store(newData())
	return s
}

// Begin starts a transaction. A read-only one reads the data committed
// before Begin. A writable one waits until no other writable transaction
// is open, or returns ctx's error when ctx ends first.
func (s *Store) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("begin memory transaction: %w", err)
	}
	if !writable {
		return &Tx{ctx: ctx, d: s.current.Load()}, nil
	}

	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("begin memory transaction: %w", ctx.Err())
	}
	// The copy shares every tree node with the committed version; writes
	// replace nodes in the copy only.
	d := *s.current.Load()
	return &Tx{ctx: ctx, store: s, d: &d, writable: true}, nil
}

// Close makes later calls to Begin fail. Transactions that are still open
// keep working until they end.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// Tx is a storage.Tx on a Store. It is not safe for concurrent use.
type Tx struct {
	ctx      context.Context
	store    *Store // nil for a read-only Tx
	d        *data
	writable bool
	ended    bool
}

var _ storage.Tx = (*Tx)(nil)

// Commit ends the transaction; a writable one publishes its writes. It
// returns an error if the transaction has already ended, and rolls back
// with the context's error if the context of Begin is done, as SQLite does.
func (t *Tx) Commit() error {
	if t.ended {
		return errTxDone
	}
	if err := t.ctx.Err(); err != nil {
		t.Rollback()
		return fmt.Errorf("commit memory transaction: %w", err)
	}
	t.ended = true
	if t.writable {
		t.store.current.Store(t.d)
		<-t.store.writer
	}
	t.d = nil
	return nil
}

// Rollback ends the transaction and drops its writes. It is a no-op once
// the transaction has ended, so callers can defer it.
func (t *Tx) Rollback() error {
	if t.ended {
		return nil
	}
	t.ended = true
	if t.writable {
		<-t.store.writer
	}
	t.d = nil
	return nil
}

// read returns the data a read may use, or an error once the transaction
// has ended.
func (t *Tx) read() (*data, error) {
	if t.ended {
		return nil, errTxDone
	}
	return t.d, nil
}

// write returns the data a write may change, or an error once the
// transaction has ended or when it is read-only.
func (t *Tx) write() (*data, error) {
	if t.ended {
		return nil, errTxDone
	}
	if !t.writable {
		return nil, errReadOnly
	}
	return t.d, nil
}

// pair is a two-part key such as (user id, row id), ordered by a then b.
type pair struct{ a, b int64 }

func comparePair(x, y pair) int {
	if c := cmp.Compare(x.a, y.a); c != 0 {
		return c
	}
	return cmp.Compare(x.b, y.b)
}

// compareIDText orders the (id, text) keys below by id, then text.
func compareIDText(xID int64, xText string, yID int64, yText string) int {
	if c := cmp.Compare(xID, yID); c != 0 {
		return c
	}
	return strings.Compare(xText, yText)
}

// usageKey identifies a usage row.
type usageKey struct {
	keyID int64
	day   string
}

func compareUsageKey(x, y usageKey) int {
	return compareIDText(x.keyID, x.day, y.keyID, y.day)
}

// userDayKey names a user's daily total.
type userDayKey struct {
	userID int64
	day    string
}

func compareUserDayKey(x, y userDayKey) int {
	return compareIDText(x.userID, x.day, y.userID, y.day)
}

// idempotencyKey identifies a stored idempotent response.
type idempotencyKey struct {
	userID int64
	key    string
}

func compareIdempotencyKey(x, y idempotencyKey) int {
	return compareIDText(x.userID, x.key, y.userID, y.key)
}

// referenceKey names a user's transaction reference.
type referenceKey struct {
	userID    int64
	reference string
}

func compareReferenceKey(x, y referenceKey) int {
	return compareIDText(x.userID, x.reference, y.userID, y.reference)
}

// member is a stored membership; the username is read from the user.
type member struct {
	role     string
	joinedAt time.Time
}

// data is one version of the whole database: the tables, their indexes
// and the id sequences. Copying the struct copies only tree roots.
type data struct {
	lastUserID, lastKeyID, lastOrgID, lastInstanceID, lastActivityID int64
	lastTransactionID, lastInvoiceID, lastItemID, lastPurchaseID     int64
	lastNotificationID                                               int64

	users        tree[int64, domain.User]
	userByEmail  tree[string, int64] // folded email → user id
	keys         tree[int64, domain.APIKey]
	keyByHash    tree[string, int64]
	keysByUser   tree[pair, struct{}] // (user id, key id)
	orgs         tree[int64, domain.Org]
	orgByPath    tree[string, int64]
	orgsByAdmin  tree[pair, struct{}] // (admin id, org id)
	members      tree[pair, member]   // (org id, user id)
	orgsByMember tree[pair, struct{}] // (user id, org id)
	instances    tree[int64, domain.Instance]
	instByUser   tree[pair, struct{}] // (user id, instance id)
	instByOrg    tree[pair, struct{}] // (org id, instance id)
	activities   tree[int64, domain.Activity]
	actsByUser   tree[pair, struct{}] // (user id, activity id)
	usage        tree[usageKey, domain.Usage]
	userUsage    tree[userDayKey, int64] // kept when keys are deleted
	idempotency  tree[idempotencyKey, storage.IdempotentResponse]

	transactions  tree[int64, domain.Transaction]
	txByUser      tree[pair, struct{}]           // (user id, transaction id)
	txByUserTime  tree[timeKey, struct{}]        // (user id, created at, transaction id)
	txByReference tree[referenceKey, int64]      // non-empty references only → transaction id
	invoices      tree[int64, domain.Invoice]    // stored without items
	invoiceItems  tree[pair, domain.InvoiceItem] // (invoice id, item id)
	invByUser     tree[pair, struct{}]           // (user id, invoice id)
	invByStatus   tree[statusKey, struct{}]      // (user id, status, invoice id)
	purchases     tree[int64, domain.Purchase]
	purchByUser   tree[pair, struct{}] // (user id, purchase id)
	purchByTx     tree[pair, struct{}] // (transaction id, purchase id)
	notifications tree[int64, domain.Notification]
	notifByUser   tree[pair, struct{}] // (user id, notification id)
	unreadByUser  tree[pair, struct{}] // (user id, id of an unread notification)
}

func newData() *data {
	return &data{
		users:        newTree[int64, domain.User](cmp.Compare[int64]),
		userByEmail:  newTree[string, int64](strings.Compare),
		keys:         newTree[int64, domain.APIKey](cmp.Compare[int64]),
		keyByHash:    newTree[string, int64](strings.Compare),
		keysByUser:   newTree[pair, struct{}](comparePair),
		orgs:         newTree[int64, domain.Org](cmp.Compare[int64]),
		orgByPath:    newTree[string, int64](strings.Compare),
		orgsByAdmin:  newTree[pair, struct{}](comparePair),
		members:      newTree[pair, member](comparePair),
		orgsByMember: newTree[pair, struct{}](comparePair),
		instances:    newTree[int64, domain.Instance](cmp.Compare[int64]),
		instByUser:   newTree[pair, struct{}](comparePair),
		instByOrg:    newTree[pair, struct{}](comparePair),
		activities:   newTree[int64, domain.Activity](cmp.Compare[int64]),
		actsByUser:   newTree[pair, struct{}](comparePair),
		usage:        newTree[usageKey, domain.Usage](compareUsageKey),
		userUsage:    newTree[userDayKey, int64](compareUserDayKey),
		idempotency:  newTree[idempotencyKey, storage.IdempotentResponse](compareIdempotencyKey),

		transactions:  newTree[int64, domain.Transaction](cmp.Compare[int64]),
		txByUser:      newTree[pair, struct{}](comparePair),
		txByUserTime:  newTree[timeKey, struct{}](compareTimeKey),
		txByReference: newTree[referenceKey, int64](compareReferenceKey),
		invoices:      newTree[int64, domain.Invoice](cmp.Compare[int64]),
		invoiceItems:  newTree[pair, domain.InvoiceItem](comparePair),
		invByUser:     newTree[pair, struct{}](comparePair),
		invByStatus:   newTree[statusKey, struct{}](compareStatusKey),
		purchases:     newTree[int64, domain.Purchase](cmp.Compare[int64]),
		purchByUser:   newTree[pair, struct{}](comparePair),
		purchByTx:     newTree[pair, struct{}](comparePair),
		notifications: newTree[int64, domain.Notification](cmp.Compare[int64]),
		notifByUser:   newTree[pair, struct{}](comparePair),
		unreadByUser:  newTree[pair, struct{}](comparePair),
	}
}

// idsWithPrefix returns the b parts of the keys (a, b) in index, in order.
func idsWithPrefix(index *tree[pair, struct{}], a int64) []int64 {
	var ids []int64
	for k := range index.ascend(pair{a: a, b: minID}) {
		if k.a != a {
			break
		}
		ids = append(ids, k.b)
	}
	return ids
}

// minID and maxID are the lowest and highest possible ids, so pair{a,
// minID} and pair{a, maxID} are the first and last keys of a in an index.
const (
	minID = math.MinInt64
	maxID = math.MaxInt64
)

// page returns the window of items that p selects, with SQLite's LIMIT and
// OFFSET rules: a negative limit means no limit, a negative offset 0.
func page[T any](items []T, p domain.Page) []T {
	offset := max(p.Offset, 0)
	if offset >= len(items) {
		return []T{}
	}
	items = items[offset:]
	if p.Limit >= 0 && p.Limit < len(items) {
		items = items[:p.Limit]
	}
	return items
}

// foldEmail lowers ASCII letters only, as SQLite's NOCASE collation does.
func foldEmail(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// utc drops t's precision below a microsecond, its monotonic reading and
// its location, as a round trip through SQLite does.
func utc(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// cloneBytes copies b, keeping nil as nil.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// cloneKey returns a copy of k that shares no memory with it.
func cloneKey(k domain.APIKey) domain.APIKey {
	k.Hash = cloneBytes(k.Hash)
	k.ExpiresAt = utcPtr(k.ExpiresAt)
	k.LastUsedAt = utcPtr(k.LastUsedAt)
	return k
}
