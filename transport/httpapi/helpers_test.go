package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// backend opens a fresh store of one kind for a test.
type backend struct {
	name string
	open func(tb testing.TB) storage.Store
}

var backends = []backend{
	{name: "memory", open: func(tb testing.TB) storage.Store { return memory.New() }},
	{name: "sqlite", open: openSQLite},
}

func openSQLite(tb testing.TB) storage.Store {
	tb.Helper()
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "sharepanel.db"))
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	return store
}

// forEachBackend runs fn as a subtest per storage backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// fixedNow is the clock of every test server: 30 seconds into a minute, so
// a per-minute limit resets in exactly 30 seconds.
var fixedNow = time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)

// lockedBuffer is a bytes.Buffer safe for the server's log writes and the
// test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is an Engine served over loopback HTTP.
type testServer struct {
	t      *testing.T
	engine *sharepanel.Engine
	srv    *httptest.Server
	logs   *lockedBuffer
	// url is the API's endpoint, ending in "/".
	url string
}

type serverConfig struct {
	engine  sharepanel.Config
	options httpapi.Options
	// prefix mounts the handler under this path with http.StripPrefix.
	prefix string
	// wrap replaces the store that the Engine uses, to inject faults.
	wrap func(storage.Store) storage.Store
}

// newServer starts a server over a fresh store of backend b. The Engine
// uses bcrypt cost 4, a fixed clock and no background flush.
func newServer(t *testing.T, b backend, cfg serverConfig) *testServer {
	t.Helper()
	store := b.open(t)
	t.Cleanup(func() { store.Close() })
	if cfg.wrap != nil {
		store = cfg.wrap(store)
	}

	cfg.engine.BcryptCost = 4
	cfg.engine.UsageFlushInterval = -1
	if cfg.engine.Now == nil {
		cfg.engine.Now = func() time.Time { return fixedNow }
	}
	engine, err := sharepanel.New(store, cfg.engine)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	t.Cleanup(func() { engine.Close() })

	logs := &lockedBuffer{}
	if cfg.options.Logger == nil {
		cfg.options.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	var h http.Handler = httpapi.New(engine, cfg.options)
	if cfg.prefix != "" {
		mux := http.NewServeMux()
		mux.Handle(cfg.prefix+"/", http.StripPrefix(cfg.prefix, h))
		h = mux
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	return &testServer{t: t, engine: engine, srv: srv, logs: logs, url: srv.URL + cfg.prefix + "/"}
}

// closeAndLogs stops the server, which waits for every handler to finish
// its log line, and returns the log.
func (s *testServer) closeAndLogs() string {
	s.srv.Close()
	return s.logs.String()
}

// user is a seeded account.
type user struct {
	id       int64
	email    string
	password string
	key      string
}

// addUser creates a user on plan with a read-write API key.
func (s *testServer) addUser(email, password, plan string) user {
	s.t.Helper()
	ctx := context.Background()
	u, err := s.engine.CreateUser(ctx, domain.NewUser{Email: email, Password: password, Plan: plan})
	if err != nil {
		s.t.Fatalf("create user %s: %v", email, err)
	}
	key, err := s.engine.IssueAPIKey(ctx, u.ID, "test", true, true, nil)
	if err != nil {
		s.t.Fatalf("issue key for %s: %v", email, err)
	}
	return user{id: u.ID, email: email, password: password, key: key}
}

// envelope is the decoded JSON body of a response.
type envelope struct {
	Status     string          `json:"status"`
	Message    string          `json:"message"`
	Timestamp  string          `json:"timestamp"`
	Data       json.RawMessage `json:"data"`
	Pagination json.RawMessage `json:"pagination"`
	Code       string          `json:"code"`
	RequestID  string          `json:"request_id"`
}

// result is a response with its decoded envelope and raw body.
type result struct {
	status int
	header http.Header
	body   []byte
	env    envelope
}

// do sends req and decodes the envelope, failing the test if the body is
// not one.
func (s *testServer) do(req *http.Request) result {
	s.t.Helper()
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read response body: %v", err)
	}
	res := result{status: resp.StatusCode, header: resp.Header, body: body}
	if req.Method == http.MethodHead {
		return res
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		s.t.Errorf("Content-Type = %q, want application/json; charset=utf-8", got)
	}
	if err := json.Unmarshal(body, &res.env); err != nil {
		s.t.Fatalf("response is not a JSON envelope: %v\n%s", err, body)
	}
	return res
}

// get sends a GET with the raw query.
func (s *testServer) get(rawQuery string) result {
	s.t.Helper()
	return s.do(s.newRequest(http.MethodGet, rawQuery, "", nil))
}

// post sends a POST with the raw query and a body of contentType.
func (s *testServer) post(rawQuery, contentType, body string) result {
	s.t.Helper()
	return s.do(s.newRequest(http.MethodPost, rawQuery, contentType, strings.NewReader(body)))
}

func (s *testServer) newRequest(method, rawQuery, contentType string, body io.Reader) *http.Request {
	s.t.Helper()
	target := s.url
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// want is the expected outcome of a request.
type want struct {
	status  int
	code    string
	message string
}

// check compares a response with w: HTTP status, envelope status, code
// and exact message.
func (r result) check(t *testing.T, w want) {
	t.Helper()
	if r.status != w.status {
		t.Errorf("HTTP status = %d, want %d (body %s)", r.status, w.status, r.body)
	}
	wantStatus := "success"
	if w.status >= 400 {
		wantStatus = "error"
	}
	if r.env.Status != wantStatus {
		t.Errorf("envelope status = %q, want %q", r.env.Status, wantStatus)
	}
	if r.env.Code != w.code {
		t.Errorf("code = %q, want %q", r.env.Code, w.code)
	}
	if r.env.Message != w.message {
		t.Errorf("message = %q, want %q", r.env.Message, w.message)
	}
}

// data decodes the envelope's data into v.
func (r result) data(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.env.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.env.Data, err)
	}
}
