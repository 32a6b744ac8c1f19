package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
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

func TestMCPToolsOverStdio(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sp.db")
	if code, _, stderr := run(t, "user", "create", "--db", db, "--email", "ann@example.com", "--password", "ann-password", "--plan", "pro"); code != 0 {
		t.Fatalf("create user: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "instance", "create", "--db", db, "--user", "ann@example.com", "--name", "Web"); code != 0 {
		t.Fatalf("create instance: exit %d: %s", code, stderr)
	}
	t.Setenv("SHAREPANEL_API_KEY", loginOverRPC(t, db, "ann@example.com", "ann-password"))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	toServerR, toServerW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	var stderr bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		code := cli.Run(ctx, []string{"mcp", "--db", db}, toServerR, toClientW, &stderr)
		toClientW.Close()
		exit <- code
	}()

	client := mcp.NewClient(&mcp.Implementation{Name: "sharepanel-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.IOTransport{Reader: toClientR, Writer: toServerW}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}

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
	if tool := tools["orgs_list"]; tool != nil && (tool.Annotations == nil || !tool.Annotations.ReadOnlyHint) {
		t.Errorf("orgs_list: annotations %+v, want readOnlyHint", tool.Annotations)
	}
	if tool := tools["orgs_delete"]; tool != nil {
		if tool.Annotations == nil || tool.Annotations.ReadOnlyHint {
			t.Errorf("orgs_delete: annotations %+v, want not read-only", tool.Annotations)
		} else if tool.Annotations.DestructiveHint == nil || !*tool.Annotations.DestructiveHint {
			t.Errorf("orgs_delete: destructiveHint %v, want true", tool.Annotations.DestructiveHint)
		}
	}
	if tool := tools["orgs_new"]; tool != nil && (tool.Annotations.DestructiveHint == nil || *tool.Annotations.DestructiveHint) {
		t.Errorf("orgs_new: destructiveHint %v, want false", tool.Annotations.DestructiveHint)
	}
	if tool := tools["orgs_view"]; tool != nil {
		schema, _ := json.Marshal(tool.InputSchema)
		if !strings.Contains(string(schema), `"required":["org_id"]`) || !strings.Contains(string(schema), `"org_id":{`) {
			t.Errorf("orgs_view input schema %s, want org_id required", schema)
		}
	}

	// A write tool, then a read tool that sees its effect.
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

	if err := session.Close(); err != nil {
		t.Errorf("close session: %v", err)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("sharepanel mcp: exit %d, want 0\nstderr:\n%s", code, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("sharepanel mcp did not exit after the client closed the session")
	}
	if strings.Contains(stderr.String(), "sp_") {
		t.Errorf("the log contains a key:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"tool call"`) {
		t.Errorf("the log has no tool call lines:\n%s", stderr.String())
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
}
