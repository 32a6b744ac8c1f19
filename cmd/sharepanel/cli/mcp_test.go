package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
	"github.com/sharepanel/sharepanel/domain"
)

// loginOverRPC runs "sharepanel rpc" with an auth request on stdin and
// returns the new key.
func loginOverRPC(t *testing.T, db, email, password string) string {
	t.Helper()
	params, _ := json.Marshal(map[string]string{"email": email, "password": password})
	in := `{"jsonrpc":"2.0","id":1,"method":"auth","params":` + string(params) + "}\n"
	var stdout, stderr bytes.Buffer
	if code := cli.Run(context.Background(), []string{"rpc", "--db", db}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("sharepanel rpc: exit %d: %s", code, stderr.String())
	}
	var reply struct {
		Result struct {
			Data struct {
				APIKey string `json:"api_key"`
			} `json:"data"`
		} `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &reply); err != nil || reply.Result.Data.APIKey == "" {
		t.Fatalf("auth over rpc: %q (%v)", stdout.String(), err)
	}
	return reply.Result.Data.APIKey
}

// envelopeOf decodes the envelope that a tool returns as text.
func envelopeOf(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("%d content items, want 1", len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(text.Text), &env); err != nil {
		t.Fatalf("tool text %q is not an envelope: %v", text.Text, err)
	}
	return env
}

// mcpServer is a "sharepanel mcp" run in-process, with a go-sdk client
// session connected to its stdin and stdout.
type mcpServer struct {
	session *mcp.ClientSession
	stderr  *bytes.Buffer
	exit    chan int
}

// startMCP runs "sharepanel mcp --db db" with the key in
// $SHAREPANEL_API_KEY and connects a client to it.
func startMCP(t *testing.T, ctx context.Context, db string) *mcpServer {
	t.Helper()
	toServerR, toServerW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	srv := &mcpServer{stderr: &bytes.Buffer{}, exit: make(chan int, 1)}
	go func() {
		code := cli.Run(ctx, []string{"mcp", "--db", db}, toServerR, toClientW, srv.stderr)
		toClientW.Close()
		srv.exit <- code
	}()

	client := mcp.NewClient(&mcp.Implementation{Name: "sharepanel-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.IOTransport{Reader: toClientR, Writer: toServerW}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	srv.session = session
	return srv
}

// stop closes the session and checks that the command exits with 0.
func (srv *mcpServer) stop(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := srv.session.Close(); err != nil {
		t.Errorf("close session: %v", err)
	}
	select {
	case code := <-srv.exit:
		if code != 0 {
			t.Errorf("sharepanel mcp: exit %d, want 0\nstderr:\n%s", code, srv.stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("sharepanel mcp did not exit after the client closed the session")
	}
}

// callTool calls a tool and returns its envelope.
func callTool(t *testing.T, ctx context.Context, session *mcp.ClientSession, name string, args any) (*mcp.CallToolResult, map[string]any) {
	t.Helper()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res, envelopeOf(t, res)
}

// newMCPUser creates a user on the given plan in a new database, sets
// $SHAREPANEL_API_KEY to a key of theirs and returns the database path.
func newMCPUser(t *testing.T, plan string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "sp.db")
	if code, _, stderr := run(t, "user", "create", "--db", db, "--email", "ann@example.com", "--password", "ann-password", "--plan", plan); code != 0 {
		t.Fatalf("create user: exit %d: %s", code, stderr)
	}
	t.Setenv("SHAREPANEL_API_KEY", loginOverRPC(t, db, "ann@example.com", "ann-password"))
	return db
}

func TestMCPToolsOverStdio(t *testing.T) {
	db := newMCPUser(t, "pro")
	if code, _, stderr := run(t, "instance", "create", "--db", db, "--user", "ann@example.com", "--name", "Web"); code != 0 {
		t.Fatalf("create instance: exit %d: %s", code, stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := startMCP(t, ctx, db)
	session := srv.session

	// The tools and their hints.
	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("list tools: %v", err)
	}
	tools := map[string]*mcp.Tool{}
	for _, tool := range list.Tools {
		tools[tool.Name] = tool
	}
	for _, name := range []string{"auth", "profile_view", "orgs_list", "orgs_new", "orgs_delete", "instances_update_status", "api_keys_create"} {
		if tools[name] == nil {
			t.Errorf("tool %s is missing", name)
		}
	}
	hints := []struct {
		tool        string
		readOnly    bool
		destructive bool
	}{
		{tool: "orgs_list", readOnly: true},
		{tool: "profile_view", readOnly: true},
		{tool: "auth"},
		{tool: "orgs_new"},
		{tool: "api_keys_create"},
		{tool: "orgs_update", destructive: true},
		{tool: "profile_update", destructive: true},
		{tool: "instances_update_status", destructive: true},
		{tool: "instances_sleep_all", destructive: true},
		{tool: "instances_awaken_all", destructive: true},
		{tool: "notifications_mark_read", destructive: true},
		{tool: "orgs_delete", destructive: true},
		{tool: "api_keys_delete", destructive: true},
	}
	for _, want := range hints {
		tool := tools[want.tool]
		if tool == nil || tool.Annotations == nil {
			t.Errorf("%s: no tool or no annotations", want.tool)
			continue
		}
		if tool.Annotations.ReadOnlyHint != want.readOnly {
			t.Errorf("%s: readOnlyHint %v, want %v", want.tool, tool.Annotations.ReadOnlyHint, want.readOnly)
		}
		if got := tool.Annotations.DestructiveHint; got == nil || *got != want.destructive {
			t.Errorf("%s: destructiveHint %v, want %v", want.tool, got, want.destructive)
		}
	}
	if tool := tools["instances_update_status"]; tool != nil {
		schema, _ := json.Marshal(tool.InputSchema)
		if !strings.Contains(string(schema), `"enum":["active","sleep","dead"]`) {
			t.Errorf("instances_update_status input schema %s, want the status enum", schema)
		}
	}
	if tool := tools["orgs_view"]; tool != nil {
		schema, _ := json.Marshal(tool.InputSchema)
		if !strings.Contains(string(schema), `"required":["org_id"]`) || !strings.Contains(string(schema), `"org_id":{`) {
			t.Errorf("orgs_view input schema %s, want org_id required", schema)
		}
	}

	// A write tool, then a read tool that lists what it wrote.
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "orgs_new", Arguments: map[string]any{"title": "From MCP"}})
	if err != nil {
		t.Fatalf("call orgs_new: %v", err)
	}
	if res.IsError {
		t.Fatalf("orgs_new: error %v", envelopeOf(t, res))
	}
	if env := envelopeOf(t, res); env["message"] != "Organization created successfully" {
		t.Errorf("orgs_new: message %v", env["message"])
	}
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "orgs_list", Arguments: map[string]any{"limit": 10}})
	if err != nil {
		t.Fatalf("call orgs_list: %v", err)
	}
	env := envelopeOf(t, res)
	if res.IsError {
		t.Fatalf("orgs_list: error %v", env)
	}
	if pagination, _ := env["pagination"].(map[string]any); pagination["total"] != float64(1) {
		t.Errorf("orgs_list: pagination %v, want total 1", env["pagination"])
	}
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "instances_list"})
	if err != nil {
		t.Fatalf("call instances_list: %v", err)
	}
	if data, _ := envelopeOf(t, res)["data"].([]any); len(data) != 1 {
		t.Errorf("instances_list: data %v, want 1 instance", data)
	}

	// API errors come back as tool errors with the API's code.
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "orgs_new", Arguments: map[string]any{"title": []int{1}}})
	if err != nil {
		t.Fatalf("call orgs_new: %v", err)
	}
	if env := envelopeOf(t, res); !res.IsError || env["code"] != "invalid_parameter" {
		t.Errorf("orgs_new with an array title: isError %v, envelope %v, want invalid_parameter", res.IsError, env)
	}
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "orgs_view", Arguments: map[string]any{"org_id": 99}})
	if err != nil {
		t.Fatalf("call orgs_view: %v", err)
	}
	if env := envelopeOf(t, res); !res.IsError || env["code"] != "not_found" {
		t.Errorf("orgs_view of a missing org: isError %v, envelope %v, want not_found", res.IsError, env)
	}

	srv.stop(t, ctx)
	if strings.Contains(srv.stderr.String(), "sp_") {
		t.Errorf("the log contains a key:\n%s", srv.stderr.String())
	}
	if !strings.Contains(srv.stderr.String(), `"msg":"tool call"`) {
		t.Errorf("the log has no tool call lines:\n%s", srv.stderr.String())
	}
}

func TestMCPNeedsAPIKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sp.db")
	t.Setenv("SHAREPANEL_API_KEY", "")
	if code, _, stderr := run(t, "mcp", "--db", db); code != 2 || !strings.Contains(stderr, "SHAREPANEL_API_KEY is not set") {
		t.Errorf("without a key: exit %d, stderr %q; want exit 2 naming the variable", code, stderr)
	}
	t.Setenv("SHAREPANEL_API_KEY", "sp_truncated")
	if code, _, stderr := run(t, "mcp", "--db", db); code != 2 || !strings.Contains(stderr, "not a valid API key") {
		t.Errorf("with a malformed key: exit %d, stderr %q; want exit 2", code, stderr)
	}

	// A well-formed key that no account has, as after the key was deleted.
	t.Setenv("SHAREPANEL_API_KEY", domain.NewAPIKey())
	code, _, stderr := run(t, "mcp", "--db", db)
	if code != 2 {
		t.Errorf("with an unknown key: exit %d, want 2", code)
	}
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "is not a key of the database") {
		t.Errorf("with an unknown key: stderr %q, want one line saying the key is not in the database", stderr)
	}
}

// mcpInitLines are the lines that open an MCP session.
const mcpInitLines = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"script","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
`

// runMCPLines runs "sharepanel mcp" on the given stdin, which ends after
// the last line, and returns the result of each reply by its id.
func runMCPLines(t *testing.T, db, in string) map[string]json.RawMessage {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Run(context.Background(), []string{"mcp", "--db", db}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("sharepanel mcp: exit %d\nstderr:\n%s", code, stderr.String())
	}
	results := map[string]json.RawMessage{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var reply struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &reply); err != nil {
			t.Fatalf("stdout line %q is not a JSON-RPC reply: %v\nstderr:\n%s", line, err, stderr.String())
		}
		if reply.Error != nil {
			t.Errorf("reply %s: error %s", reply.ID, reply.Error)
		}
		results[string(reply.ID)] = reply.Result
	}
	return results
}

// toolResult decodes a tools/call result and its envelope.
func toolResult(t *testing.T, raw json.RawMessage) (isError bool, env map[string]any) {
	t.Helper()
	var res struct {
		IsError           bool           `json:"isError"`
		StructuredContent map[string]any `json:"structuredContent"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.StructuredContent == nil {
		t.Fatalf("tool result %s: no envelope (%v)", raw, err)
	}
	return res.IsError, res.StructuredContent
}

// TestMCPFinishesRequestsAfterEOF sends every message at once and closes
// stdin, as a script piping into sharepanel mcp does. Every request must
// still run and get its reply.
func TestMCPFinishesRequestsAfterEOF(t *testing.T) {
	db := newMCPUser(t, "pro")
	results := runMCPLines(t, db, mcpInitLines+
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"auth","arguments":{"email":"ann@example.com","password":"ann-password"}}}
{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"orgs_new","arguments":{"title":"Piped"}}}
`)
	if results["1"] == nil {
		t.Errorf("no result for initialize")
	}
	for _, id := range []string{"2", "3"} {
		if results[id] == nil {
			t.Errorf("no result for tool call %s", id)
			continue
		}
		if isError, env := toolResult(t, results[id]); isError {
			t.Errorf("tool call %s: error %v", id, env)
		}
	}

	// The org that the last call created is in the database.
	in := `{"jsonrpc":"2.0","id":1,"method":"orgs.list","params":{"apikey":"` + os.Getenv("SHAREPANEL_API_KEY") + `"}}` + "\n"
	var stdout, stderr bytes.Buffer
	if code := cli.Run(context.Background(), []string{"rpc", "--db", db}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("sharepanel rpc: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"title":"Piped"`) {
		t.Errorf("orgs.list: %s, want the org Piped", stdout.String())
	}
}

func TestMCPRejectsLoneSurrogate(t *testing.T) {
	db := newMCPUser(t, "pro")
	results := runMCPLines(t, db, mcpInitLines+
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"orgs_new","arguments":{"title":"x\udc00y"}}}
`)
	isError, env := toolResult(t, results["2"])
	if !isError || env["code"] != "invalid_parameter" || env["message"] != "Invalid params: not valid UTF-8" {
		t.Errorf("orgs_new with a lone surrogate: isError %v, envelope %v, want invalid_parameter", isError, env)
	}
}

func TestMCPRateLimitedHasRetryAfter(t *testing.T) {
	db := newMCPUser(t, "free") // 10 requests a minute
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := startMCP(t, ctx, db)

	var res *mcp.CallToolResult
	var env map[string]any
	for range 11 {
		res, env = callTool(t, ctx, srv.session, "profile_view", nil)
	}
	if !res.IsError || env["code"] != "rate_limited" {
		t.Fatalf("11th call in a minute: isError %v, envelope %v, want rate_limited", res.IsError, env)
	}
	if retryAfter, _ := env["retry_after"].(float64); retryAfter < 1 || retryAfter > 60 {
		t.Errorf("retry_after %v, want 1 to 60 seconds", env["retry_after"])
	}
	srv.stop(t, ctx)
}

func TestMCPArgumentsOverPayloadCap(t *testing.T) {
	db := newMCPUser(t, "free") // 1 MiB payload cap
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := startMCP(t, ctx, db)

	big := strings.Repeat("x", 2<<20)
	res, env := callTool(t, ctx, srv.session, "profile_update", map[string]any{"bio": big})
	if !res.IsError || env["code"] != "payload_too_large" {
		t.Fatalf("2 MiB of arguments: isError %v, code %v, want payload_too_large", res.IsError, env["code"])
	}
	if env["max_bytes"] != float64(1<<20) {
		t.Errorf("max_bytes %v, want %d", env["max_bytes"], 1<<20)
	}
	// The action did not run, so the request was not counted.
	res, env = callTool(t, ctx, srv.session, "profile_view", nil)
	if res.IsError {
		t.Fatalf("profile_view: %v", env)
	}
	srv.stop(t, ctx)
	if strings.Contains(srv.stderr.String(), `"method":"profile.update","status":400`) {
		t.Errorf("profile.update reached the Engine:\n%s", srv.stderr.String())
	}
}
