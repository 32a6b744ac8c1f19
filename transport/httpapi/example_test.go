package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage/memory"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// Example mounts the API under /api/ and logs in with a form body.
func Example() {
	ctx := context.Background()
	engine, err := sharepanel.New(memory.New(), sharepanel.Config{
		// A fixed clock keeps the printed timestamp stable.
		Now: func() time.Time { return time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	defer engine.Close()
	if _, err := engine.CreateUser(ctx, domain.NewUser{Email: "ada@example.com", Password: "correct horse", Plan: "free"}); err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", httpapi.New(engine, httpapi.Options{})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	form := url.Values{"mode": {"auth"}, "email": {"ada@example.com"}, "password": {"correct horse"}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/", strings.NewReader(form.Encode()))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-Id", "example-1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	var envelope struct {
		Status    string            `json:"status"`
		Message   string            `json:"message"`
		Timestamp string            `json:"timestamp"`
		Data      map[string]string `json:"data"`
		RequestID string            `json:"request_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&envelope); err != nil {
		panic(err)
	}
	// The key is random, so the example prints whether it is well-formed.
	fmt.Println(resp.StatusCode, envelope.Status, envelope.Message)
	fmt.Println("timestamp:", envelope.Timestamp)
	fmt.Println("request_id:", envelope.RequestID)
	fmt.Println("api_key well-formed:", domain.ValidAPIKeyFormat(envelope.Data["api_key"]))
	// Output:
	// 200 success Authentication successful
	// timestamp: 2026-01-02T15:04:05+00:00
	// request_id: example-1
	// api_key well-formed: true
}
