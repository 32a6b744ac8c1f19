package benchmarks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// benchPlans lifts the rate limits out of the way, as an operator's
// --plans file would for a load test; counting still runs on every request.
func benchPlans() domain.Catalog {
	return domain.Catalog{{Name: "bench", DailyRequests: 1 << 30, PerMinute: 1 << 30, MaxPayloadBytes: 1 << 20, OrgLimit: 1 << 20, InstanceLimit: 100}}
}

type server struct {
	url    string
	key    string
	client *http.Client
}

// newServer starts the API over a SQLite file with one user who is a
// member of 10 orgs.
func newServer(tb testing.TB) *server {
	tb.Helper()
	engine, key := newEngine(tb)
	srv := httptest.NewServer(httpapi.New(engine, httpapi.Options{}))
	tb.Cleanup(srv.Close)

	s := &server{url: srv.URL, key: key, client: newClient()}
	for i := 0; i < 10; i++ {
		s.mustOK(tb, http.MethodPost, url.Values{"mode": {"orgs"}, "action": {"new"}, "title": {fmt.Sprintf("Organization %d", i)}})
	}
	return s
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}}
}

// get sends one request and returns the body; it reads the whole body so
// the connection is reused.
func get(tb testing.TB, c *http.Client, method, target string, header http.Header) []byte {
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = header
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s %s: status %d: %s", method, target, resp.StatusCode, body)
	}
	return body
}

func (s *server) header() http.Header { return http.Header{"X-Api-Key": {s.key}} }

func (s *server) mustOK(tb testing.TB, method string, q url.Values) []byte {
	tb.Helper()
	return get(tb, s.client, method, s.url+"/?"+q.Encode(), s.header())
}

// bare starts a handler that writes body as it is, with the same
// content type: the cost of HTTP itself.
func bare(tb testing.TB, body []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// benchVsBare alternates one request to the API with one to a bare handler
// that writes a body of the same size, and reports both and their ratio.
// Alternating makes both sides see the same machine load.
func benchVsBare(b *testing.B, s *server, q url.Values) {
	target := s.url + "/?" + q.Encode()
	body := get(b, s.client, http.MethodGet, target, s.header())
	bareURL := bare(b, bytes.Repeat([]byte("x"), len(body)))
	bareClient := newClient()
	get(b, bareClient, http.MethodGet, bareURL, nil)

	var api, base time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		get(b, bareClient, http.MethodGet, bareURL, nil)
		t1 := time.Now()
		get(b, s.client, http.MethodGet, target, s.header())
		base += t1.Sub(t0)
		api += time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(api.Nanoseconds())/float64(b.N), "api-ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(api)/float64(base), "x-bare")
	b.ReportMetric(float64(len(body)), "body-bytes")
}

func BenchmarkProfileViewVsBare(b *testing.B) {
	s := newServer(b)
	benchVsBare(b, s, url.Values{"mode": {"profile"}, "action": {"view"}})
}

func BenchmarkOrgsListVsBare(b *testing.B) {
	s := newServer(b)
	q := url.Values{"mode": {"orgs"}, "action": {"list"}}
	var env struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(get(b, s.client, http.MethodGet, s.url+"/?"+q.Encode(), s.header()), &env); err != nil || len(env.Data) != 10 {
		b.Fatalf("orgs list: %d rows (%v), want 10", len(env.Data), err)
	}
	benchVsBare(b, s, q)
}

// BenchmarkAlone measures each request on its own, for ns/op and
// allocs/op (client and server together, as both run in this process).
func BenchmarkAlone(b *testing.B) {
	s := newServer(b)
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{name: "profile_view", q: url.Values{"mode": {"profile"}, "action": {"view"}}},
		{name: "orgs_list", q: url.Values{"mode": {"orgs"}, "action": {"list"}}},
	} {
		target := s.url + "/?" + tc.q.Encode()
		body := get(b, s.client, http.MethodGet, target, s.header())
		bareURL := bare(b, bytes.Repeat([]byte("x"), len(body)))
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				get(b, s.client, http.MethodGet, target, s.header())
			}
		})
		b.Run(tc.name+"_bare", func(b *testing.B) {
			c := newClient()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				get(b, c, http.MethodGet, bareURL, nil)
			}
		})
	}
}

// BenchmarkOrgNewDelete creates and deletes an org per iteration over
// HTTP: two write transactions with their activity entries.
func BenchmarkOrgNewDelete(b *testing.B) {
	s := newServer(b)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		body := s.mustOK(b, http.MethodPost, url.Values{"mode": {"orgs"}, "action": {"new"}, "title": {"Churn"}})
		var env struct {
			Data struct {
				OrgID int64 `json:"org_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
		s.mustOK(b, http.MethodPost, url.Values{"mode": {"orgs"}, "action": {"delete"}, "org_id": {fmt.Sprint(env.Data.OrgID)}})
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
}

// TestServerSetup keeps the benchmark wiring under go test, so it cannot
// rot between benchmark runs.
func TestServerSetup(t *testing.T) {
	s := newServer(t)
	body := s.mustOK(t, http.MethodGet, url.Values{"mode": {"orgs"}, "action": {"list"}})
	if !strings.Contains(string(body), `"total":10`) {
		t.Errorf("orgs list: %s", body)
	}
}
