package benchmarks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage/sqlite"
	"github.com/sharepanel/sharepanel/transport/httpapi"
	"github.com/sharepanel/sharepanel/transport/jsonrpc"
)

// newEngine opens an Engine over a SQLite file with one user and returns
// it with the user's key.
func newEngine(tb testing.TB) (*sharepanel.Engine, string) {
	tb.Helper()
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "bench.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	engine, err := sharepanel.New(store, sharepanel.Config{Plans: benchPlans(), BcryptCost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { engine.Close() })
	ctx := context.Background()
	u, err := engine.CreateUser(ctx, domain.NewUser{Email: "bench@example.com", Password: "password-1", Plan: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	key, err := engine.IssueAPIKey(ctx, u.ID, "bench", true, true, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return engine, key
}

// rpcPipe is a JSON-RPC server on in-process pipes.
type rpcPipe struct {
	in  io.WriteCloser
	out *bufio.Reader
}

func newRPCPipe(tb testing.TB, engine *sharepanel.Engine) *rpcPipe {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- jsonrpc.New(engine, jsonrpc.Options{}).Serve(context.Background(), inR, outW) }()
	tb.Cleanup(func() {
		inW.Close()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return &rpcPipe{in: inW, out: bufio.NewReaderSize(outR, 64<<10)}
}

// call sends one line and reads one reply line.
func (p *rpcPipe) call(tb testing.TB, line string) string {
	if _, err := io.WriteString(p.in, line); err != nil {
		tb.Fatal(err)
	}
	reply, err := p.out.ReadString('\n')
	if err != nil {
		tb.Fatal(err)
	}
	return reply
}

// BenchmarkProfileViewTransports runs profile.view one request at a time
// through the JSON-RPC server over an in-process pipe and through the HTTP
// handler called directly (no network), on the same kind of Engine and
// SQLite file, and reports requests per second.
func BenchmarkProfileViewTransports(b *testing.B) {
	b.Run("jsonrpc_pipe", func(b *testing.B) {
		engine, key := newEngine(b)
		p := newRPCPipe(b, engine)
		line := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"profile.view","params":{"apikey":%q}}`+"\n", key)
		if reply := p.call(b, line); !strings.Contains(reply, `"result"`) {
			b.Fatalf("profile.view: %s", reply)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			p.call(b, line)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})

	b.Run("http_handler", func(b *testing.B) {
		engine, key := newEngine(b)
		h := httpapi.New(engine, httpapi.Options{})
		serve := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/?mode=profile&action=view", nil)
			req.Header.Set("X-API-Key", key)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		if rec := serve(); rec.Code != http.StatusOK {
			b.Fatalf("profile view: %d %s", rec.Code, rec.Body)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			serve()
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})
}

// TestRPCPipeSetup keeps the JSON-RPC benchmark wiring under go test.
func TestRPCPipeSetup(t *testing.T) {
	engine, key := newEngine(t)
	p := newRPCPipe(t, engine)
	reply := p.call(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"profile.view","params":{"apikey":%q}}`+"\n", key))
	if !strings.Contains(reply, `"email":"bench@example.com"`) {
		t.Errorf("profile.view: %s", reply)
	}
}
