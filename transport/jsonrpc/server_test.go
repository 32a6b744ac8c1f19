package jsonrpc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
	"github.com/sharepanel/sharepanel/transport/jsonrpc"
)

// countingStore counts writable transactions, so tests can check that a
// rejected request wrote nothing.
type countingStore struct {
	storage.Store
	writes atomic.Int64
}

var _ storage.Store = (*countingStore)(nil)

func (s *countingStore) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	if writable {
		s.writes.Add(1)
	}
	return s.Store.Begin(ctx, writable)
}

type fixture struct {
	t      *testing.T
	store  *countingStore
	engine *sharepanel.Engine
	server *jsonrpc.Server
}

// smallPlans gives the free plan a payload cap of 8 KiB, so tests reach it
// with short lines, and pro a cap of 1 MiB.
func smallPlans() domain.Catalog {
	return domain.Catalog{
		{Name: "free", DailyRequests: 1000, PerMinute: 1000, MaxPayloadBytes: 8 << 10, OrgLimit: 5, InstanceLimit: 5},
		{Name: "pro", DailyRequests: 1000, PerMinute: 1000, MaxPayloadBytes: 1 << 20, OrgLimit: 5, InstanceLimit: 5},
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := &countingStore{Store: memory.New()}
	e, err := sharepanel.New(store, sharepanel.Config{Plans: smallPlans(), BcryptCost: 4, UsageFlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &fixture{t: t, store: store, engine: e, server: jsonrpc.New(e, jsonrpc.Options{})}
}

// user creates an account and returns a key with the given permissions.
func (f *fixture) user(email, plan string, read, write bool) string {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.engine.CreateUser(ctx, domain.NewUser{Email: email, Password: "password-1", Plan: plan})
	if err != nil {
		f.t.Fatal(err)
	}
	key, err := f.engine.IssueAPIKey(ctx, u.ID, "test", read, write, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return key
}

// serve runs Serve over input and returns the output lines.
func (f *fixture) serve(input string) []string {
	f.t.Helper()
	var out bytes.Buffer
	if err := f.server.Serve(context.Background(), strings.NewReader(input), &out); err != nil {
		f.t.Fatalf("Serve: %v", err)
	}
	text := strings.TrimSuffix(out.String(), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// reply is a decoded reply with the fields tests check.
type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  *struct {
		Message    string          `json:"message"`
		Data       json.RawMessage `json:"data"`
		Pagination *struct {
			Total int `json:"total"`
		} `json:"pagination"`
		RateLimit *struct {
			Limit     int `json:"limit"`
			Remaining int `json:"remaining"`
		} `json:"rate_limit"`
		RequestID string `json:"request_id"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Status    int    `json:"status"`
			Code      string `json:"code"`
			RequestID string `json:"request_id"`
			MaxBytes  int64  `json:"max_bytes"`
		} `json:"data"`
	} `json:"error"`
}

func decode(t *testing.T, line string) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("reply %q is not a JSON object: %v", line, err)
	}
	if r.JSONRPC != "2.0" {
		t.Errorf("reply %s: jsonrpc %q, want 2.0", line, r.JSONRPC)
	}
	return r
}

// wantError checks that line is an error reply with the given id, codes
// and status.
func wantError(t *testing.T, line, id string, code int, name string, status int) reply {
	t.Helper()
	r := decode(t, line)
	if string(r.ID) != id {
		t.Errorf("reply %s: id %s, want %s", line, r.ID, id)
	}
	if r.Error == nil {
		t.Fatalf("reply %s: no error, want code %d", line, code)
	}
	if r.Error.Code != code {
		t.Errorf("reply %s: code %d, want %d", line, r.Error.Code, code)
	}
	if r.Error.Data.Code != name {
		t.Errorf("reply %s: data.code %q, want %q", line, r.Error.Data.Code, name)
	}
	if r.Error.Data.Status != status {
		t.Errorf("reply %s: data.status %d, want %d", line, r.Error.Data.Status, status)
	}
	if r.Error.Data.RequestID == "" {
		t.Errorf("reply %s: no data.request_id", line)
	}
	return r
}

// repliesByID indexes reply lines by their raw id.
func repliesByID(t *testing.T, lines []string) map[string]string {
	t.Helper()
	byID := map[string]string{}
	for _, line := range lines {
		byID[string(decode(t, line).ID)] = line
	}
	return byID
}

func wantResult(t *testing.T, line, id string) reply {
	t.Helper()
	r := decode(t, line)
	if string(r.ID) != id {
		t.Errorf("reply %s: id %s, want %s", line, r.ID, id)
	}
	if r.Result == nil {
		t.Fatalf("reply %s: no result", line)
	}
	return r
}

func TestCallWithKeyInParams(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"profile.view","params":{"apikey":"` + key + `"}}` + "\n")
	if len(lines) != 1 {
		t.Fatalf("%d replies, want 1: %q", len(lines), lines)
	}
	r := wantResult(t, lines[0], "1")
	if r.Result.Message != domain.MsgProfileViewed {
		t.Errorf("message %q, want %q", r.Result.Message, domain.MsgProfileViewed)
	}
	if !strings.Contains(string(r.Result.Data), `"email":"ann@example.com"`) {
		t.Errorf("data %s, want the profile", r.Result.Data)
	}
	if r.Result.RateLimit == nil || r.Result.RateLimit.Limit != 1000 || r.Result.RateLimit.Remaining != 999 {
		t.Errorf("rate_limit %+v, want limit 1000, remaining 999", r.Result.RateLimit)
	}
	if r.Result.RequestID == "" {
		t.Error("no request_id")
	}
}

func TestParamsConvertScalars(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)

	// Separate Serve calls, because the requests of one run concurrently.
	lines := f.serve(fmt.Sprintf(`{"jsonrpc":"2.0","id":"new","method":"orgs.new","params":{"api_key":%q,"title":12.50,"path":"twelve"}}`+"\n", key))
	wantResult(t, lines[0], `"new"`)

	lines = f.serve(fmt.Sprintf(`{"jsonrpc":"2.0","id":"dry","method":"orgs.delete","params":{"apikey":%q,"org_id":1,"dry_run":true}}`+"\n", key))
	if r := wantResult(t, lines[0], `"dry"`); string(r.Result.Data) != "[1]" {
		t.Errorf("orgs.delete dry run: data %s, want [1]", r.Result.Data)
	}

	lines = f.serve(fmt.Sprintf(`{"jsonrpc":"2.0","id":"view","method":"orgs.view","params":{"apikey":%q,"org_id":"1","unused":null}}`+"\n", key))
	if r := wantResult(t, lines[0], `"view"`); !strings.Contains(string(r.Result.Data), `"title":"12.50"`) {
		t.Errorf("orgs.view: data %s, want title 12.50", r.Result.Data)
	}
}

func TestSessionUseKey(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	input := `{"jsonrpc":"2.0","id":1,"method":"profile.view"}
{"jsonrpc":"2.0","id":2,"method":"session.use_key","params":{"apikey":"` + key + `"}}
{"jsonrpc":"2.0","id":3,"method":"profile.view"}
{"jsonrpc":"2.0","id":4,"method":"session.use_key","params":{"apikey":"not-a-key"}}
{"jsonrpc":"2.0","id":5,"method":"session.use_key","params":{}}
{"jsonrpc":"2.0","id":6,"method":"profile.view","params":{"apikey":"sp_wrong"}}
`
	lines := f.serve(input)
	if len(lines) != 6 {
		t.Fatalf("%d replies, want 6: %q", len(lines), lines)
	}
	byID := map[string]string{}
	for _, line := range lines {
		byID[string(decode(t, line).ID)] = line
	}
	wantError(t, byID["1"], "1", -32001, "invalid_api_key", 401)
	if r := wantResult(t, byID["2"], "2"); r.Result.Message != jsonrpc.MsgKeySet {
		t.Errorf("message %q, want %q", r.Result.Message, jsonrpc.MsgKeySet)
	}
	wantResult(t, byID["3"], "3")
	wantError(t, byID["4"], "4", -32001, "invalid_api_key", 401)
	wantError(t, byID["5"], "5", jsonrpc.CodeInvalidParams, "missing_parameter", 400)
	// A key in params takes precedence over the session's key.
	wantError(t, byID["6"], "6", -32001, "invalid_api_key", 401)
}

func TestSessionUseKeyRejectsOtherMembers(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	tests := []struct {
		name    string
		params  string
		message string
	}{
		{name: "idempotency key", params: `{"apikey":"` + key + `","idempotency_key":"k1"}`, message: "Unknown parameter: idempotency_key"},
		{name: "key twice", params: `{"apikey":"` + key + `","api_key":"` + key + `"}`, message: "Unknown parameter: api_key. Send the key once, in apikey or in api_key"},
		{name: "other name", params: `{"api_key":"` + key + `","colour":"blue"}`, message: "Unknown parameter: colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"session.use_key","params":` + tt.params + "}\n" +
				`{"jsonrpc":"2.0","id":2,"method":"profile.view"}` + "\n")
			byID := repliesByID(t, lines)
			r := wantError(t, byID["1"], "1", jsonrpc.CodeInvalidParams, "unknown_parameter", 400)
			if r.Error.Message != tt.message {
				t.Errorf("message %q, want %q", r.Error.Message, tt.message)
			}
			// The key was not set.
			wantError(t, byID["2"], "2", -32001, "invalid_api_key", 401)
		})
	}

	// api_key alone sets the key.
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"session.use_key","params":{"api_key":"` + key + `"}}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"profile.view"}` + "\n")
	byID := repliesByID(t, lines)
	wantResult(t, byID["1"], "1")
	wantResult(t, byID["2"], "2")
}

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		id     string
		code   int
		errKey string
		status int
	}{
		{name: "not JSON", line: `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`, id: "null", code: -32700, errKey: "parse_error", status: 400},
		{name: "invalid UTF-8", line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", id: "null", code: -32700, errKey: "parse_error", status: 400},
		{name: "scalar", line: `42`, id: "null", code: -32600, errKey: "invalid_request", status: 400},
		{name: "empty batch", line: `[]`, id: "null", code: -32600, errKey: "invalid_request", status: 400},
		{name: "wrong version", line: `{"jsonrpc":"1.0","id":7,"method":"profile.view"}`, id: "7", code: -32600, errKey: "invalid_request", status: 400},
		{name: "no version", line: `{"id":7,"method":"profile.view"}`, id: "7", code: -32600, errKey: "invalid_request", status: 400},
		{name: "method not a string", line: `{"jsonrpc":"2.0","method":1,"params":"bar"}`, id: "null", code: -32600, errKey: "invalid_request", status: 400},
		{name: "object id", line: `{"jsonrpc":"2.0","id":{"a":1},"method":"profile.view"}`, id: "null", code: -32600, errKey: "invalid_request", status: 400},
		{name: "scalar params", line: `{"jsonrpc":"2.0","id":7,"method":"profile.view","params":"x"}`, id: "7", code: -32600, errKey: "invalid_request", status: 400},
		{name: "unknown mode", line: `{"jsonrpc":"2.0","id":"a","method":"nonsense.list"}`, id: `"a"`, code: -32601, errKey: "invalid_mode", status: 400},
		{name: "unknown action", line: `{"jsonrpc":"2.0","id":"a","method":"orgs.archive"}`, id: `"a"`, code: -32601, errKey: "invalid_action", status: 400},
		{name: "positional params", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.list","params":[1,2]}`, id: "3", code: -32602, errKey: "invalid_parameter", status: 400},
		{name: "object param", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.list","params":{"limit":{"n":1}}}`, id: "3", code: -32602, errKey: "invalid_parameter", status: 400},
		{name: "array param", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.list","params":{"limit":[1]}}`, id: "3", code: -32602, errKey: "invalid_parameter", status: 400},
		{name: "unknown param", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.list","params":{"colour":"blue"}}`, id: "3", code: -32602, errKey: "unknown_parameter", status: 400},
		{name: "discover with params", line: `{"jsonrpc":"2.0","id":3,"method":"rpc.discover","params":{"x":1}}`, id: "3", code: -32602, errKey: "unknown_parameter", status: 400},
		{name: "method twice", line: `{"jsonrpc":"2.0","id":7,"method":"orgs.list","method":"orgs.new","params":{"title":"Twice"}}`, id: "7", code: -32600, errKey: "invalid_request", status: 400},
		{name: "id twice", line: `{"jsonrpc":"2.0","id":7,"id":8,"method":"orgs.new","params":{"title":"Twice"}}`, id: "null", code: -32600, errKey: "invalid_request", status: 400},
		{name: "escaped name twice", line: `{"jsonrpc":"2.0","id":7,"method":"orgs.list","\u006dethod":"orgs.new","params":{"title":"Twice"}}`, id: "7", code: -32600, errKey: "invalid_request", status: 400},
		{name: "params twice", line: `{"jsonrpc":"2.0","id":7,"method":"orgs.new","params":{"title":"One"},"params":{"title":"Two"}}`, id: "7", code: -32600, errKey: "invalid_request", status: 400},
		{name: "lone low surrogate", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.new","params":{"title":"x\udc00y"}}`, id: "null", code: -32700, errKey: "parse_error", status: 400},
		{name: "lone high surrogate", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.new","params":{"title":"x\ud800"}}`, id: "null", code: -32700, errKey: "parse_error", status: 400},
		{name: "surrogate in name", line: `{"jsonrpc":"2.0","id":3,"method":"orgs.new","params":{"t\udc00":"x"}}`, id: "null", code: -32700, errKey: "parse_error", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			key := f.user("ann@example.com", "free", true, true)
			before := f.store.writes.Load()
			line := strings.Replace(tt.line, `"params":{`, `"params":{"apikey":"`+key+`",`, 1)
			lines := f.serve(line + "\n" + `{"jsonrpc":"2.0","id":"next","method":"profile.view","params":{"apikey":"` + key + `"}}` + "\n")
			if len(lines) != 2 {
				t.Fatalf("%d replies, want 2 (the server must read on): %q", len(lines), lines)
			}
			byID := repliesByID(t, lines)
			wantResult(t, byID[`"next"`], `"next"`)
			delete(byID, `"next"`)
			for _, line := range byID {
				wantError(t, line, tt.id, tt.code, tt.errKey, tt.status)
			}
			if n := f.store.writes.Load() - before; n != 0 {
				t.Errorf("%d writable transactions, want 0", n)
			}
		})
	}
}

func TestDuplicateMember(t *testing.T) {
	f := newFixture(t)
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"rpc.discover","method":"orgs.list"}` + "\n")
	r := wantError(t, lines[0], "1", -32600, "invalid_request", 400)
	if want := "Invalid request: member method appears more than once"; r.Error.Message != want {
		t.Errorf("message %q, want %q", r.Error.Message, want)
	}

	// In a batch, only the request with the repeated member is rejected.
	lines = f.serve(`[{"jsonrpc":"2.0","id":1,"jsonrpc":"2.0","method":"rpc.discover"},{"jsonrpc":"2.0","id":2,"method":"rpc.discover"}]` + "\n")
	var replies []json.RawMessage
	if err := json.Unmarshal([]byte(lines[0]), &replies); err != nil || len(replies) != 2 {
		t.Fatalf("batch reply %s: want an array of 2 (%v)", lines[0], err)
	}
	wantError(t, string(replies[0]), "1", -32600, "invalid_request", 400)
	wantResult(t, string(replies[1]), "2")
}

func TestSurrogateEscapes(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)

	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"orgs.new","params":{"apikey":"` + key + `","title":"x\udc00y"}}` + "\n")
	r := wantError(t, lines[0], "null", -32700, "parse_error", 400)
	if want := `Parse error: the message is not valid Unicode, because a \u escape is an unpaired UTF-16 surrogate`; r.Error.Message != want {
		t.Errorf("message %q, want %q", r.Error.Message, want)
	}

	// A pair of surrogates and an escaped backslash before "udc00" are
	// valid text.
	lines = f.serve(`{"jsonrpc":"2.0","id":2,"method":"orgs.new","params":{"apikey":"` + key + `","title":"smile \ud83d\ude00 \\udc00"}}` + "\n")
	wantResult(t, lines[0], "2")
	lines = f.serve(`{"jsonrpc":"2.0","id":3,"method":"orgs.view","params":{"apikey":"` + key + `","org_id":1}}` + "\n")
	if r := wantResult(t, lines[0], "3"); !strings.Contains(string(r.Result.Data), `"title":"smile 😀 \\udc00"`) {
		t.Errorf("orgs.view: data %s, want the title decoded", r.Result.Data)
	}
}

func TestStringParamsRejectsLoneSurrogates(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		valid bool
	}{
		{name: "lone low", raw: `{"a":"\udc00"}`},
		{name: "lone high at end", raw: `{"a":"x\ud800"}`},
		{name: "high then text", raw: `{"a":"\ud800x\udc00"}`},
		{name: "two highs", raw: `{"a":"\ud800\ud800"}`},
		{name: "reversed pair", raw: `{"a":"\udc00\ud800"}`},
		{name: "upper-case hex", raw: `{"a":"\uDFFF"}`},
		{name: "in a name", raw: `{"\udc00":"a"}`},
		{name: "raw invalid UTF-8", raw: "{\"a\":\"\xff\"}"},
		{name: "pair", raw: `{"a":"\uD83D\uDE00"}`, valid: true},
		{name: "escaped backslash", raw: `{"a":"\\udc00"}`, valid: true},
		{name: "replacement character", raw: `{"a":"\ufffd"}`, valid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, derr := jsonrpc.StringParams(json.RawMessage(tt.raw))
			switch {
			case tt.valid && derr != nil:
				t.Errorf("StringParams(%s): %v, want no error", tt.raw, derr)
			case !tt.valid && derr == nil:
				t.Errorf("StringParams(%s): no error, want invalid_parameter", tt.raw)
			case !tt.valid && derr.Code != domain.CodeInvalidParameter:
				t.Errorf("StringParams(%s): code %s, want invalid_parameter", tt.raw, derr.Code)
			}
		})
	}
}

func TestByteOrderMarkAtStart(t *testing.T) {
	f := newFixture(t)
	bom := "\xef\xbb\xbf"
	lines := f.serve(bom + `{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}` + "\n" +
		bom + `{"jsonrpc":"2.0","id":2,"method":"rpc.discover"}` + "\n")
	if len(lines) != 2 {
		t.Fatalf("%d replies, want 2: %q", len(lines), lines)
	}
	// Only the mark at the start of the input is dropped.
	wantResult(t, lines[0], "1")
	wantError(t, lines[1], "null", -32700, "parse_error", 400)
}

func TestWrongParamTypesWriteNothing(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	before := f.store.writes.Load()
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"orgs.new","params":{"apikey":"` + key + `","title":["a"]}}` + "\n")
	wantError(t, lines[0], "1", jsonrpc.CodeInvalidParams, "invalid_parameter", 400)
	if n := f.store.writes.Load() - before; n != 0 {
		t.Errorf("%d writable transactions, want 0", n)
	}
}

func TestOversizeLine(t *testing.T) {
	f := newFixture(t)
	freeKey := f.user("ann@example.com", "free", true, true)
	proKey := f.user("pro@example.com", "pro", true, true)

	// The free cap is 8 KiB: a 10 KiB line is dropped, and the next line is
	// still read.
	big := `{"jsonrpc":"2.0","id":1,"method":"profile.update","params":{"apikey":"` + freeKey + `","bio":"` + strings.Repeat("x", 10<<10) + `"}}`
	lines := f.serve(big + "\n" + `{"jsonrpc":"2.0","id":2,"method":"rpc.discover"}` + "\n")
	if len(lines) != 2 {
		t.Fatalf("%d replies, want 2: %q", len(lines), lines)
	}
	r := wantError(t, lines[0], "null", -32009, "payload_too_large", 413)
	if r.Error.Data.MaxBytes != 8<<10 {
		t.Errorf("max_bytes %d, want %d", r.Error.Data.MaxBytes, 8<<10)
	}
	wantResult(t, lines[1], "2")

	// With a pro key set for the session, the same size is read, and the
	// free key in the line's params still gets its own plan's cap.
	useKey := `{"jsonrpc":"2.0","id":0,"method":"session.use_key","params":{"apikey":"` + proKey + `"}}`
	proLine := `{"jsonrpc":"2.0","id":3,"method":"profile.update","params":{"bio":"` + strings.Repeat("y", 10<<10) + `"}}`
	lines = f.serve(useKey + "\n" + proLine + "\n" + big + "\n")
	if len(lines) != 3 {
		t.Fatalf("%d replies, want 3: %q", len(lines), lines)
	}
	byID := map[string]string{}
	for _, line := range lines {
		byID[string(decode(t, line).ID)] = line
	}
	r = wantError(t, byID["3"], "3", jsonrpc.CodeInvalidParams, "invalid_parameter", 400)
	if !strings.Contains(r.Error.Message, "bio") {
		t.Errorf("message %q, want it to name bio (its length limit, not the payload cap)", r.Error.Message)
	}
	r = wantError(t, byID["1"], "1", -32009, "payload_too_large", 413)
	if r.Error.Data.MaxBytes != 8<<10 {
		t.Errorf("max_bytes %d for the free key in params, want %d", r.Error.Data.MaxBytes, 8<<10)
	}
}

func TestEOFInTheMiddleOfAMessage(t *testing.T) {
	f := newFixture(t)
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}` + "\n" + `{"jsonrpc":"2.0","id":2,"meth`)
	if len(lines) != 2 {
		t.Fatalf("%d replies, want 2: %q", len(lines), lines)
	}
	wantResult(t, lines[0], "1")
	r := wantError(t, lines[1], "null", -32700, "parse_error", 400)
	if !strings.Contains(r.Error.Message, "ended in the middle") {
		t.Errorf("message %q, want it to say the input ended", r.Error.Message)
	}

	// A complete request without its newline still runs.
	lines = f.serve(`{"jsonrpc":"2.0","id":3,"method":"rpc.discover"}`)
	if len(lines) != 1 {
		t.Fatalf("%d replies, want 1: %q", len(lines), lines)
	}
	wantResult(t, lines[0], "3")
}

func TestBatch(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	batch := `[{"jsonrpc":"2.0","id":1,"method":"session.use_key","params":{"apikey":"` + key + `"}},` +
		`{"jsonrpc":"2.0","id":2,"method":"profile.view"},` +
		`{"jsonrpc":"2.0","method":"orgs.new","params":{"title":"Quiet"}},` +
		`{"foo":"boo"},` +
		`{"jsonrpc":"2.0","id":"x","method":"get_data"},` +
		`{"jsonrpc":"2.0","id":5,"method":"orgs.list"}]`

	lines := f.serve(batch + "\n" + `[{"jsonrpc":"2.0","method":"profile.view"}]` + "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1 (a batch of notifications gets none): %q", len(lines), lines)
	}

	var replies []json.RawMessage
	if err := json.Unmarshal([]byte(lines[0]), &replies); err != nil {
		t.Fatalf("batch reply %s: %v", lines[0], err)
	}
	if len(replies) != 5 {
		t.Fatalf("%d replies, want 5 (no reply to the notification): %s", len(replies), lines[0])
	}
	wantResult(t, string(replies[0]), "1")
	wantResult(t, string(replies[1]), "2")
	wantError(t, string(replies[2]), "null", -32600, "invalid_request", 400)
	wantError(t, string(replies[3]), `"x"`, -32601, "invalid_mode", 400)
	// The notification ran. Its org may be missing from reply 5, because
	// the batch's calls run concurrently, but a later request lists it.
	wantResult(t, string(replies[4]), "5")

	lines = f.serve(`{"jsonrpc":"2.0","id":6,"method":"orgs.list","params":{"apikey":"` + key + `"}}` + "\n")
	if r := wantResult(t, lines[0], "6"); r.Result.Pagination == nil || r.Result.Pagination.Total != 1 {
		t.Errorf("orgs.list after the batch: %s, want 1 org", lines[0])
	}
}

func TestBatchTooLarge(t *testing.T) {
	f := newFixture(t)
	elems := make([]string, jsonrpc.MaxBatch+1)
	for i := range elems {
		elems[i] = `{"jsonrpc":"2.0","method":"x"}`
	}
	lines := f.serve("[" + strings.Join(elems, ",") + "]\n")
	wantError(t, lines[0], "null", -32600, "invalid_request", 400)
}

func TestReadOnlyKeyCannotWrite(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, false)
	before := f.store.writes.Load()
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"orgs.new","params":{"apikey":"` + key + `","title":"X"}}` + "\n")
	r := wantError(t, lines[0], "1", -32003, "permission_denied", 403)
	if r.Error.Message != domain.MsgWriteDenied {
		t.Errorf("message %q, want %q", r.Error.Message, domain.MsgWriteDenied)
	}
	if n := f.store.writes.Load() - before; n != 0 {
		t.Errorf("%d writable transactions, want 0", n)
	}
}

func TestRateLimitApplies(t *testing.T) {
	store := memory.New()
	plans := domain.Catalog{{Name: "free", DailyRequests: 1000, PerMinute: 2, MaxPayloadBytes: 1 << 20, OrgLimit: 1, InstanceLimit: 1}}
	e, err := sharepanel.New(store, sharepanel.Config{Plans: plans, BcryptCost: 4, UsageFlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	u, err := e.CreateUser(context.Background(), domain.NewUser{Email: "ann@example.com", Password: "password-1", Plan: "free"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.IssueAPIKey(context.Background(), u.ID, "test", true, true, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The three requests run concurrently. Whatever their order, exactly
	// one of them is over the limit of 2 a minute.
	line := `{"jsonrpc":"2.0","id":%d,"method":"profile.view","params":{"apikey":"` + key + `"}}` + "\n"
	var input strings.Builder
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&input, line, i)
	}
	var out bytes.Buffer
	if err := jsonrpc.New(e, jsonrpc.Options{}).Serve(context.Background(), strings.NewReader(input.String()), &out); err != nil {
		t.Fatal(err)
	}

	limited := 0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r reply
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Error != nil {
			if r.Error.Code != -32010 || r.Error.Data.Status != 429 || r.Error.Data.Code != "rate_limited" {
				t.Errorf("reply %s, want rate_limited", l)
			}
			if !strings.Contains(l, `"retry_after":`) {
				t.Errorf("reply %s has no retry_after", l)
			}
			limited++
		}
	}
	if limited != 1 {
		t.Errorf("%d rate-limited replies, want 1: %s", limited, out.String())
	}
}

func TestNotificationGetsNoReply(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	lines := f.serve(`{"jsonrpc":"2.0","method":"orgs.new","params":{"apikey":"` + key + `","title":"Quiet"}}
{"jsonrpc":"2.0","method":"nonsense"}
{"jsonrpc":"2.0","method":"orgs.new","params":{"title":[1]}}
`)
	if len(lines) != 0 {
		t.Fatalf("replies %q, want none", lines)
	}
	lines = f.serve(`{"jsonrpc":"2.0","id":1,"method":"orgs.list","params":{"apikey":"` + key + `"}}` + "\n")
	if r := wantResult(t, lines[0], "1"); r.Result.Pagination.Total != 1 {
		t.Errorf("orgs.list: %s, want the org the notification created", lines[0])
	}
}

func TestConcurrentRepliesMatchIDs(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	var input strings.Builder
	const n = 50
	for i := 0; i < n; i++ {
		fmt.Fprintf(&input, `{"jsonrpc":"2.0","id":%d,"method":"profile.view","params":{"apikey":%q}}`+"\n", i, key)
	}
	lines := f.serve(input.String())
	if len(lines) != n {
		t.Fatalf("%d replies, want %d", len(lines), n)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		r := decode(t, line)
		if r.Result == nil {
			t.Errorf("reply %s: want a result", line)
		}
		seen[string(r.ID)] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct ids, want %d", len(seen), n)
	}
}

// TestCancelEndsServe checks that Serve returns nil once its context is
// cancelled, while its input is still open.
func TestCancelEndsServe(t *testing.T) {
	f := newFixture(t)
	key := f.user("ann@example.com", "free", true, true)
	pr, pw := io.Pipe()
	defer pw.Close()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.server.Serve(ctx, pr, outW) }()

	if _, err := fmt.Fprintf(pw, `{"jsonrpc":"2.0","id":1,"method":"profile.view","params":{"apikey":%q}}`+"\n", key); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	wantResult(t, line, "1")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

func TestErrorCodeTableCoversEveryCode(t *testing.T) {
	seen := map[int]domain.Code{}
	for code := range domain.Codes() {
		n, ok := jsonrpc.ErrorCodes()[code]
		if !ok {
			t.Errorf("domain code %s has no JSON-RPC code", code)
			continue
		}
		if n >= -32099 && n <= -32000 {
			if other, dup := seen[n]; dup {
				t.Errorf("%s and %s share the server code %d", code, other, n)
			}
			seen[n] = code
		}
	}
}
