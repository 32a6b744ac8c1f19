package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

func TestPathsAndMethods(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		notFound := want{status: 404, code: "not_found", message: domain.MsgNotFoundPath}
		notAllowed := want{status: 405, code: "method_not_allowed", message: domain.MsgMethodNotSupported}

		tests := []struct {
			name      string
			method    string
			path      string
			want      want
			wantAllow string
		}{
			{name: "unknown path", method: "GET", path: "/orgs?mode=auth", want: notFound},
			{name: "unknown path on POST", method: "POST", path: "/v1/", want: notFound},
			{name: "PUT", method: "PUT", path: "/?mode=auth", want: notAllowed, wantAllow: "GET, POST"},
			{name: "DELETE", method: "DELETE", path: "/", want: notAllowed, wantAllow: "GET, POST"},
			{name: "OPTIONS", method: "OPTIONS", path: "/", want: notAllowed, wantAllow: "GET, POST"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, err := http.NewRequest(tt.method, s.srv.URL+tt.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				res := s.do(req)
				res.check(t, tt.want)
				if got := res.header.Get("Allow"); got != tt.wantAllow {
					t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
				}
			})
		}

		t.Run("HEAD", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodHead, s.url+"?mode=auth", nil)
			res := s.do(req)
			if res.status != 405 || res.header.Get("Allow") != "GET, POST" {
				t.Errorf("HEAD: status %d, Allow %q; want 405, GET, POST", res.status, res.header.Get("Allow"))
			}
		})
	})
}

func TestMountedUnderPrefix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{prefix: "/api"})
		ada := s.addUser(adaEmail, adaPassword, "free")

		t.Run("root of prefix", func(t *testing.T) {
			s.get("mode=profile&action=view&apikey="+ada.key).check(t, want{status: 200, message: domain.MsgProfileViewed})
		})
		t.Run("prefix without slash", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api?mode=profile&action=view&apikey="+ada.key, nil)
			s.do(req).check(t, want{status: 200, message: domain.MsgProfileViewed})
		})
		t.Run("other path under prefix", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/profile?mode=profile&action=view&apikey="+ada.key, nil)
			s.do(req).check(t, want{status: 404, code: "not_found", message: domain.MsgNotFoundPath})
		})
	})
}

// snapshot lists a user's orgs, instances, keys and profile, the data that
// the mutating actions change.
func snapshot(t *testing.T, s *testServer, key string) string {
	t.Helper()
	var out strings.Builder
	for _, q := range []string{"mode=orgs&action=list", "mode=instances&action=list", "mode=api_keys&action=list", "mode=profile&action=view"} {
		res := s.get(q + "&apikey=" + key)
		if res.status != 200 {
			t.Fatalf("%s: status %d: %s", q, res.status, res.body)
		}
		out.Write(res.env.Data)
		out.WriteByte('\n')
	}
	return out.String()
}

func TestMutatingActionsRejectGET(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		ada := s.addUser(adaEmail, adaPassword, "pro")
		ctx := context.Background()
		for _, in := range []sharepanel.NewInstance{
			{UserID: ada.id, Name: "dead box", Status: domain.StatusDead},
			{UserID: ada.id, Name: "sleepy box", Status: domain.StatusSleep},
			{UserID: ada.id, Name: "busy box", Status: domain.StatusActive},
		} {
			if _, err := s.engine.CreateInstance(ctx, in); err != nil {
				t.Fatalf("create instance: %v", err)
			}
		}
		s.post("mode=orgs&action=new&apikey="+ada.key, "application/x-www-form-urlencoded", "title=Acme").
			check(t, want{status: 200, message: domain.MsgOrgCreated})
		spare, err := s.engine.IssueAPIKey(ctx, ada.id, "spare", true, true, nil)
		if err != nil {
			t.Fatalf("issue spare key: %v", err)
		}
		var keys []struct {
			ID     int64  `json:"id"`
			Prefix string `json:"prefix"`
		}
		s.get("mode=api_keys&action=list&apikey="+ada.key).data(t, &keys)
		var spareID int64
		for _, k := range keys {
			if strings.HasPrefix(spare, k.Prefix) {
				spareID = k.ID
			}
		}
		before := snapshot(t, s, ada.key)

		// Values that would make each action succeed over POST; each
		// action gets those of its declared parameters.
		values := map[string]string{
			"org_id": "1", "instance_id": "2", "status": "dead", "key_id": strconv.FormatInt(spareID, 10),
			"title": "Renamed", "bio": "changed", "name": "extra",
		}
		for _, method := range []string{
			"profile.update", "orgs.new", "orgs.update", "orgs.delete",
			"instances.delete_dead", "instances.awaken_all", "instances.sleep_all", "instances.update_status",
			"notifications.mark_read", "api_keys.create", "api_keys.delete",
		} {
			t.Run(method, func(t *testing.T) {
				mode, action, _ := strings.Cut(method, ".")
				spec, ok := s.engine.Lookup(mode, action)
				if !ok {
					t.Skipf("the Engine does not implement %s", method)
				}
				if !spec.Mutating {
					t.Fatalf("%s is not marked Mutating, so GET would run it", method)
				}
				query := "mode=" + mode + "&action=" + action + "&apikey=" + ada.key
				for _, p := range spec.AllParams() {
					if v, ok := values[p.Name]; ok {
						query += "&" + p.Name + "=" + v
					}
				}
				res := s.get(query)
				res.check(t, want{status: 405, code: "method_not_allowed", message: domain.MsgMethodNotAllowed})
				if got := res.header.Get("Allow"); got != "POST" {
					t.Errorf("Allow = %q, want POST", got)
				}
				if got := res.header.Get("X-RateLimit-Remaining"); got != "" {
					t.Errorf("X-RateLimit-Remaining = %q, want none: the request must not reach the Engine", got)
				}
			})
		}

		if after := snapshot(t, s, ada.key); after != before {
			t.Errorf("data changed after GETs on mutating actions:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// sizedReader yields n bytes of filler and hides its length, so the
// client sends it chunked.
type sizedReader struct {
	prefix string
	n      int
	read   int
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if r.read >= len(r.prefix)+r.n {
		return 0, io.EOF
	}
	written := 0
	for written < len(p) && r.read < len(r.prefix)+r.n {
		if r.read < len(r.prefix) {
			p[written] = r.prefix[r.read]
		} else {
			p[written] = ' '
		}
		written++
		r.read++
	}
	return written, nil
}

func TestPayloadCaps(t *testing.T) {
	const mb = 1 << 20
	tooLarge := want{status: 413, code: "payload_too_large", message: domain.MsgPayloadTooLarge}
	orgCreated := want{status: 200, message: domain.MsgOrgCreated}

	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		free := s.addUser("free@example.com", "free password", "free")
		big := s.addUser("big@example.com", "big password", "enterprise")

		// jsonOf pads a JSON object with whitespace to size bytes; the
		// padding is valid JSON, so only the size can fail the request.
		jsonOf := func(object string, size int) string {
			return object + strings.Repeat(" ", size-len(object))
		}

		tests := []struct {
			name    string
			query   string
			body    string
			chunked bool
			header  [2]string
			want    want
		}{
			{name: "free under cap", query: "mode=orgs&action=new&apikey=" + free.key, body: jsonOf(`{"title":"Small"}`, mb-100), want: orgCreated},
			{name: "free over cap by content length", query: "mode=orgs&action=new&apikey=" + free.key, body: jsonOf(`{"title":"Big"}`, mb+1), want: tooLarge},
			{name: "free over cap chunked", query: "mode=orgs&action=new&apikey=" + free.key, body: jsonOf(`{"title":"Big"}`, mb+1), chunked: true, want: tooLarge},
			{name: "free over cap with header key", query: "mode=orgs&action=new", header: [2]string{"X-API-Key", free.key}, body: jsonOf(`{"title":"Big"}`, 2*mb), want: tooLarge},
			{name: "free over cap with key in body", body: jsonOf(fmt.Sprintf(`{"mode":"orgs","action":"new","apikey":%q}`, free.key), 2*mb), want: tooLarge},
			{name: "free key in body over the query key's plan", query: "mode=orgs&action=new&apikey=" + big.key, body: jsonOf(fmt.Sprintf(`{"apikey":%q,"title":"Sneaky"}`, free.key), 2*mb), want: tooLarge},
			{name: "enterprise sends 2 MB", query: "mode=orgs&action=new&apikey=" + big.key, body: jsonOf(`{"title":"Two megabytes"}`, 2*mb), want: orgCreated},
			{name: "enterprise sends 2 MB chunked", query: "mode=orgs&action=new&apikey=" + big.key, body: jsonOf(`{"title":"Chunked"}`, 2*mb), chunked: true, want: orgCreated},
			{name: "enterprise key in body gets smallest cap", body: jsonOf(fmt.Sprintf(`{"mode":"orgs","action":"new","apikey":%q,"title":"In body"}`, big.key), 2*mb), want: tooLarge},
			{name: "enterprise key in body within smallest cap", body: jsonOf(fmt.Sprintf(`{"mode":"orgs","action":"new","apikey":%q,"title":"Small body"}`, big.key), mb/2), want: orgCreated},
			{name: "no key over smallest cap", query: "mode=auth", body: jsonOf(`{}`, mb+1), want: tooLarge},
			{name: "invalid key over smallest cap", query: "mode=orgs&action=new&apikey=sp_invalid", body: jsonOf(`{}`, mb+1), want: tooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var body io.Reader = strings.NewReader(tt.body)
				if tt.chunked {
					body = &sizedReader{prefix: strings.TrimRight(tt.body, " "), n: len(tt.body) - len(strings.TrimRight(tt.body, " "))}
				}
				req := s.newRequest(http.MethodPost, tt.query, "application/json", body)
				if tt.chunked && req.ContentLength != 0 {
					t.Fatalf("request has Content-Length %d, want a chunked body", req.ContentLength)
				}
				if tt.header[0] != "" {
					req.Header.Set(tt.header[0], tt.header[1])
				}
				s.do(req).check(t, tt.want)
			})
		}
	})
}

func TestRateLimitHeaders(t *testing.T) {
	plans := domain.Catalog{
		{Name: "tiny", DailyRequests: 100, PerMinute: 3, MaxPayloadBytes: 1 << 20, OrgLimit: 1, InstanceLimit: 1},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{engine: sharepanel.Config{Plans: plans}})
		ada := s.addUser(adaEmail, adaPassword, "tiny")
		minuteEnd := strconv.FormatInt(fixedNow.Truncate(time.Minute).Add(time.Minute).Unix(), 10)

		for i, remaining := range []string{"2", "1", "0"} {
			res := s.get("mode=profile&action=view&apikey=" + ada.key)
			res.check(t, want{status: 200, message: domain.MsgProfileViewed})
			for name, value := range map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": minuteEnd} {
				if got := res.header.Get(name); got != value {
					t.Errorf("request %d: %s = %q, want %q", i+1, name, got, value)
				}
			}
			if got := res.header.Get("Retry-After"); got != "" {
				t.Errorf("request %d: Retry-After = %q on a 200", i+1, got)
			}
		}

		res := s.get("mode=profile&action=view&apikey=" + ada.key)
		res.check(t, want{status: 429, code: "rate_limited", message: domain.MsgRateLimited})
		for name, value := range map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": minuteEnd, "Retry-After": "30"} {
			if got := res.header.Get(name); got != value {
				t.Errorf("429: %s = %q, want %q", name, got, value)
			}
		}

		auth := s.get("mode=auth&email=ada%40example.com&password=correct+horse")
		auth.check(t, want{status: 200, message: domain.MsgAuthenticated})
		if got := auth.header.Get("X-RateLimit-Limit"); got != "" {
			t.Errorf("auth: X-RateLimit-Limit = %q, want none: logins are not counted", got)
		}
	})
}

func TestResponseHeaders(t *testing.T) {
	s := newServer(t, backends[0], serverConfig{})
	for _, query := range []string{"mode=nope", "mode=auth&email=x%40example.com&password=wrong+password"} {
		res := s.get(query)
		for name, value := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
			if got := res.header.Get(name); got != value {
				t.Errorf("%s: %s = %q, want %q", query, name, got, value)
			}
		}
		if got, want := res.header.Get("Content-Length"), strconv.Itoa(len(res.body)); got != want {
			t.Errorf("%s: Content-Length = %q, want %q", query, got, want)
		}
		if res.env.Timestamp == "" {
			t.Errorf("%s: envelope has no timestamp", query)
		}
	}
}

func TestRequestID(t *testing.T) {
	s := newServer(t, backends[0], serverConfig{})
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)

	tests := []struct {
		name     string
		clientID string
		reused   bool
	}{
		{name: "client id reused", clientID: "req-42_ABC", reused: true},
		{name: "64 characters reused", clientID: strings.Repeat("a", 64), reused: true},
		{name: "65 characters replaced", clientID: strings.Repeat("a", 65)},
		{name: "invalid characters replaced", clientID: "id with spaces"},
		{name: "api key replaced", clientID: domain.NewAPIKey()},
		{name: "no client id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/?mode=nope", "/elsewhere"} {
				req, _ := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
				if tt.clientID != "" {
					req.Header.Set("X-Request-Id", tt.clientID)
				}
				res := s.do(req)
				id := res.header.Get("X-Request-Id")
				if res.env.RequestID != id {
					t.Errorf("%s: body request_id %q, header %q", path, res.env.RequestID, id)
				}
				if tt.reused && id != tt.clientID {
					t.Errorf("%s: X-Request-Id = %q, want the client's %q", path, id, tt.clientID)
				}
				if !tt.reused && !generated.MatchString(id) {
					t.Errorf("%s: X-Request-Id = %q, want 16 hex digits", path, id)
				}
			}
		})
	}
}

func TestHeaderKeyNeverLeaks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		ada := s.addUser(adaEmail, adaPassword, "free")
		unknown := domain.NewAPIKey()

		requests := []struct {
			query string
			body  string
		}{
			{query: "mode=profile&action=view"},
			{query: "mode=profile&action=nope"},
			{query: "mode=nope"},
			{query: "mode=orgs&action=new"},
			{query: "mode=orgs&action=view&org_id=999"},
			{query: "mode=orgs&action=view&org_id=x"},
			{query: "mode=profile&action=view&unknown=1"},
			{query: "mode=orgs&action=new", body: `{"title":` + strings.Repeat(" ", 2<<20) + `"x"}`},
			{query: "mode=orgs&action=new", body: `{"title":[1]}`},
		}
		var seen strings.Builder
		for _, key := range []string{ada.key, unknown} {
			for _, header := range []string{"X-API-Key", "Authorization"} {
				for _, r := range requests {
					method := http.MethodGet
					var body io.Reader
					if r.body != "" {
						method, body = http.MethodPost, strings.NewReader(r.body)
					}
					req := s.newRequest(method, r.query, "application/json", body)
					value := key
					if header == "Authorization" {
						value = "Bearer " + key
					}
					req.Header.Set(header, value)
					res := s.do(req)
					seen.Write(res.body)
					for name, values := range res.header {
						fmt.Fprintf(&seen, "%s: %s\n", name, strings.Join(values, ", "))
					}
				}
			}
		}

		logs := s.closeAndLogs()
		for _, key := range []string{ada.key, unknown} {
			if strings.Contains(seen.String(), key) {
				t.Errorf("a response contains the key %s", key)
			}
			if strings.Contains(logs, key) {
				t.Errorf("the log contains the key %s", key)
			}
		}
		if lines := strings.Count(logs, "\n"); lines != 2*2*len(requests) {
			t.Errorf("log has %d lines, want one per request (%d)", lines, 2*2*len(requests))
		}
		wantLine := "method=GET mode=profile action=view status=200"
		if !strings.Contains(logs, wantLine) {
			t.Errorf("log has no line with %q:\n%s", wantLine, logs)
		}
		if !strings.Contains(logs, fmt.Sprintf("user_id=%d", ada.id)) {
			t.Errorf("log has no user_id=%d:\n%s", ada.id, logs)
		}
	})
}

func TestIdempotentPOST(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		ada := s.addUser(adaEmail, adaPassword, "pro")

		create := func(body string) result {
			t.Helper()
			req := s.newRequest(http.MethodPost, "mode=orgs&action=new&apikey="+ada.key, "application/x-www-form-urlencoded", strings.NewReader(body))
			req.Header.Set("Idempotency-Key", "create-acme-1")
			return s.do(req)
		}
		first := create("title=Acme")
		first.check(t, want{status: 200, message: domain.MsgOrgCreated})
		replay := create("title=Acme")
		replay.check(t, want{status: 200, message: domain.MsgOrgCreated})
		if !bytes.Equal(first.env.Data, replay.env.Data) {
			t.Errorf("replay data %s, want the first response's %s", replay.env.Data, first.env.Data)
		}

		create("title=Other").check(t, want{status: 422, code: "idempotency_key_reused", message: domain.MsgIdempotencyReused})

		list := s.get("mode=orgs&action=list&apikey=" + ada.key)
		var orgs []json.RawMessage
		list.data(t, &orgs)
		if len(orgs) != 1 {
			t.Errorf("orgs list has %d orgs, want 1", len(orgs))
		}
	})
}

// panickingStore panics in Begin once armed, to reach the handler's panic
// recovery through a path the Engine does not recover: the payload cap
// lookup before the body is read.
type panickingStore struct {
	storage.Store
	armed atomic.Bool
}

var _ storage.Store = (*panickingStore)(nil)

func (p *panickingStore) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	if p.armed.Load() {
		panic("store exploded")
	}
	return p.Store.Begin(ctx, writable)
}

func TestPanicBecomes500(t *testing.T) {
	var store *panickingStore
	s := newServer(t, backends[0], serverConfig{
		// No key cache, so every request reads the store.
		engine: sharepanel.Config{AuthCacheTTL: -1},
		wrap: func(inner storage.Store) storage.Store {
			store = &panickingStore{Store: inner}
			return store
		},
	})
	ada := s.addUser(adaEmail, adaPassword, "free")
	store.armed.Store(true)

	req := s.newRequest(http.MethodPost, "mode=orgs&action=new&apikey="+ada.key, "application/x-www-form-urlencoded", strings.NewReader("title=Acme"))
	req.Header.Set("X-Request-Id", "panic-1")
	res := s.do(req)
	res.check(t, want{status: 500, code: "internal", message: domain.MsgInternal})
	if strings.Contains(string(res.body), "exploded") {
		t.Errorf("the response reveals the panic: %s", res.body)
	}

	logs := s.closeAndLogs()
	if n := strings.Count(logs, "request_id=panic-1"); n != 1 {
		t.Errorf("the log names the request %d times, want once:\n%s", n, logs)
	}
	for _, part := range []string{"level=ERROR", "status=500", "store exploded", "goroutine"} {
		if !strings.Contains(logs, part) {
			t.Errorf("the log line lacks %q:\n%s", part, logs)
		}
	}
}

func TestClientAddress(t *testing.T) {
	tests := []struct {
		name       string
		trustProxy bool
		// wantOtherThrottled is whether a login whose proxy-added address
		// differs is throttled too.
		wantOtherThrottled bool
	}{
		{name: "proxy headers trusted", trustProxy: true, wantOtherThrottled: false},
		{name: "proxy headers ignored", trustProxy: false, wantOtherThrottled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, backends[0], serverConfig{
				engine:  sharepanel.Config{LoginFailuresPerAddress: 2},
				options: httpapi.Options{TrustProxyHeaders: tt.trustProxy},
			})
			login := func(email, forwardedFor string) result {
				req := s.newRequest(http.MethodGet, "mode=auth&email="+email+"&password=wrong+password", "", nil)
				req.Header.Set("X-Forwarded-For", forwardedFor)
				return s.do(req)
			}

			// Two failures through the proxy from 203.0.113.7 use up its
			// limit; the first entries are client-supplied and vary.
			login("a%40example.com", "10.0.0.1, 203.0.113.7")
			login("b%40example.com", "10.0.0.2, 203.0.113.7")

			spoofed := login("c%40example.com", "198.51.100.9, 203.0.113.7")
			spoofed.check(t, want{status: 429, code: "login_throttled", message: domain.MsgLoginThrottled})
			if spoofed.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}

			other := login("d%40example.com", "203.0.113.7, 198.51.100.9")
			if tt.wantOtherThrottled {
				other.check(t, want{status: 429, code: "login_throttled", message: domain.MsgLoginThrottled})
			} else {
				other.check(t, want{status: 401, code: "invalid_credentials", message: domain.MsgInvalidCredentials})
			}
		})
	}
}

func TestClientGoneLoggedAsInfo(t *testing.T) {
	store := openSQLite(t)
	t.Cleanup(func() { store.Close() })
	engine, err := sharepanel.New(store, sharepanel.Config{BcryptCost: 4, UsageFlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	logs := &lockedBuffer{}
	h := httpapi.New(engine, httpapi.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})

	// A context cancelled before the Engine runs stands for a client that
	// hung up while its request was in flight.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "/?mode=profile&action=view&apikey="+domain.NewAPIKey(), nil).WithContext(ctx)
	h.ServeHTTP(httptest.NewRecorder(), req)

	line := logs.String()
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "status=499") {
		t.Errorf("log line %q, want level INFO and status 499", line)
	}
	if strings.Contains(line, "err=") {
		t.Errorf("log line %q names an error", line)
	}
}
