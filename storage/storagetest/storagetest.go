// Package storagetest is the conformance suite that every storage.Store
// implementation runs from its own tests, so all backends keep the same
// semantics.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// Run runs the whole suite. open is called once per subtest and must
// return a new, empty store that it closes in t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("users", func(t *testing.T) { testUsers(t, open) })
	t.Run("api keys", func(t *testing.T) { testAPIKeys(t, open) })
	t.Run("orgs", func(t *testing.T) { testOrgs(t, open) })
	t.Run("members", func(t *testing.T) { testMembers(t, open) })
	t.Run("instances", func(t *testing.T) { testInstances(t, open) })
	t.Run("activities", func(t *testing.T) { testActivities(t, open) })
	t.Run("usage", func(t *testing.T) { testUsage(t, open) })
	t.Run("idempotency", func(t *testing.T) { testIdempotency(t, open) })
	t.Run("transactions", func(t *testing.T) { testTransactions(t, open) })
	t.Run("scan users", func(t *testing.T) { testScanUsers(t, open) })
	t.Run("instance groups", func(t *testing.T) { testInstanceGroups(t, open) })
	t.Run("activity chain", func(t *testing.T) { testActivityChain(t, open) })
	t.Run("user usage", func(t *testing.T) { testUserUsage(t, open) })
	t.Run("balances", func(t *testing.T) { testBalances(t, open) })
	t.Run("invoices", func(t *testing.T) { testInvoices(t, open) })
	t.Run("purchases", func(t *testing.T) { testPurchases(t, open) })
	t.Run("notifications", func(t *testing.T) { testNotifications(t, open) })
	t.Run("search", func(t *testing.T) { testSearch(t, open) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("encoding", func(t *testing.T) { testEncoding(t, open) })
}

// t0 is the suite's reference time. It has whole microseconds, so it
// round-trips unchanged.
var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

// update runs fn in a writable transaction and fails the test on error.
func update(tb testing.TB, s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) {
	tb.Helper()
	ctx := context.Background()
	if err := storage.WithTx(ctx, s, true, func(tx storage.Tx) error { return fn(ctx, tx) }); err != nil {
		tb.Fatalf("writable transaction: %v", err)
	}
}

// view runs fn in a read-only transaction and fails the test on error.
func view(tb testing.TB, s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) {
	tb.Helper()
	ctx := context.Background()
	if err := storage.WithTx(ctx, s, false, func(tx storage.Tx) error { return fn(ctx, tx) }); err != nil {
		tb.Fatalf("read-only transaction: %v", err)
	}
}

// tryWrite runs fn in a writable transaction and returns its error.
func tryWrite(s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) error {
	ctx := context.Background()
	return storage.WithTx(ctx, s, true, func(tx storage.Tx) error { return fn(ctx, tx) })
}

// tryRead runs fn in a read-only transaction and returns its error.
func tryRead(s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) error {
	ctx := context.Background()
	return storage.WithTx(ctx, s, false, func(tx storage.Tx) error { return fn(ctx, tx) })
}

// wantErr fails the test unless err wraps target.
func wantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("error = %v, want %v", err, target)
	}
}

// newUser returns a user with every field set.
func newUser(email string) domain.User {
	return domain.User{
		Username:     "user-" + email,
		Email:        email,
		PasswordHash: "$2a$10$hash",
		Bio:          "bio",
		PFP:          "https://example.com/pfp.png",
		Plan:         "free",
		Verified:     true,
		Balance:      1050,
		FirstName:    "Ada",
		LastName:     "Lovelace",
		Phone:        "+15550100",
		Address:      "1 Main St",
		CreatedAt:    t0,
	}
}

func createUser(tb testing.TB, s storage.Store, email string) domain.User {
	tb.Helper()
	u := newUser(email)
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateUser(ctx, &u) })
	return u
}

func newAPIKey(userID int64, hash string) domain.APIKey {
	return domain.APIKey{
		UserID:    userID,
		Name:      "key " + hash,
		Prefix:    "sp_" + hash,
		Hash:      []byte(hash),
		CanRead:   true,
		CreatedAt: t0,
	}
}

func createAPIKey(tb testing.TB, s storage.Store, userID int64, hash string) domain.APIKey {
	tb.Helper()
	k := newAPIKey(userID, hash)
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateAPIKey(ctx, &k) })
	return k
}

func newOrg(adminID int64, path string) domain.Org {
	return domain.Org{
		Title:     "Org " + path,
		Path:      path,
		AdminID:   adminID,
		Contact:   path + "@example.com",
		CreatedBy: adminID,
		CreatedAt: t0,
	}
}

func createOrg(tb testing.TB, s storage.Store, adminID int64, path string) domain.Org {
	tb.Helper()
	o := newOrg(adminID, path)
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateOrg(ctx, &o) })
	return o
}

func addMember(tb testing.TB, s storage.Store, orgID, userID int64) {
	tb.Helper()
	m := domain.Member{OrgID: orgID, UserID: userID, Role: domain.RoleMember, JoinedAt: t0}
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddMember(ctx, m) })
}

func newInstance(userID, orgID int64, status string) domain.Instance {
	return domain.Instance{
		UserID:       userID,
		OrgID:        orgID,
		Name:         "site",
		Path:         "/site",
		Status:       status,
		InstanceType: "small",
		Type:         "wordpress",
		CreatedAt:    t0,
	}
}

func createInstance(tb testing.TB, s storage.Store, userID, orgID int64, status string) domain.Instance {
	tb.Helper()
	in := newInstance(userID, orgID, status)
	update(tb, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInstance(ctx, &in) })
	return in
}

func findUser(tb testing.TB, s storage.Store, id int64) domain.User {
	tb.Helper()
	var u *domain.User
	view(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		u, err = tx.FindUserByID(ctx, id)
		return err
	})
	return *u
}

func findInstance(tb testing.TB, s storage.Store, userID, id int64) domain.Instance {
	tb.Helper()
	var in *domain.Instance
	view(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		in, err = tx.FindInstanceByID(ctx, userID, id)
		return err
	})
	return *in
}

func findAPIKey(tb testing.TB, s storage.Store, userID, id int64) domain.APIKey {
	tb.Helper()
	var k *domain.APIKey
	view(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		k, err = tx.FindAPIKeyByID(ctx, userID, id)
		return err
	})
	return *k
}

func countUsers(tb testing.TB, s storage.Store) int {
	tb.Helper()
	var n int
	view(tb, s, func(ctx context.Context, tx storage.Tx) (err error) {
		n, err = tx.CountUsers(ctx)
		return err
	})
	return n
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// equal fails the test unless got and want are deeply equal.
func equal[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

// ids returns the ids of rows, in order.
func ids[T any](rows []T, id func(T) int64) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, id(r))
	}
	return out
}

// label formats a page for subtest names.
func label(p domain.Page) string { return fmt.Sprintf("limit %d offset %d", p.Limit, p.Offset) }
