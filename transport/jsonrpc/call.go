package jsonrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/internal/wire"
)

// Methods that the transport implements itself.
const (
	MethodDiscover = "rpc.discover"
	MethodUseKey   = "session.use_key"
)

// MsgKeySet is the message of a successful session.use_key.
const MsgKeySet = "API key set for this connection"

// handleInline runs the transport's own methods, which are cheap and
// change the connection's state, in the reading goroutine, so the lines
// after them see their effect. done is false for an API method. The reply
// is nil for a notification.
func (c *conn) handleInline(req *request) (rep *reply, done bool) {
	switch req.method {
	case MethodUseKey:
		rep = c.useKey(req)
	case MethodDiscover:
		rep = c.s.discover(req)
	default:
		return nil, false
	}
	if req.notification {
		return nil, true
	}
	return rep, true
}

// useKey sets the key that later requests of the connection use when
// they carry none. It checks only the key's format, so a key that no
// account has is rejected by the first request that uses it. Its params
// are the key alone, in apikey or api_key; any other member, or the key
// in both, is an unknown_parameter error.
func (c *conn) useKey(req *request) *reply {
	requestID := wire.NewRequestID()
	key, derr := useKeyParams(req.params)
	if derr == nil && !domain.ValidAPIKeyFormat(key) {
		derr = &domain.Error{Code: domain.CodeInvalidAPIKey, Message: domain.MsgInvalidAPIKey}
	}
	if derr != nil {
		resp := c.s.engine.ErrorResponse(requestID, derr)
		c.s.logCall(req.method, true, &resp, 0)
		return c.s.replyTo(req.id, &resp)
	}

	c.sessionKey = key
	c.s.log.Info("rpc request", "transport", "jsonrpc", "method", req.method, "status", http.StatusOK, "request_id", requestID)
	return c.s.result(req.id, &Result{Message: MsgKeySet, RequestID: requestID, Timestamp: timestamp()})
}

// useKeyParams returns the key from session.use_key's params.
func useKeyParams(raw json.RawMessage) (string, *domain.Error) {
	params, derr := StringParams(raw)
	if derr != nil {
		return "", derr
	}
	key, inAPIKey := params[memberAPIKey]
	altKey, inAlt := params[memberAPIKeyAlt]
	delete(params, memberAPIKey)
	delete(params, memberAPIKeyAlt)
	switch {
	case len(params) > 0:
		return "", unknownParam(params)
	case inAPIKey && inAlt:
		return "", domain.Errorf(domain.CodeUnknownParameter, "Unknown parameter: %s. Send the key once, in %s or in %s", memberAPIKeyAlt, memberAPIKey, memberAPIKeyAlt)
	case inAlt:
		key = altKey
	}
	if key == "" {
		return "", &domain.Error{Code: domain.CodeMissingParameter, Message: "API key is required: send it in apikey"}
	}
	return key, nil
}

// discover returns the OpenRPC document. It takes no parameters.
func (s *Server) discover(req *request) *reply {
	requestID := wire.NewRequestID()
	cp, derr := splitParams(req.params)
	if derr == nil && (len(cp.params) > 0 || cp.apiKey != "" || cp.idempotencyKey != "") {
		derr = domain.Errorf(domain.CodeUnknownParameter, "Unknown parameter: rpc.discover takes no parameters")
	}
	if derr != nil {
		resp := s.engine.ErrorResponse(requestID, derr)
		s.logCall(req.method, true, &resp, 0)
		return s.replyTo(req.id, &resp)
	}
	s.log.Info("rpc request", "transport", "jsonrpc", "method", req.method, "status", http.StatusOK, "request_id", requestID)
	return &reply{JSONRPC: "2.0", ID: req.id, Result: s.discovery}
}

// unknownParam returns the unknown_parameter error for the first name in
// sorted order.
func unknownParam(params map[string]string) *domain.Error {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	return domain.Errorf(domain.CodeUnknownParameter, "Unknown parameter: %s", wire.Printable(names[0]))
}

// call runs one API method with sessionKey as the key when the params
// carry none. It returns nil for a notification.
func (c *conn) call(req *request, sessionKey string) *reply {
	start := time.Now()
	resp, known, maxBytes := c.s.callEngine(c.ctx, req, sessionKey)
	c.s.logCall(req.method, known, &resp, time.Since(start))
	if req.notification {
		return nil
	}
	rep := c.s.replyTo(req.id, &resp)
	if maxBytes > 0 && rep.Error != nil {
		rep.Error.Data.MaxBytes = maxBytes
	}
	return rep
}

// callEngine turns a request into a sharepanel.Request and runs it.
// known reports whether the method names an action of the Engine.
// maxBytes is the payload cap that the request exceeded, or 0.
func (s *Server) callEngine(ctx context.Context, req *request, sessionKey string) (resp sharepanel.Response, known bool, maxBytes int64) {
	requestID := wire.NewRequestID()
	mode, action, _ := strings.Cut(req.method, ".")
	if _, found := s.engine.Lookup(mode, action); !found {
		// The Engine rejects the method before it reads anything else,
		// with the same message as over HTTP.
		return s.engine.Handle(ctx, sharepanel.Request{Mode: mode, Action: action, RequestID: requestID}), false, 0
	}

	cp, derr := splitParams(req.params)
	if derr != nil {
		return s.engine.ErrorResponse(requestID, derr), true, 0
	}

	// A key in the params may belong to a plan with a smaller payload cap
	// than the one the line was read with.
	if cp.apiKey != "" && cp.apiKey != sessionKey && int64(req.size) > s.minPayload {
		if limit := s.engine.PayloadLimit(ctx, cp.apiKey); int64(req.size) > limit {
			resp := s.engine.ErrorResponse(requestID, &domain.Error{Code: domain.CodePayloadTooLarge, Message: domain.MsgPayloadTooLarge})
			return resp, true, limit
		}
	}

	key := cp.apiKey
	if key == "" {
		key = sessionKey
	}
	return s.engine.Handle(ctx, sharepanel.Request{
		Mode:           mode,
		Action:         action,
		Params:         cp.params,
		APIKey:         key,
		ClientAddr:     s.clientAddr,
		IdempotencyKey: cp.idempotencyKey,
		RequestID:      requestID,
	}), true, 0
}

// replyTo builds the reply for an Engine response.
func (s *Server) replyTo(id json.RawMessage, resp *sharepanel.Response) *reply {
	env := &resp.Envelope
	if resp.Status == http.StatusOK {
		return s.result(id, &Result{
			Message:    env.Message,
			Data:       env.Data,
			Pagination: env.Pagination,
			RateLimit:  rateLimitOf(resp.RateLimit),
			RequestID:  env.RequestID,
			Timestamp:  env.Timestamp,
		})
	}

	data := &ErrorData{
		Status:    resp.Status,
		Code:      string(env.Code),
		RequestID: env.RequestID,
		Timestamp: env.Timestamp,
		RateLimit: rateLimitOf(resp.RateLimit),
	}
	if resp.Status == http.StatusTooManyRequests {
		data.RetryAfter = retryAfterSeconds(resp.RetryAfter)
	}
	return &reply{JSONRPC: "2.0", ID: id, Error: &Error{
		Code:    ErrorCode(env.Code),
		Message: env.Message,
		Data:    data,
	}}
}

// result encodes a result when the reply is built, so that data which
// cannot be encoded becomes an internal error of this request alone.
func (s *Server) result(id json.RawMessage, res *Result) *reply {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		resp := s.engine.ErrorResponse(res.RequestID, errors.New("encode result: "+err.Error()))
		s.log.Error("encode result failed", "transport", "jsonrpc", "request_id", res.RequestID, "err", err)
		return s.replyTo(id, &resp)
	}
	return &reply{JSONRPC: "2.0", ID: id, Result: json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))}
}

func rateLimitOf(rl *sharepanel.RateLimit) *RateLimit {
	if rl == nil {
		return nil
	}
	return &RateLimit{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset.Unix()}
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	secs := int64((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// maxLoggedNameLen bounds a method name that the Engine does not know
// when it is logged, so a key pasted into a method name shows too few of
// its random characters to be guessed.
const maxLoggedNameLen = 12

// loggableName cuts a client-chosen name to maxLoggedNameLen bytes and
// replaces invalid UTF-8.
func loggableName(s string) string {
	if len(s) > maxLoggedNameLen {
		s = s[:maxLoggedNameLen] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// logCall writes one request's log line: method, status, duration, user
// id and request id, and the error of a 5xx. Keys and params are never
// logged.
func (s *Server) logCall(method string, known bool, resp *sharepanel.Response, took time.Duration) {
	level := slog.LevelInfo
	if resp.Status >= 500 {
		level = slog.LevelError
	}
	if !known {
		method = loggableName(method)
	}
	attrs := []slog.Attr{
		slog.String("transport", "jsonrpc"),
		slog.String("method", method),
		slog.Int("status", resp.Status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.Int64("user_id", resp.UserID),
		slog.String("request_id", resp.Envelope.RequestID),
	}
	if resp.Status >= 500 && resp.Err != nil {
		attrs = append(attrs, slog.String("err", resp.Err.Error()))
	}
	s.log.LogAttrs(context.Background(), level, "rpc request", attrs...)
}
