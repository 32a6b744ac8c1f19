// Package mcpapi serves a sharepanel.Engine as a Model Context Protocol
// server, built on github.com/modelcontextprotocol/go-sdk. Each action of
// Engine.Actions becomes one tool named MODE_ACTION, such as orgs_list or
// instances_update_status (auth for mode auth). A tool's input schema is
// the JSON Schema of the action's parameters. Its readOnlyHint is set
// when the action writes nothing (so not for auth, which creates a key),
// and its destructiveHint when the action may change or delete existing
// data. Actions that only add records (orgs_new, api_keys_create, auth)
// and reads have destructiveHint false.
//
// Every call runs with the one API key of Options.APIKey, so rate limits
// and the key's permissions apply exactly as over HTTP. Arguments map to
// the API's string parameters as in transport/jsonrpc. Arguments larger
// than the payload cap of the key's plan get payload_too_large, as a body
// that large does over HTTP, and the action does not run.
//
// A tool returns the API's envelope as JSON text and as structured
// content. An API error sets isError, so the model reads the message and
// can correct itself. The envelope of rate_limited and login_throttled
// errors adds retry_after in seconds, and that of payload_too_large adds
// max_bytes.
//
// Transport serves the tools on a reader and writer such as stdin and
// stdout, and finishes every request it has read before it reports the
// end of the input.
package mcpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/internal/wire"
	"github.com/sharepanel/sharepanel/transport/jsonrpc"
)

// Options configures the server.
type Options struct {
	// APIKey is the key of every tool call. Default: none, so every tool
	// but auth returns invalid_api_key.
	APIKey string

	// Logger receives one line per tool call. Default: a logger that
	// discards everything.
	Logger *slog.Logger

	// Version is the server version sent to clients. Default: "dev".
	Version string
}

// New returns an MCP server with one tool per action of e. Run it with
// its Run method on a transport such as mcp.StdioTransport.
func New(e *sharepanel.Engine, opts Options) *mcp.Server {
	if e == nil {
		panic("mcpapi: New called with a nil Engine")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "sharepanel", Title: "SharePanel", Version: opts.Version}, nil)
	minPayload := e.Plans().MinPayload()
	for _, spec := range e.Actions() {
		t := &tool{engine: e, spec: spec, opts: &opts, minPayload: minPayload}
		server.AddTool(t.definition(), t.call)
	}
	return server
}

// ToolName returns the tool name of an action: its method with "_" in
// place of ".", because some MCP clients allow only letters, digits, "_"
// and "-" in tool names.
func ToolName(spec *sharepanel.ActionSpec) string {
	return strings.ReplaceAll(spec.Method(), ".", "_")
}

// tool is one action served as a tool.
type tool struct {
	engine *sharepanel.Engine
	spec   sharepanel.ActionSpec
	opts   *Options
	// minPayload is the smallest payload cap in the plan catalog. Smaller
	// arguments need no look-up of the key's plan.
	minPayload int64
}

// definition builds the tool's description, input schema and hints.
func (t *tool) definition() *mcp.Tool {
	props := map[string]any{}
	var required []string
	for _, p := range t.spec.AllParams() {
		props[p.Name] = jsonrpc.ParamSchema(p)
		if p.Required {
			required = append(required, p.Name)
		}
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		schema["required"] = required
	}

	closedWorld := false
	destructive := t.spec.Overwrites()
	return &mcp.Tool{
		Name:        ToolName(&t.spec),
		Title:       t.spec.Summary,
		Description: t.spec.Summary + ". API method " + t.spec.Method() + ".",
		InputSchema: schema,
		Annotations: &mcp.ToolAnnotations{
			Title:           t.spec.Summary,
			ReadOnlyHint:    t.spec.ReadOnly(),
			DestructiveHint: &destructive,
			OpenWorldHint:   &closedWorld,
		},
	}
}

// toolEnvelope is the API's envelope with the error details that HTTP
// sends in headers and JSON-RPC in error data.
type toolEnvelope struct {
	sharepanel.Envelope
	// RetryAfter is set on rate_limited and login_throttled errors, in
	// whole seconds.
	RetryAfter int64 `json:"retry_after,omitempty"`
	// MaxBytes is set on payload_too_large errors: the cap in bytes.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// call runs the action with the tool call's arguments.
func (t *tool) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	start := time.Now()
	requestID := wire.NewRequestID()

	resp, maxBytes := t.run(ctx, req.Params.Arguments, requestID)
	t.log(&resp, time.Since(start))

	env := toolEnvelope{Envelope: resp.Envelope, MaxBytes: maxBytes}
	if resp.Status == http.StatusTooManyRequests {
		env.RetryAfter = retryAfterSeconds(resp.RetryAfter)
	}
	text, err := json.Marshal(env)
	if err != nil {
		resp = t.engine.ErrorResponse(requestID, err)
		text, _ = json.Marshal(resp.Envelope)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(text)}},
		StructuredContent: json.RawMessage(text),
		IsError:           resp.Status != 200,
	}, nil
}

// run checks the size of the arguments and runs the action with them.
// maxBytes is the payload cap that the arguments exceeded, or 0.
func (t *tool) run(ctx context.Context, args json.RawMessage, requestID string) (resp sharepanel.Response, maxBytes int64) {
	if size := int64(len(args)); size > t.minPayload {
		if limit := t.engine.PayloadLimit(ctx, t.opts.APIKey); size > limit {
			derr := &domain.Error{Code: domain.CodePayloadTooLarge, Message: domain.MsgPayloadTooLarge}
			return t.engine.ErrorResponse(requestID, derr), limit
		}
	}
	params, derr := jsonrpc.StringParams(args)
	if derr != nil {
		return t.engine.ErrorResponse(requestID, derr), 0
	}
	return t.engine.Handle(ctx, sharepanel.Request{
		Mode:      t.spec.Mode,
		Action:    t.spec.Action,
		Params:    params,
		APIKey:    t.opts.APIKey,
		RequestID: requestID,
	}), 0
}

// retryAfterSeconds rounds d up to whole seconds, at least 1, as the
// Retry-After header of the HTTP API does.
func retryAfterSeconds(d time.Duration) int64 {
	secs := int64((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// log writes the call's log line without the key or the arguments.
func (t *tool) log(resp *sharepanel.Response, took time.Duration) {
	level := slog.LevelInfo
	if resp.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("transport", "mcp"),
		slog.String("method", t.spec.Method()),
		slog.Int("status", resp.Status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.Int64("user_id", resp.UserID),
		slog.String("request_id", resp.Envelope.RequestID),
	}
	if resp.Status >= 500 && resp.Err != nil {
		attrs = append(attrs, slog.String("err", resp.Err.Error()))
	}
	t.opts.Logger.LogAttrs(context.Background(), level, "tool call", attrs...)
}
