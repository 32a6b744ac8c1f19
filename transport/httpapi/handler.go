package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/internal/wire"
)

// Options configures the handler. The zero value is ready to use.
type Options struct {
	// Logger receives one line per request. Default: a logger that
	// discards everything.
	Logger *slog.Logger

	// TrustProxyHeaders takes the client address from the last entry of
	// the X-Forwarded-For header, the one the nearest proxy added, when it
	// is a valid IP address. Earlier entries come from the client and are
	// ignored. Set it only behind one proxy that appends to or overwrites
	// that header. Default: false, so the client address is the IP of the
	// connection's remote address.
	TrustProxyHeaders bool
}

// handler serves one Engine. It holds no per-request state, so one value
// serves concurrent requests.
type handler struct {
	engine     *sharepanel.Engine
	log        *slog.Logger
	trustProxy bool
}

// New returns an http.Handler that serves the API of e at its root path.
// The package documentation describes the request rules.
func New(e *sharepanel.Engine, opts Options) http.Handler {
	if e == nil {
		panic("httpapi: New called with a nil Engine")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &handler{engine: e, log: logger, trustProxy: opts.TrustProxyHeaders}
}

// exchange is the state of one request that the response writer and the
// log line need.
type exchange struct {
	start     time.Time
	requestID string
	mode      string
	action    string
	known     bool // whether mode and action name an action of the Engine
	allow     string
	status    int
	userID    int64
	err       error
	stack     []byte
	written   bool
}

// ServeHTTP serves one API request by the rules in the package
// documentation.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{start: time.Now(), requestID: requestIDFrom(r.Header)}
	defer h.finish(w, r, ex)

	resp := h.serve(w, r, ex)
	h.writeResponse(w, ex, &resp)
}

// finish recovers a panic of the request into a 500 and writes the
// request's log line. It runs deferred, so it also recovers panics of
// serve and writeResponse.
func (h *handler) finish(w http.ResponseWriter, r *http.Request, ex *exchange) {
	if p := recover(); p != nil {
		// net/http drops the connection without logging on ErrAbortHandler,
		// so that panic is passed on.
		if p == http.ErrAbortHandler {
			panic(p)
		}
		resp := h.engine.ErrorResponse(ex.requestID, &domain.Error{Code: domain.CodeInternal, Message: domain.MsgInternal})
		resp.Err = fmt.Errorf("panic: %v", p)
		ex.stack = debug.Stack()
		if ex.written {
			// The status line is out, so only the log can record it.
			ex.status, ex.err = resp.Status, resp.Err
		} else {
			h.writeResponse(w, ex, &resp)
		}
	}
	h.logRequest(r.Context(), r.Method, ex)
}

// serve checks the path and method, reads the parameters and runs the
// Engine. Every failure comes back as a Response, never as a Go error.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, ex *exchange) sharepanel.Response {
	// StripPrefix("/api", h) turns a request for "/api" into an empty path.
	if r.URL.Path != "/" && r.URL.Path != "" {
		return h.engine.ErrorResponse(ex.requestID, &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgNotFoundPath})
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		ex.allow = "GET, POST"
		return h.engine.ErrorResponse(ex.requestID, errUnsupportedMethod)
	}

	query := make(map[string]string, 8)
	if !parseURLEncoded(r.URL.RawQuery, query) {
		return h.engine.ErrorResponse(ex.requestID, errInvalidQuery)
	}

	params := query
	if r.Method == http.MethodPost {
		var derr *domain.Error
		params, derr = h.readBody(w, r, query)
		if derr != nil {
			return h.engine.ErrorResponse(ex.requestID, derr)
		}
	}

	req := sharepanel.Request{
		Params:     params,
		APIKey:     takeAPIKey(params, r.Header),
		ClientAddr: h.clientAddr(r),
		RequestID:  ex.requestID,
	}
	req.Mode, req.Action = takeAction(params)
	spec, found := h.engine.Lookup(req.Mode, req.Action)
	ex.mode, ex.action, ex.known = req.Mode, req.Action, found

	if found && spec.Mutating && r.Method != http.MethodPost {
		ex.allow = "POST"
		return h.engine.ErrorResponse(ex.requestID, errMethod)
	}
	if r.Method == http.MethodPost {
		req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	}
	return h.engine.Handle(r.Context(), req)
}

// initialBodyBuffer is the most memory reserved for a body before it
// arrives.
const initialBodyBuffer = 64 << 10

// readBody reads a POST body within the caller's payload cap and returns
// the request's parameters: the body's, then those of query that the body
// does not set.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request, query map[string]string) (map[string]string, *domain.Error) {
	if r.ContentLength == 0 {
		return query, nil
	}
	kind, boundary, supported := bodyKindOf(r.Header.Get("Content-Type"))
	if !supported && r.ContentLength > 0 {
		return nil, errUnsupportedType
	}

	// The cap is known up front only when the key is outside the body.
	upfrontKey := peekAPIKey(query, r.Header)
	limit := h.engine.PayloadLimit(r.Context(), upfrontKey)
	if r.ContentLength > limit {
		return nil, errPayloadTooLarge
	}

	// Memory grows with the bytes that arrive, not with what Content-Length
	// promises, so an idle client cannot reserve the cap up front.
	buf := getBuffer()
	defer putBuffer(buf)
	if r.ContentLength > 0 {
		buf.Grow(int(min(r.ContentLength, initialBodyBuffer)))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errPayloadTooLarge
		}
		return nil, errBodyRead
	}
	body := buf.Bytes()
	if len(body) == 0 {
		return query, nil
	}
	if !supported {
		return nil, errUnsupportedType
	}

	params := make(map[string]string, len(query)+8)
	if derr := parseBody(kind, boundary, body, params); derr != nil {
		return nil, derr
	}
	for name, value := range query {
		if _, set := params[name]; !set {
			params[name] = value
		}
	}

	// A key in the body may belong to a plan with a smaller cap than the
	// one the body was read with.
	if key := peekAPIKey(params, r.Header); key != upfrontKey {
		if int64(len(body)) > h.engine.PayloadLimit(r.Context(), key) {
			return nil, errPayloadTooLarge
		}
	}
	return params, nil
}

// peekAPIKey returns the key that takeAPIKey would take, leaving params
// as they are.
func peekAPIKey(params map[string]string, header http.Header) string {
	if key := params["apikey"]; key != "" {
		return key
	}
	if key := params["api_key"]; key != "" {
		return key
	}
	if key := header.Get("X-API-Key"); key != "" {
		return key
	}
	return bearerToken(header.Get("Authorization"))
}

// takeAPIKey returns the request's API key and removes both key
// parameters from params.
func takeAPIKey(params map[string]string, header http.Header) string {
	key := peekAPIKey(params, header)
	delete(params, "apikey")
	delete(params, "api_key")
	return key
}

// bearerToken returns the token of an "Authorization: Bearer TOKEN" value,
// or "" for any other scheme.
func bearerToken(authorization string) string {
	const scheme = "Bearer "
	if len(authorization) <= len(scheme) || !strings.EqualFold(authorization[:len(scheme)], scheme) {
		return ""
	}
	return strings.TrimSpace(authorization[len(scheme):])
}

// takeAction removes mode and action from params and returns them. For
// mode stats, the action is the type parameter, which is removed instead;
// an action parameter sent with it stays and is rejected as unknown.
func takeAction(params map[string]string) (mode, action string) {
	mode = params["mode"]
	delete(params, "mode")
	if mode == "stats" {
		action = params["type"]
		delete(params, "type")
		if params["action"] == "" {
			delete(params, "action")
		}
		return mode, action
	}
	action = params["action"]
	delete(params, "action")
	return mode, action
}

// clientAddr returns the client's IP address.
func (h *handler) clientAddr(r *http.Request) string {
	if h.trustProxy {
		forwarded := r.Header.Values("X-Forwarded-For")
		if len(forwarded) > 0 {
			last := forwarded[len(forwarded)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if addr, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return addr.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxRequestIDLen is the longest client X-Request-Id that is reused.
const maxRequestIDLen = 64

// requestIDFrom returns the client's X-Request-Id if it is short and made
// of letters, digits, '-' and '_', and a new random id otherwise.
func requestIDFrom(header http.Header) string {
	id := header.Get("X-Request-Id")
	if validRequestID(id) {
		return id
	}
	return wire.NewRequestID()
}

// validRequestID reports whether a client's request id may be used. An id
// with the API key prefix is refused, because request ids are logged and a
// key pasted into the header must not reach the log.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen || strings.HasPrefix(id, domain.KeyPrefix) {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// maxLoggedNameLen bounds a mode or action that the Engine does not know
// when it is logged. An API key pasted into mode or action then shows at
// most 9 of its 32 random characters, far too few to guess the rest.
const maxLoggedNameLen = 12

// statusClientClosed is the status logged for a request whose client
// closed the connection first. It is never sent.
const statusClientClosed = 499

// logRequest writes the request's one log line.
func (h *handler) logRequest(ctx context.Context, method string, ex *exchange) {
	level, status := slog.LevelInfo, ex.status

	// A client that hung up cancels the request's context, and the Engine
	// then fails with context.Canceled. That is no server error: log it at
	// info level with status 499, as nginx does.
	clientGone := ex.status >= 500 && ctx.Err() != nil && errors.Is(ex.err, context.Canceled)
	if clientGone {
		status = statusClientClosed
	} else if ex.status >= 500 {
		level = slog.LevelError
	}
	if !h.log.Enabled(ctx, level) {
		return
	}

	mode, action := ex.mode, ex.action
	if !ex.known {
		mode, action = loggableName(mode), loggableName(action)
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("method", method),
		slog.String("mode", mode),
		slog.String("action", action),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(ex.start).Microseconds())/1000),
		slog.Int64("user_id", ex.userID),
		slog.String("request_id", ex.requestID),
	)
	if ex.status >= 500 && ex.err != nil && !clientGone {
		attrs = append(attrs, slog.String("err", ex.err.Error()))
	}
	if ex.stack != nil {
		attrs = append(attrs, slog.String("stack", string(ex.stack)))
	}
	h.log.LogAttrs(ctx, level, "api request", attrs...)
}

// loggableName cuts a client-chosen name to maxLoggedNameLen bytes and
// replaces invalid UTF-8.
func loggableName(s string) string {
	if len(s) > maxLoggedNameLen {
		s = s[:maxLoggedNameLen] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// bufferPool holds buffers for request bodies.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept for reuse, so one large body
// does not stay in memory after its request.
const maxPooledBuffer = 64 << 10

func getBuffer() *bytes.Buffer {
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		bufferPool.Put(buf)
	}
}
