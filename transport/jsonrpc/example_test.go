package jsonrpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage/memory"
	"github.com/sharepanel/sharepanel/transport/jsonrpc"
)

// Example logs in, sets the new key for the connection and views the
// profile, over a reader and a writer in place of stdin and stdout.
func Example() {
	ctx := context.Background()
	engine, err := sharepanel.New(memory.New(), sharepanel.Config{BcryptCost: 4})
	if err != nil {
		panic(err)
	}
	defer engine.Close()
	if _, err := engine.CreateUser(ctx, domain.NewUser{Email: "ada@example.com", Password: "correct horse", Plan: "free"}); err != nil {
		panic(err)
	}
	server := jsonrpc.New(engine, jsonrpc.Options{})

	// Requests of one Serve call run concurrently, so the login runs on
	// its own before the requests that use its key.
	var out strings.Builder
	login := `{"jsonrpc":"2.0","id":1,"method":"auth","params":{"email":"ada@example.com","password":"correct horse"}}` + "\n"
	if err := server.Serve(ctx, strings.NewReader(login), &out); err != nil {
		panic(err)
	}
	var reply struct {
		Result struct {
			Data struct {
				APIKey string `json:"api_key"`
			} `json:"data"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out.String()), &reply); err != nil {
		panic(err)
	}

	in := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"session.use_key","params":{"apikey":%q}}
{"jsonrpc":"2.0","id":3,"method":"profile.view"}
`, reply.Result.Data.APIKey)
	pr, pw := io.Pipe()
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		dec := json.NewDecoder(pr)
		for dec.More() {
			var r struct {
				ID     int `json:"id"`
				Result struct {
					Message string         `json:"message"`
					Data    map[string]any `json:"data"`
				} `json:"result"`
			}
			if err := dec.Decode(&r); err != nil {
				panic(err)
			}
			fmt.Println(r.ID, r.Result.Message, r.Result.Data["email"])
		}
	}()
	if err := server.Serve(ctx, strings.NewReader(in), pw); err != nil {
		panic(err)
	}
	pw.Close()
	<-printed
	// Output:
	// 2 API key set for this connection <nil>
	// 3 Profile retrieved successfully ada@example.com
}
