// Package storage defines the transactional store that the Engine runs on.
//
// A Store hands out transactions; every read and write goes through a Tx,
// and an action's writes commit together or not at all. Implementations
// live in subpackages (sqlite, memory) and all pass the conformance suite in
// storagetest.
//
// Conventions every implementation follows:
//   - Lookups that find nothing return domain.ErrNotFound (possibly
//     wrapped); a write that breaks a uniqueness rule returns
//     domain.ErrConflict. Callers test with errors.Is.
//   - Lists return the page's rows plus the total number of rows that
//     match, ignoring the page. Lists of things a user manages (keys, orgs,
//     instances, members) are ordered by id ascending. Lists of records in
//     time (activities, transactions, invoices, purchases, notifications)
//     are newest first, by id descending. Scan methods walk a user's records
//     by id ascending, after a given id, for checks over all of them.
//   - Times round-trip in UTC at microsecond precision. The caller sets
//     every timestamp; a store never reads a clock.
//   - A Tx is used by one goroutine at a time. Several transactions may be
//     open at once; a writable one excludes other writers until it ends.
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/sharepanel/sharepanel/domain"
)

// Store opens transactions. It is safe for concurrent use.
type Store interface {
	// Begin starts a transaction. A read-only transaction (writable false)
	// must not be used for writes.
	Begin(ctx context.Context, writable bool) (Tx, error)

	// Close releases the store's resources. Open transactions must be
	// ended first.
	Close() error
}

// Tx is one transaction. After Commit or Rollback it must not be used,
// except that Rollback after Commit is a no-op, so callers can defer it.
type Tx interface {
	Commit() error
	Rollback() error

	Users
	APIKeys
	Orgs
	Instances
	Activities
	UsageCounts
	Idempotency
	Billing
	Notifications
	Search
}

// Users stores accounts. Emails are unique case-insensitively.
type Users interface {
	// CreateUser inserts u and sets u.ID. ErrConflict if the email is
	// taken. It stores Balance as given: the Engine passes 0 and records
	// an opening balance with AddTransaction, because a balance without
	// transactions is what Engine.Verify reports as broken.
	CreateUser(ctx context.Context, u *domain.User) error
	FindUserByID(ctx context.Context, id int64) (*domain.User, error)
	// FindUserByEmail matches the email case-insensitively.
	FindUserByEmail(ctx context.Context, email string) (*domain.User, error)
	// UpdateProfile sets the non-nil fields of u. ErrNotFound if no user.
	UpdateProfile(ctx context.Context, id int64, u domain.ProfileUpdate) error
	CountUsers(ctx context.Context) (int, error)
	// ScanUsers returns up to limit users with an id above afterID, by id
	// ascending.
	ScanUsers(ctx context.Context, afterID int64, limit int) ([]domain.User, error)
}

// APIKeys stores API keys by the hash of the key.
type APIKeys interface {
	// CreateAPIKey inserts k and sets k.ID.
	CreateAPIKey(ctx context.Context, k *domain.APIKey) error
	FindAPIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error)
	// FindAPIKeyByID returns the key only if userID owns it.
	FindAPIKeyByID(ctx context.Context, userID, id int64) (*domain.APIKey, error)
	FindAPIKeys(ctx context.Context, userID int64, p domain.Page) ([]domain.APIKey, int, error)
	// DeleteAPIKey removes the key and its usage rows, but not its counts
	// in the user's daily totals. ErrNotFound unless userID owns it.
	DeleteAPIKey(ctx context.Context, userID, id int64) error
}

// Orgs stores organizations and their members. Paths are unique.
type Orgs interface {
	// CreateOrg inserts o and sets o.ID. ErrConflict if the path is taken.
	CreateOrg(ctx context.Context, o *domain.Org) error
	FindOrgByID(ctx context.Context, id int64) (*domain.Org, error)
	OrgPathTaken(ctx context.Context, path string) (bool, error)
	// FindOrgPaths returns, in ascending order, the paths of orgs that
	// equal base or start with base followed by a hyphen: the candidates a
	// derived path "base", "base-2", "base-3"... can collide with.
	FindOrgPaths(ctx context.Context, base string) ([]string, error)
	// UpdateOrg sets the non-nil fields of u. ErrConflict if the new path is
	// taken by another org, ErrNotFound if there is no such org.
	UpdateOrg(ctx context.Context, id int64, u domain.OrgUpdate) error
	// DeleteOrg removes the org and its memberships and detaches its
	// instances (their OrgID becomes 0). ErrNotFound if there is no org.
	DeleteOrg(ctx context.Context, id int64) error
	// FindOrgsByMember lists the orgs userID is a member of.
	FindOrgsByMember(ctx context.Context, userID int64, p domain.Page) ([]domain.Org, int, error)
	CountOrgsByAdmin(ctx context.Context, userID int64) (int, error)
	// AddMember inserts a membership. ErrConflict if the user already is a
	// member, ErrNotFound if the org or the user does not exist.
	AddMember(ctx context.Context, m domain.Member) error
	// FindMember returns userID's membership of orgID, Username included.
	FindMember(ctx context.Context, orgID, userID int64) (*domain.Member, error)
	// FindMembers lists an org's members ordered by user id, Username
	// included.
	FindMembers(ctx context.Context, orgID int64, p domain.Page) ([]domain.Member, int, error)
	CountMembers(ctx context.Context, orgID int64) (int, error)
}

// InstanceFilter selects instances. Zero fields match everything, except
// that UserID or OrgID should be set, since instances of every user are
// never listed together.
type InstanceFilter struct {
	UserID int64
	OrgID  int64
	Status string
}

// Instances stores hosted instances.
type Instances interface {
	// CreateInstance inserts in and sets in.ID.
	CreateInstance(ctx context.Context, in *domain.Instance) error
	// FindInstanceByID returns the instance only if userID owns it.
	FindInstanceByID(ctx context.Context, userID, id int64) (*domain.Instance, error)
	FindInstances(ctx context.Context, f InstanceFilter, p domain.Page) ([]domain.Instance, int, error)
	// FindInstanceIDs returns the ids of every matching instance, ascending.
	FindInstanceIDs(ctx context.Context, f InstanceFilter) ([]int64, error)
	CountInstances(ctx context.Context, f InstanceFilter) (int, error)
	// SetInstanceStatus sets the status of the given instances of userID;
	// ids of other users' instances are ignored.
	SetInstanceStatus(ctx context.Context, userID int64, ids []int64, status string) error
	// DeleteInstances removes the given instances of userID; ids of other
	// users' instances are ignored.
	DeleteInstances(ctx context.Context, userID int64, ids []int64) error
	// CountInstanceGroups counts userID's instances per status and type:
	// one row per pair that has instances, ordered by status then type.
	CountInstanceGroups(ctx context.Context, userID int64) ([]InstanceGroup, error)
}

// InstanceGroup is the number of a user's instances with one status and
// one type.
type InstanceGroup struct {
	Status string
	Type   string
	Count  int
}

// Activities stores the activity log. The Engine computes the hash chain
// (domain.ChainActivity); the store keeps PrevHash and Hash as given.
type Activities interface {
	// AddActivity inserts a and sets a.ID.
	AddActivity(ctx context.Context, a *domain.Activity) error
	// FindActivities lists a user's entries, newest first.
	FindActivities(ctx context.Context, userID int64, p domain.Page) ([]domain.Activity, int, error)
	// LastActivity returns the user's entry with the highest id, or
	// ErrNotFound if the user has none.
	LastActivity(ctx context.Context, userID int64) (*domain.Activity, error)
	// ScanActivities returns up to limit of the user's entries with an id
	// above afterID, by id ascending.
	ScanActivities(ctx context.Context, userID, afterID int64, limit int) ([]domain.Activity, error)
}

// UsageCounts stores per-key daily request counts. The Engine counts in
// memory and persists batches, so these are not called per request.
type UsageCounts interface {
	// AddUsage adds each row's Count to the stored count for its key and
	// day and to the daily total of its UserID, creating rows as needed,
	// and moves each key's LastUsedAt forward to the time in lastUsed
	// (never backward). A row of a key that no longer exists still adds to
	// its user's total. Otherwise, rows and entries of keys and users that
	// no longer exist are skipped.
	AddUsage(ctx context.Context, rows []domain.Usage, lastUsed map[int64]time.Time) error
	// UserUsageOnDay returns a user's total for one day, keys deleted
	// since included.
	UserUsageOnDay(ctx context.Context, userID int64, day string) (int64, error)
	// FindKeyUsage lists a key's daily counts from sinceDay on (all days
	// when sinceDay is ""), oldest first.
	FindKeyUsage(ctx context.Context, keyID int64, sinceDay string) ([]domain.Usage, error)
	// FindUserUsage lists a user's daily totals (keys deleted since
	// included) from sinceDay on, oldest first, as rows with KeyID 0. Days
	// without requests have no row.
	FindUserUsage(ctx context.Context, userID int64, sinceDay string) ([]domain.Usage, error)
	// FindUserKeyUsage lists the daily counts of every existing key of the
	// user from sinceDay on, ordered by key id, then day.
	FindUserKeyUsage(ctx context.Context, userID int64, sinceDay string) ([]domain.Usage, error)
}

// IdempotentResponse is the stored outcome of a POST made with an
// Idempotency-Key.
type IdempotentResponse struct {
	UserID      int64
	Key         string
	RequestHash []byte
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// Idempotency stores responses of POSTs made with an Idempotency-Key.
type Idempotency interface {
	// FindIdempotent returns the stored response for the user and key, or
	// ErrNotFound.
	FindIdempotent(ctx context.Context, userID int64, key string) (*IdempotentResponse, error)
	// SaveIdempotent stores r, replacing any row with the same user and key.
	SaveIdempotent(ctx context.Context, r IdempotentResponse) error
	// DeleteIdempotentBefore removes rows created before t.
	DeleteIdempotentBefore(ctx context.Context, t time.Time) error
}

// InvoiceFilter selects a user's invoices; an empty Status matches all.
type InvoiceFilter struct {
	UserID int64
	Status string
}

// Billing stores balances' transactions, invoices and purchases.
//
// A user's balance (domain.User.Balance) changes only through
// AddTransaction, which writes the transaction and the new balance
// together, so the balance always equals the sum of the user's
// transactions' amounts.
type Billing interface {
	// AddTransaction adds t.Amount to the user's balance, stores t with
	// the new balance in t.BalanceAfter, and sets t.ID. ErrNotFound if
	// there is no such user; ErrConflict if t.Reference is not empty and
	// the user already has a transaction with that reference. It fails,
	// changing nothing, on those errors and if the new balance would
	// overflow int64.
	AddTransaction(ctx context.Context, t *domain.Transaction) error
	// FindTransactionByReference returns the user's transaction with the
	// given non-empty reference, or ErrNotFound.
	FindTransactionByReference(ctx context.Context, userID int64, reference string) (*domain.Transaction, error)
	// FindTransactions lists a user's transactions, newest first.
	FindTransactions(ctx context.Context, userID int64, p domain.Page) ([]domain.Transaction, int, error)
	// ScanTransactions returns up to limit of the user's transactions with
	// an id above afterID, by id ascending.
	ScanTransactions(ctx context.Context, userID, afterID int64, limit int) ([]domain.Transaction, error)
	// SumTransactionsByMonth totals a user's transactions created at or
	// after since, per UTC month, oldest month first. Months without
	// transactions have no row.
	SumTransactionsByMonth(ctx context.Context, userID int64, since time.Time) ([]domain.MonthTotal, error)

	// CreateInvoice inserts inv and its Items and sets their ids (and each
	// item's InvoiceID). It stores Total as given; the Engine makes it the
	// sum of the items. ErrNotFound if there is no such user.
	CreateInvoice(ctx context.Context, inv *domain.Invoice) error
	// FindInvoice returns the invoice with its items (by item id
	// ascending) only if userID owns it.
	FindInvoice(ctx context.Context, userID, id int64) (*domain.Invoice, error)
	// FindInvoices lists matching invoices without their items, newest
	// first.
	FindInvoices(ctx context.Context, f InvoiceFilter, p domain.Page) ([]domain.Invoice, int, error)
	CountInvoices(ctx context.Context, f InvoiceFilter) (int, error)
	// ScanInvoices returns up to limit of the user's invoices with an id
	// above afterID, by id ascending, each with its items.
	ScanInvoices(ctx context.Context, userID, afterID int64, limit int) ([]domain.Invoice, error)

	// CreatePurchase inserts p and sets p.ID. The caller records the
	// purchase transaction first, in the same Tx. ErrNotFound if there is
	// no such user, or no transaction p.TransactionID of that user.
	CreatePurchase(ctx context.Context, p *domain.Purchase) error
	// FindPurchases lists a user's purchases, newest first.
	FindPurchases(ctx context.Context, userID int64, p domain.Page) ([]domain.Purchase, int, error)
	// FindPurchaseByTransaction returns the user's purchase paid by the
	// given transaction, or ErrNotFound.
	FindPurchaseByTransaction(ctx context.Context, userID, transactionID int64) (*domain.Purchase, error)
	// ScanPurchases returns up to limit of the user's purchases with an id
	// above afterID, by id ascending.
	ScanPurchases(ctx context.Context, userID, afterID int64, limit int) ([]domain.Purchase, error)
}

// NotificationFilter selects a user's notifications.
type NotificationFilter struct {
	UserID     int64
	UnreadOnly bool
}

// Notifications stores messages to users.
type Notifications interface {
	// CreateNotification inserts n and sets n.ID. ErrNotFound if there is
	// no such user.
	CreateNotification(ctx context.Context, n *domain.Notification) error
	// FindNotifications lists matching notifications, newest first.
	FindNotifications(ctx context.Context, f NotificationFilter, p domain.Page) ([]domain.Notification, int, error)
	CountNotifications(ctx context.Context, f NotificationFilter) (int, error)
	// MarkNotificationRead marks one of userID's notifications read at t
	// and reports whether it was unread. A notification that is already
	// read keeps its ReadAt. ErrNotFound unless userID owns it.
	MarkNotificationRead(ctx context.Context, userID, id int64, t time.Time) (bool, error)
	// MarkAllNotificationsRead marks every unread notification of userID
	// read at t and returns how many it marked.
	MarkAllNotificationsRead(ctx context.Context, userID int64, t time.Time) (int, error)
}

// Search finds a user's own records whose text contains a query.
//
// Matching is by substring after strings.ToLower of both sides, so it
// ignores case for most scripts (but not, say, final sigma against
// capital sigma). q is not a pattern: "%" and "_" match themselves. Each method returns at most limit rows, in
// the order of the matching list (orgs and instances by id ascending,
// invoices and notifications newest first), and the number of all
// matches.
type Search interface {
	// SearchOrgs matches the title, path and contact of orgs userID is a
	// member of.
	SearchOrgs(ctx context.Context, userID int64, q string, limit int) ([]domain.Org, int, error)
	// SearchInstances matches the name, path and type of userID's
	// instances.
	SearchInstances(ctx context.Context, userID int64, q string, limit int) ([]domain.Instance, int, error)
	// SearchInvoices matches the description of userID's invoices and of
	// their items; rows come without items.
	SearchInvoices(ctx context.Context, userID int64, q string, limit int) ([]domain.Invoice, int, error)
	// SearchNotifications matches the title and message of userID's
	// notifications.
	SearchNotifications(ctx context.Context, userID int64, q string, limit int) ([]domain.Notification, int, error)
}

// WithTx runs fn in a transaction and commits if fn returns nil; otherwise,
// or if fn panics, it rolls back. The error is fn's, or the commit's.
func WithTx(ctx context.Context, s Store, writable bool, fn func(Tx) error) (err error) {
	tx, err := s.Begin(ctx, writable)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
