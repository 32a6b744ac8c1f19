package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// BenchmarkLoopback compares an authenticated profile view through the
// handler with a handler that writes a constant body, both over loopback
// HTTP with keep-alive connections.
func BenchmarkLoopback(b *testing.B) {
	unlimited := domain.Catalog{
		{Name: "unlimited", DailyRequests: 1 << 30, PerMinute: 1 << 30, MaxPayloadBytes: 1 << 20, OrgLimit: 1, InstanceLimit: 1},
	}
	run := func(b *testing.B, h http.Handler, target string) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := srv.Client()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(srv.URL + target)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}

	b.Run("bare", func(b *testing.B) {
		body := []byte(`{"status":"success","message":"Profile retrieved successfully","timestamp":"2026-03-10T12:00:30+00:00","data":{"id":1},"request_id":"0123456789abcdef"}` + "\n")
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write(body)
		}), "/?mode=profile&action=view")
	})

	for _, be := range backends {
		b.Run("api/"+be.name, func(b *testing.B) {
			store := be.open(b)
			defer store.Close()
			engine, err := sharepanel.New(store, sharepanel.Config{Plans: unlimited, BcryptCost: 4})
			if err != nil {
				b.Fatal(err)
			}
			defer engine.Close()
			ctx := b.Context()
			u, err := engine.CreateUser(ctx, domain.NewUser{Email: "bench@example.com", Password: "bench password", Plan: "unlimited"})
			if err != nil {
				b.Fatal(err)
			}
			key, err := engine.IssueAPIKey(ctx, u.ID, "bench", true, false, nil)
			if err != nil {
				b.Fatal(err)
			}
			run(b, httpapi.New(engine, httpapi.Options{}), "/?mode=profile&action=view&apikey="+key)
		})
	}
}
