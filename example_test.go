package sharepanel_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage/memory"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// Example embeds an Engine over in-memory storage, mounts its HTTP handler
// under /api/ and logs in over real HTTP.
func Example() {
	ctx := context.Background()
	engine, err := sharepanel.New(memory.New(), sharepanel.Config{})
	if err != nil {
		panic(err)
	}
	defer engine.Close()
	engine.CreateUser(ctx, domain.NewUser{Email: "ada@example.com", Password: "correct horse", Plan: "pro"})

	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", httpapi.New(engine, httpapi.Options{})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	form := url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}
	resp, err := http.Post(srv.URL+"/api/?mode=auth", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"api_key":"sp_`))
	// Output: 200 true
}
