package sharepanel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
	"github.com/sharepanel/sharepanel/storage/sqlite"
)

// clock is a settable time source for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)} }

// tinyPlans is a catalog whose limits tests can reach quickly.
func tinyPlans() domain.Catalog {
	return domain.Catalog{
		{Name: "tiny", DailyRequests: 5, PerMinute: 3, MaxPayloadBytes: 1 << 10, OrgLimit: 1, InstanceLimit: 2},
		{Name: "big", DailyRequests: 1000, PerMinute: 1000, MaxPayloadBytes: 1 << 20, OrgLimit: 5, InstanceLimit: 5},
	}
}

type fixture struct {
	t     *testing.T
	store storage.Store
	e     *sharepanel.Engine
	clock *clock
}

func newFixture(t *testing.T, store storage.Store, cfg sharepanel.Config) *fixture {
	t.Helper()
	f := &fixture{t: t, store: store, clock: newClock()}
	cfg.Now = f.clock.Now
	cfg.BcryptCost = 4
	cfg.UsageFlushInterval = -1
	e, err := sharepanel.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	f.e = e
	return f
}

// user creates an account and returns its id and a fresh read-write key.
func (f *fixture) user(email, plan string) (int64, string) {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.e.CreateUser(ctx, domain.NewUser{Email: email, Password: "password-1", Plan: plan})
	if err != nil {
		f.t.Fatalf("create user %s: %v", email, err)
	}
	key, err := f.e.IssueAPIKey(ctx, u.ID, "test", true, true, nil)
	if err != nil {
		f.t.Fatalf("issue key: %v", err)
	}
	return u.ID, key
}

func (f *fixture) do(key, mode, action string, params map[string]string) sharepanel.Response {
	f.t.Helper()
	return f.e.Handle(context.Background(), sharepanel.Request{Mode: mode, Action: action, APIKey: key, Params: params, ClientAddr: "192.0.2.1"})
}

// data decodes a response's data into v through JSON, as a client sees it.
func data(t *testing.T, resp sharepanel.Response, v any) {
	t.Helper()
	b, err := json.Marshal(resp.Envelope.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func wantError(t *testing.T, resp sharepanel.Response, status int, code domain.Code, message string) {
	t.Helper()
	if resp.Status != status || resp.Envelope.Code != code || resp.Envelope.Message != message || resp.Envelope.Status != "error" {
		t.Fatalf("got %d %s %q (%s), want %d %s %q", resp.Status, resp.Envelope.Code, resp.Envelope.Message, resp.Envelope.Status, status, code, message)
	}
}

func wantOK(t *testing.T, resp sharepanel.Response) {
	t.Helper()
	if resp.Status != 200 || resp.Envelope.Status != "success" {
		t.Fatalf("got %d %s %q, want success", resp.Status, resp.Envelope.Code, resp.Envelope.Message)
	}
}

func TestRateLimitPerMinute(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{Plans: tinyPlans()})
	_, key := f.user("a@example.com", "tiny")

	for i := 0; i < 3; i++ {
		resp := f.do(key, "profile", "view", nil)
		wantOK(t, resp)
		if got := resp.RateLimit.Remaining; got != 2-i {
			t.Fatalf("request %d: remaining %d, want %d", i, got, 2-i)
		}
	}
	resp := f.do(key, "profile", "view", nil)
	wantError(t, resp, 429, domain.CodeRateLimited, "Rate limit exceeded. Please try again later.")
	if resp.RetryAfter <= 0 || resp.RetryAfter > time.Minute {
		t.Errorf("retry after %v, want within the minute", resp.RetryAfter)
	}

	// A second key of the same user shares the limit.
	key2, err := f.e.IssueAPIKey(context.Background(), resp.UserID, "second", true, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, f.do(key2, "orgs", "list", nil), 429, domain.CodeRateLimited, domain.MsgRateLimited)

	f.clock.Add(time.Minute)
	wantOK(t, f.do(key, "profile", "view", nil))
}

func TestRateLimitDailySurvivesRestart(t *testing.T) {
	store := memory.New()
	f := newFixture(t, store, sharepanel.Config{Plans: tinyPlans()})
	_, key := f.user("a@example.com", "tiny")

	for i := 0; i < 3; i++ {
		wantOK(t, f.do(key, "profile", "view", nil))
	}
	f.clock.Add(time.Minute)
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}

	// A new Engine on the same store reads the day's stored count.
	g := newFixture(t, store, sharepanel.Config{Plans: tinyPlans()})
	g.clock.Add(time.Minute)
	wantOK(t, g.do(key, "profile", "view", nil))
	resp := g.do(key, "profile", "view", nil)
	wantOK(t, resp)
	if resp.RateLimit.Limit != 5 || resp.RateLimit.Remaining != 0 {
		t.Errorf("rate limit %+v, want the daily limit with 0 left", resp.RateLimit)
	}
	wantError(t, g.do(key, "profile", "view", nil), 429, domain.CodeRateLimited, domain.MsgRateLimited)

	// The next UTC day starts from zero.
	g.clock.Add(24 * time.Hour)
	wantOK(t, g.do(key, "profile", "view", nil))
}

func TestKeyUsageCountsUnflushed(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	var keys []struct {
		ID int64 `json:"id"`
	}
	data(t, f.do(key, "api_keys", "list", nil), &keys)
	id := keys[0].ID

	for i := 0; i < 4; i++ {
		f.do(key, "orgs", "list", nil)
	}
	var usage struct {
		Total      int64   `json:"total_requests"`
		Today      int64   `json:"requests_today"`
		LastUsedAt *string `json:"last_used_at"`
	}
	params := map[string]string{"key_id": jsonID(id)}
	data(t, f.do(key, "api_keys", "usage", params), &usage)
	if usage.Total != 6 || usage.Today != 6 {
		t.Errorf("usage before flush: total %d today %d, want 6 and 6", usage.Total, usage.Today)
	}
	if usage.LastUsedAt == nil || *usage.LastUsedAt != "2026-03-10 12:00:30" {
		t.Errorf("last used %v, want 2026-03-10 12:00:30", usage.LastUsedAt)
	}

	if err := f.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	data(t, f.do(key, "api_keys", "usage", params), &usage)
	if usage.Total != 7 {
		t.Errorf("usage after flush: total %d, want 7", usage.Total)
	}
}

func jsonID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}

func TestLoginThrottle(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{LoginFailuresPerEmail: 3, LoginFailuresPerAddress: 5, LoginWindow: time.Minute})
	f.user("a@example.com", "pro")
	login := func(email, password, addr string) sharepanel.Response {
		return f.e.Handle(context.Background(), sharepanel.Request{Mode: "auth", Params: map[string]string{"email": email, "password": password}, ClientAddr: addr})
	}

	for i := 0; i < 3; i++ {
		wantError(t, login("a@example.com", "wrong", "192.0.2.1"), 401, domain.CodeInvalidCredentials, domain.MsgInvalidCredentials)
	}
	resp := login("A@example.com", "password-1", "192.0.2.9")
	wantError(t, resp, 429, domain.CodeLoginThrottled, domain.MsgLoginThrottled)
	if resp.RetryAfter <= 0 {
		t.Errorf("retry after %v, want > 0", resp.RetryAfter)
	}

	// The address limit holds across emails.
	for i := 0; i < 2; i++ {
		login("nobody@example.com", "wrong", "192.0.2.1")
	}
	wantError(t, login("other@example.com", "x", "192.0.2.1"), 429, domain.CodeLoginThrottled, domain.MsgLoginThrottled)

	f.clock.Add(time.Minute)
	wantOK(t, login("a@example.com", "password-1", "192.0.2.1"))
}

func TestDeletedKeyRejectedAtOnce(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	uid, key := f.user("a@example.com", "pro")
	other, err := f.e.IssueAPIKey(context.Background(), uid, "other", true, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, f.do(other, "profile", "view", nil)) // cached now

	var keys []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	data(t, f.do(key, "api_keys", "list", nil), &keys)
	var otherID int64
	for _, k := range keys {
		if k.Name == "other" {
			otherID = k.ID
		}
	}
	wantOK(t, f.do(key, "api_keys", "delete", map[string]string{"key_id": jsonID(otherID)}))
	wantError(t, f.do(other, "profile", "view", nil), 401, domain.CodeInvalidAPIKey, domain.MsgInvalidAPIKey)
}

func TestExpiredKeyRejected(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	var created struct {
		APIKey string `json:"api_key"`
	}
	resp := f.do(key, "api_keys", "create", map[string]string{"expires_at": "2026-03-10T12:05:00Z", "permissions": "read"})
	wantOK(t, resp)
	data(t, resp, &created)
	wantOK(t, f.do(created.APIKey, "profile", "view", nil))
	wantError(t, f.do(created.APIKey, "orgs", "new", nil), 403, domain.CodePermissionDenied, domain.MsgWriteDenied)

	f.clock.Add(5 * time.Minute)
	wantError(t, f.do(created.APIKey, "profile", "view", nil), 401, domain.CodeInvalidAPIKey, domain.MsgInvalidAPIKey)
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	send := func(title string) sharepanel.Response {
		return f.e.Handle(context.Background(), sharepanel.Request{
			Mode: "orgs", Action: "new", APIKey: key, IdempotencyKey: "k-1",
			Params: map[string]string{"title": title},
		})
	}
	var first, second struct {
		OrgID int64 `json:"org_id"`
	}
	data(t, send("Acme"), &first)
	replay := send("Acme")
	wantOK(t, replay)
	data(t, replay, &second)
	if first.OrgID == 0 || first.OrgID != second.OrgID {
		t.Errorf("replay org id %d, first %d", second.OrgID, first.OrgID)
	}
	wantError(t, send("Other"), 422, domain.CodeIdempotencyKeyReused, domain.MsgIdempotencyReused)

	var orgs []any
	data(t, f.do(key, "orgs", "list", nil), &orgs)
	if len(orgs) != 1 {
		t.Errorf("orgs after replay: %d, want 1", len(orgs))
	}

	// After a day the key may be used again.
	f.clock.Add(25 * time.Hour)
	resp := send("Other")
	if resp.Status == 422 {
		t.Errorf("key reuse after a day: got 422")
	}
}

// failingStore wraps a store so that AddActivity fails, to show that an
// action's earlier writes roll back with it.
type failingStore struct{ storage.Store }

func (s failingStore) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	tx, err := s.Store.Begin(ctx, writable)
	return failingTx{tx}, err
}

type failingTx struct{ storage.Tx }

var errDiskFull = errors.New("disk full")

func (failingTx) AddActivity(context.Context, *domain.Activity) error { return errDiskFull }

var _ storage.Store = failingStore{}

func TestFailedActionWritesNothing(t *testing.T) {
	store := memory.New()
	f := newFixture(t, failingStore{store}, sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")

	resp := f.do(key, "orgs", "new", map[string]string{"title": "Acme"})
	wantError(t, resp, 500, domain.CodeInternal, domain.MsgInternal)
	if !errors.Is(resp.Err, errDiskFull) {
		t.Errorf("response error %v, want the storage error", resp.Err)
	}

	g := newFixture(t, store, sharepanel.Config{})
	var orgs []any
	data(t, g.do(key, "orgs", "list", nil), &orgs)
	if len(orgs) != 0 {
		t.Errorf("orgs after failed create: %d, want 0", len(orgs))
	}
}

func TestUnknownModeAndAction(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	tests := []struct {
		name, mode, action, message string
		code                        domain.Code
	}{
		{name: "unknown mode", mode: "nope", message: domain.MsgInvalidMode, code: domain.CodeInvalidMode},
		{name: "mode in another case", mode: "Billing", action: "balance", message: "Invalid mode. Available modes: auth, profile, orgs, instances, billing, analytics, notifications, api_keys, search, stats", code: domain.CodeInvalidMode},
		{name: "unknown billing action", mode: "billing", action: "refund", message: "Invalid action for billing mode", code: domain.CodeInvalidAction},
		{name: "search with an action", mode: "search", action: "orgs", message: "Invalid action for search mode", code: domain.CodeInvalidAction},
		{name: "unknown action", mode: "orgs", action: "explode", message: "Invalid action for orgs mode", code: domain.CodeInvalidAction},
		{name: "missing action", mode: "profile", message: "Invalid action for profile mode", code: domain.CodeInvalidAction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.do(key, tt.mode, tt.action, nil), 400, tt.code, tt.message)
		})
	}
}

func TestConcurrentOrgCreationRespectsLimit(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{Plans: tinyPlans()})
	_, key := f.user("a@example.com", "big")

	var wg sync.WaitGroup
	results := make([]sharepanel.Response, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.do(key, "orgs", "new", map[string]string{"title": "Same Title"})
		}()
	}
	wg.Wait()

	ok := 0
	for _, r := range results {
		if r.Status == 200 {
			ok++
		} else if r.Envelope.Code != domain.CodeLimitReached {
			t.Errorf("unexpected failure %d %s", r.Status, r.Envelope.Message)
		}
	}
	if ok != 5 {
		t.Errorf("created %d orgs, want the plan's limit of 5", ok)
	}
}

// countingStore counts the writable transactions begun on a store.
type countingStore struct {
	storage.Store
	mu     sync.Mutex
	writes int
}

func (s *countingStore) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	if writable {
		s.mu.Lock()
		s.writes++
		s.mu.Unlock()
	}
	return s.Store.Begin(ctx, writable)
}

func (s *countingStore) writeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func TestReadsMakeNoStorageWrites(t *testing.T) {
	store := &countingStore{Store: memory.New()}
	f := newFixture(t, store, sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	before := store.writeCount()

	for i := 0; i < 50; i++ {
		wantOK(t, f.do(key, "profile", "view", nil))
		wantOK(t, f.do(key, "orgs", "list", nil))
	}
	if got := store.writeCount() - before; got != 0 {
		t.Fatalf("100 read requests began %d writable transactions, want 0", got)
	}

	// One flush writes all the counts in one transaction.
	if err := f.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := store.writeCount() - before; got != 1 {
		t.Errorf("flush began %d writable transactions, want 1", got)
	}
}

func TestKeyCannotMintWiderKey(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	uid, _ := f.user("a@example.com", "pro")
	ctx := context.Background()
	writeOnly, err := f.e.IssueAPIKey(ctx, uid, "writer", false, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, f.do(writeOnly, "api_keys", "create", map[string]string{"permissions": "read,write"}), 403, domain.CodePermissionDenied, domain.MsgKeyWiderPermissions)
	wantOK(t, f.do(writeOnly, "api_keys", "create", map[string]string{"permissions": "write"}))

	expiry := f.clock.Now().Add(time.Hour)
	short, err := f.e.IssueAPIKey(ctx, uid, "short", true, true, &expiry)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, f.do(short, "api_keys", "create", map[string]string{"expires_at": "2030-01-01"}), 403, domain.CodePermissionDenied, domain.MsgKeyOutlivesCaller)

	// Without expires_at, the new key expires with the one that made it.
	var created struct {
		ExpiresAt *string `json:"expires_at"`
	}
	resp := f.do(short, "api_keys", "create", nil)
	wantOK(t, resp)
	data(t, resp, &created)
	if created.ExpiresAt == nil || *created.ExpiresAt != "2026-03-10 13:00:30" {
		t.Errorf("expires_at %v, want 2026-03-10 13:00:30", created.ExpiresAt)
	}
}

func TestReplayedKeyCreationHidesKey(t *testing.T) {
	store := memory.New()
	f := newFixture(t, store, sharepanel.Config{})
	uid, key := f.user("a@example.com", "pro")
	send := func() map[string]any {
		resp := f.e.Handle(context.Background(), sharepanel.Request{Mode: "api_keys", Action: "create", APIKey: key, IdempotencyKey: "mint-1"})
		wantOK(t, resp)
		var out map[string]any
		data(t, resp, &out)
		return out
	}
	first, replay := send(), send()
	raw, _ := first["api_key"].(string)
	if !strings.HasPrefix(raw, "sp_") {
		t.Fatalf("first response api_key %v, want a key", first["api_key"])
	}
	if _, shown := replay["api_key"]; shown {
		t.Errorf("replay shows the key again: %v", replay)
	}
	if replay["id"] != first["id"] {
		t.Errorf("replay id %v, first %v", replay["id"], first["id"])
	}

	// The stored response does not hold the key either.
	err := storage.WithTx(context.Background(), store, false, func(tx storage.Tx) error {
		stored, err := tx.FindIdempotent(context.Background(), uid, "mint-1")
		if err != nil {
			return err
		}
		if strings.Contains(string(stored.Body), raw) {
			t.Errorf("stored response holds the key: %s", stored.Body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoginRejectsOverlongPassword(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	password := strings.Repeat("p", domain.MaxPasswordLen)
	if _, err := f.e.CreateUser(context.Background(), domain.NewUser{Email: "long@example.com", Password: password, Plan: "pro"}); err != nil {
		t.Fatal(err)
	}
	login := func(p string) sharepanel.Response {
		return f.e.Handle(context.Background(), sharepanel.Request{Mode: "auth", Params: map[string]string{"email": "long@example.com", "password": p}})
	}
	wantOK(t, login(password))
	wantError(t, login(password+"EXTRA"), 401, domain.CodeInvalidCredentials, domain.MsgInvalidCredentials)
}

func TestProfileFieldsCanBeCleared(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	wantOK(t, f.do(key, "profile", "update", map[string]string{"pfp": "https://example.com/a.png", "phone": "+1 555 0100"}))
	wantOK(t, f.do(key, "profile", "update", map[string]string{"pfp": "", "phone": ""}))
	var p struct {
		PFP   string `json:"pfp"`
		Phone string `json:"phone"`
	}
	data(t, f.do(key, "profile", "view", nil), &p)
	if p.PFP != "" || p.Phone != "" {
		t.Errorf("pfp %q phone %q, want both cleared", p.PFP, p.Phone)
	}
	wantError(t, f.do(key, "profile", "update", map[string]string{"pfp": "javascript:alert(1)"}), 400, domain.CodeInvalidParameter, "Invalid pfp: not a valid http or https URL")
}

func TestBlankOrgTitleGetsDefault(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	wantOK(t, f.do(key, "orgs", "new", map[string]string{"title": "   "}))
	var orgs []struct {
		Title string `json:"title"`
		Path  string `json:"path"`
	}
	data(t, f.do(key, "orgs", "list", nil), &orgs)
	if len(orgs) != 1 || orgs[0].Title != "New Organization" || orgs[0].Path != "new-organization" {
		t.Errorf("orgs %+v, want one New Organization", orgs)
	}
}

// panickyStore hands out transactions that panic where an action lists
// orgs, standing in for a bug.
type panickyStore struct{ storage.Store }

func (s panickyStore) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	tx, err := s.Store.Begin(ctx, writable)
	return panickyTx{tx}, err
}

type panickyTx struct{ storage.Tx }

func (panickyTx) FindOrgsByMember(context.Context, int64, domain.Page) ([]domain.Org, int, error) {
	panic("index out of range")
}

func TestPanicBecomesInternalError(t *testing.T) {
	f := newFixture(t, panickyStore{memory.New()}, sharepanel.Config{})
	_, key := f.user("a@example.com", "pro")
	resp := f.do(key, "orgs", "list", nil)
	wantError(t, resp, 500, domain.CodeInternal, domain.MsgInternal)
	if resp.Err == nil || !strings.Contains(resp.Err.Error(), "index out of range") || !strings.Contains(resp.Err.Error(), "goroutine") {
		t.Errorf("error %v, want the panic value and its stack", resp.Err)
	}

	// The Engine keeps serving after the panic.
	wantOK(t, f.do(key, "profile", "view", nil))
}

func TestDerivedPathsStayWithinLimit(t *testing.T) {
	plans := domain.Catalog{{Name: "many", DailyRequests: 1 << 20, PerMinute: 1 << 20, MaxPayloadBytes: 1 << 20, OrgLimit: 2000, InstanceLimit: 1}}
	f := newFixture(t, memory.New(), sharepanel.Config{Plans: plans})
	_, key := f.user("a@example.com", "many")
	title := strings.Repeat("z", 60)

	var last struct {
		OrgID int64 `json:"org_id"`
	}
	for i := 1; i <= 1001; i++ {
		resp := f.do(key, "orgs", "new", map[string]string{"title": title})
		wantOK(t, resp)
		data(t, resp, &last)
	}
	var org struct {
		Path string `json:"path"`
	}
	params := map[string]string{"org_id": jsonID(last.OrgID)}
	data(t, f.do(key, "orgs", "view", params), &org)
	if want := strings.Repeat("z", 59) + "-1001"; org.Path != want {
		t.Errorf("path of org 1001 = %q (%d characters), want %q", org.Path, len(org.Path), want)
	}

	// The org stays updatable, since its path passes validation.
	params["contact"] = "ops@example.com"
	wantOK(t, f.do(key, "orgs", "update", params))
}

func TestIdempotencyAcrossEngines(t *testing.T) {
	dir := t.TempDir()
	openStore := func() storage.Store {
		s, err := sqlite.Open(filepath.Join(dir, "shared.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	// Two stores on one file stand for two serve processes.
	f := newFixture(t, openStore(), sharepanel.Config{})
	g := newFixture(t, openStore(), sharepanel.Config{})
	_, key := f.user("a@example.com", "enterprise")

	const keys = 20
	var wg sync.WaitGroup
	ids := make([][2]int64, keys)
	for i := 0; i < keys; i++ {
		for j, engine := range []*sharepanel.Engine{f.e, g.e} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := engine.Handle(context.Background(), sharepanel.Request{
					Mode: "orgs", Action: "new", APIKey: key, IdempotencyKey: fmt.Sprintf("key-%d", i),
					Params: map[string]string{"title": fmt.Sprintf("Org %d", i)},
				})
				if resp.Status != 200 {
					t.Errorf("key %d engine %d: %d %s", i, j, resp.Status, resp.Envelope.Message)
					return
				}
				var out struct {
					OrgID int64 `json:"org_id"`
				}
				data(t, resp, &out)
				ids[i][j] = out.OrgID
			}()
		}
	}
	wg.Wait()

	for i, pair := range ids {
		if pair[0] != pair[1] {
			t.Errorf("key %d: engines created orgs %d and %d, want one org", i, pair[0], pair[1])
		}
	}
	var orgs []any
	resp := f.do(key, "orgs", "list", map[string]string{"limit": "100"})
	data(t, resp, &orgs)
	if len(orgs) != keys {
		t.Errorf("%d orgs, want %d", len(orgs), keys)
	}
}

func TestConfigRejectsBadBcryptCost(t *testing.T) {
	for _, cost := range []int{-1, 3, 32} {
		if _, err := sharepanel.New(memory.New(), sharepanel.Config{BcryptCost: cost}); err == nil {
			t.Errorf("BcryptCost %d: want an error", cost)
		}
	}
}

func TestAdminInputChecks(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	uid, _ := f.user("a@example.com", "pro")
	ctx := context.Background()
	past := f.clock.Now().Add(-time.Second)
	tests := []struct {
		name string
		err  error
	}{
		{name: "password over 72 bytes", err: func() error {
			_, err := f.e.CreateUser(ctx, domain.NewUser{Email: "b@example.com", Password: strings.Repeat("é", 40), Plan: "pro"})
			return err
		}()},
		{name: "key name with NUL", err: func() error {
			_, err := f.e.IssueAPIKey(ctx, uid, "a\x00b", true, true, nil)
			return err
		}()},
		{name: "key name too long", err: func() error {
			_, err := f.e.IssueAPIKey(ctx, uid, strings.Repeat("n", 101), true, true, nil)
			return err
		}()},
		{name: "key expired at creation", err: func() error {
			_, err := f.e.IssueAPIKey(ctx, uid, "old", true, true, &past)
			return err
		}()},
		{name: "blank instance name", err: func() error {
			_, err := f.e.CreateInstance(ctx, sharepanel.NewInstance{UserID: uid, Name: "   "})
			return err
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := domain.ErrorCode(tt.err); code != domain.CodeInvalidParameter {
				t.Errorf("error %v (code %q), want invalid_parameter", tt.err, code)
			}
		})
	}
}

func TestDeletingKeyKeepsDailyCount(t *testing.T) {
	store := memory.New()
	plans := domain.Catalog{{Name: "ten", DailyRequests: 10, PerMinute: 100, MaxPayloadBytes: 1 << 20, OrgLimit: 1, InstanceLimit: 1}}
	f := newFixture(t, store, sharepanel.Config{Plans: plans})
	uid, first := f.user("a@example.com", "ten")
	second, err := f.e.IssueAPIKey(context.Background(), uid, "second", true, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		wantOK(t, f.do(first, "profile", "view", nil))
	}
	var keys []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	data(t, f.do(second, "api_keys", "list", nil), &keys)
	for _, k := range keys {
		if k.Name == "test" {
			wantOK(t, f.do(second, "api_keys", "delete", map[string]string{"key_id": jsonID(k.ID)}))
		}
	}
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}

	// 8 requests were counted today: 6, the list and the delete. A new
	// Engine must allow only 2 more, although the key they used is gone.
	g := newFixture(t, store, sharepanel.Config{Plans: plans})
	wantOK(t, g.do(second, "profile", "view", nil))
	wantOK(t, g.do(second, "profile", "view", nil))
	wantError(t, g.do(second, "profile", "view", nil), 429, domain.CodeRateLimited, domain.MsgRateLimited)
}

func TestConcurrentFailedLoginsCounted(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{LoginFailuresPerEmail: 5})
	f.user("a@example.com", "pro")

	var wg sync.WaitGroup
	statuses := make([]int, 30)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := f.e.Handle(context.Background(), sharepanel.Request{Mode: "auth", Params: map[string]string{"email": "a@example.com", "password": "wrong-password"}, ClientAddr: fmt.Sprintf("198.51.100.%d", i)})
			statuses[i] = resp.Status
		}()
	}
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[401] != 5 || counts[429] != 25 {
		t.Errorf("statuses %v, want 5 of 401 and 25 of 429", counts)
	}
}

func TestFailedLoginNeedsNoWriter(t *testing.T) {
	store := memory.New()
	f := newFixture(t, store, sharepanel.Config{})
	f.user("a@example.com", "pro")

	// Another writer holds the store's only write slot.
	held, err := store.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp := f.e.Handle(ctx, sharepanel.Request{Mode: "auth", Params: map[string]string{"email": "a@example.com", "password": "wrong-password"}})
	wantError(t, resp, 401, domain.CodeInvalidCredentials, domain.MsgInvalidCredentials)
}

// gatedStore pauses the first lookup of one key hash after the read until
// release is closed, to hold a request between reading a key and caching
// it.
type gatedStore struct {
	storage.Store
	hash    []byte
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (s *gatedStore) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	tx, err := s.Store.Begin(ctx, writable)
	return gatedTx{Tx: tx, s: s}, err
}

type gatedTx struct {
	storage.Tx
	s *gatedStore
}

func (t gatedTx) FindAPIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error) {
	k, err := t.Tx.FindAPIKeyByHash(ctx, hash)
	if string(hash) == string(t.s.hash) {
		t.s.once.Do(func() {
			close(t.s.reached)
			<-t.s.release
		})
	}
	return k, err
}

func TestDeletedKeyNotCachedByLookupUnderWay(t *testing.T) {
	store := &gatedStore{Store: memory.New(), reached: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, store, sharepanel.Config{AuthCacheTTL: time.Hour})
	uid, doomed := f.user("a@example.com", "pro")
	other, err := f.e.IssueAPIKey(context.Background(), uid, "other", true, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	data(t, f.do(other, "api_keys", "list", nil), &keys)
	var doomedID int64
	for _, k := range keys {
		if k.Name == "test" {
			doomedID = k.ID
		}
	}
	store.hash = domain.HashAPIKey(doomed)

	// A request with the doomed key reads it, then stalls.
	done := make(chan sharepanel.Response)
	go func() { done <- f.do(doomed, "profile", "view", nil) }()
	<-store.reached

	wantOK(t, f.do(other, "api_keys", "delete", map[string]string{"key_id": jsonID(doomedID)}))
	close(store.release)
	<-done

	wantError(t, f.do(doomed, "profile", "view", nil), 401, domain.CodeInvalidAPIKey, domain.MsgInvalidAPIKey)
}

func TestRateWindowNeverMovesBack(t *testing.T) {
	plans := tinyPlans()
	plans[1].PerMinute = 3
	g := newFixture(t, memory.New(), sharepanel.Config{Plans: plans})
	_, key := g.user("a@example.com", "big")

	g.clock.Add(30 * time.Second) // 12:01:00
	for i := 0; i < 3; i++ {
		wantOK(t, g.do(key, "profile", "view", nil))
	}

	// A request stamped in the previous minute counts in the current one.
	g.clock.Add(-time.Millisecond)
	wantError(t, g.do(key, "profile", "view", nil), 429, domain.CodeRateLimited, domain.MsgRateLimited)
	g.clock.Add(2 * time.Millisecond)
	wantError(t, g.do(key, "profile", "view", nil), 429, domain.CodeRateLimited, domain.MsgRateLimited)
}

func TestFlushSweepsHourly(t *testing.T) {
	store := memory.New()
	f := newFixture(t, store, sharepanel.Config{})
	uid, key := f.user("a@example.com", "pro")
	wantOK(t, f.e.Handle(context.Background(), sharepanel.Request{Mode: "orgs", Action: "new", APIKey: key, IdempotencyKey: "k"}))
	stored := func() bool {
		found := false
		err := storage.WithTx(context.Background(), store, false, func(tx storage.Tx) error {
			_, err := tx.FindIdempotent(context.Background(), uid, "k")
			found = err == nil
			if errors.Is(err, domain.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}

	f.clock.Add(25 * time.Hour)
	if !stored() {
		t.Fatal("record gone before any flush")
	}
	if err := f.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored() {
		t.Error("expired record kept after the hourly flush")
	}
}
