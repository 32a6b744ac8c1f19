package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/internal/wire"
)

// Result is the result member of a successful reply to an API method: the
// envelope's message, data and pagination, with the rate limit that the
// HTTP API sends in X-RateLimit headers.
type Result struct {
	Message    string                 `json:"message"`
	Data       any                    `json:"data,omitempty"`
	Pagination *sharepanel.Pagination `json:"pagination,omitempty"`
	RateLimit  *RateLimit             `json:"rate_limit,omitempty"`
	RequestID  string                 `json:"request_id"`
	Timestamp  string                 `json:"timestamp"`
}

// RateLimit is the caller's rate limit after a counted request.
type RateLimit struct {
	Limit     int `json:"limit"`
	Remaining int `json:"remaining"`
	// Reset is when the window ends, in Unix seconds.
	Reset int64 `json:"reset"`
}

// Error is the error member of a reply.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *ErrorData `json:"data,omitempty"`
}

// ErrorData is the data member of every error the server sends.
type ErrorData struct {
	// Status is the HTTP status that the HTTP API sends for the same error.
	Status int `json:"status"`
	// Code is the API's snake_case error code, or parse_error or
	// invalid_request for a message that is not a valid request.
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Timestamp string `json:"timestamp"`
	// RetryAfter is set on rate_limited and login_throttled errors, in
	// whole seconds.
	RetryAfter int64      `json:"retry_after,omitempty"`
	RateLimit  *RateLimit `json:"rate_limit,omitempty"`
	// MaxBytes is set on payload_too_large errors: the size limit in bytes.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// reply is one response object.
type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// nullID is the id of a reply to a message whose id could not be read.
var nullID = json.RawMessage("null")

// request is one request object that passed the structural checks.
type request struct {
	id           json.RawMessage // nil for a notification
	method       string
	params       json.RawMessage // nil when absent or null
	size         int             // bytes of the request object
	notification bool
}

// parseRequest checks the structure of one request object. If the object
// is not a valid JSON-RPC 2.0 request, it returns an invalid_request
// message and the id for the error reply.
func parseRequest(raw json.RawMessage) (*request, json.RawMessage, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nullID, "Invalid request: send a JSON object with jsonrpc, method and optional params and id"
	}
	members, duplicate, ok := objectMembers(raw)
	if !ok {
		return nil, nullID, "Invalid request: send a JSON object with jsonrpc, method and optional params and id"
	}

	req := &request{size: len(raw)}
	id, hasID := members["id"]
	answerID := nullID
	if hasID {
		if !validID(id) {
			return nil, nullID, "Invalid request: id must be a string, a number or null"
		}
		req.id, answerID = id, id
	} else {
		req.notification = true
	}

	// Decoders disagree on which of two members with one name counts, so
	// a request with a repeated member is ambiguous and runs nowhere. When
	// the repeated member is the id, the reply cannot name the request.
	if duplicate != "" {
		if duplicate == "id" {
			answerID = nullID
		}
		return nil, answerID, "Invalid request: member " + wire.Printable(duplicate) + " appears more than once"
	}

	var version string
	if err := json.Unmarshal(members["jsonrpc"], &version); err != nil || version != "2.0" {
		return nil, answerID, `Invalid request: jsonrpc must be "2.0"`
	}
	method, ok := members["method"]
	if !ok || len(method) == 0 || method[0] != '"' {
		return nil, answerID, "Invalid request: method must be a string"
	}
	if err := json.Unmarshal(method, &req.method); err != nil {
		return nil, answerID, "Invalid request: method must be a string"
	}
	if params, ok := members["params"]; ok && string(params) != "null" {
		if params[0] != '{' && params[0] != '[' {
			return nil, answerID, "Invalid request: params must be an object"
		}
		req.params = params
	}
	return req, nil, ""
}

// objectMembers splits a JSON object into its members. duplicate is the
// first name that occurs twice, or "" if none does, and members then keeps
// the first value of that name. ok is false if raw is not one object.
func objectMembers(raw json.RawMessage) (members map[string]json.RawMessage, duplicate string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", false
	}
	members = make(map[string]json.RawMessage, 4)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", false
		}
		name, isString := tok.(string)
		if !isString {
			return nil, "", false
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, "", false
		}
		if _, seen := members[name]; seen {
			if duplicate == "" {
				duplicate = name
			}
			continue
		}
		members[name] = value
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, "", false
	}
	return members, duplicate, true
}

// validID reports whether a raw id is a string, a number or null.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"', c == 'n':
		return true
	case c == '-' || c >= '0' && c <= '9':
		return true
	}
	return false
}

// callParams are the members of an API method's params object, split into
// the API's parameters and the members that the transport reads itself.
type callParams struct {
	params         map[string]string
	apiKey         string
	idempotencyKey string
}

// Members of params that the transport removes before it passes the rest
// to the Engine.
const (
	memberAPIKey         = "apikey"
	memberAPIKeyAlt      = "api_key"
	memberIdempotencyKey = "idempotency_key"
)

// splitParams converts a params object into the API's string parameters
// and takes out the key and the idempotency key.
func splitParams(raw json.RawMessage) (callParams, *domain.Error) {
	params, err := StringParams(raw)
	if err != nil {
		return callParams{}, err
	}
	cp := callParams{params: params}
	cp.apiKey = params[memberAPIKey]
	if cp.apiKey == "" {
		cp.apiKey = params[memberAPIKeyAlt]
	}
	cp.idempotencyKey = params[memberIdempotencyKey]
	delete(params, memberAPIKey)
	delete(params, memberAPIKeyAlt)
	delete(params, memberIdempotencyKey)
	return cp, nil
}

// StringParams converts a JSON object of parameters into the API's string
// parameters: a string as it is, a number as its literal text, a boolean
// as "true" or "false", and null as an absent parameter. An array or
// object value, or params that are not an object, is an invalid_parameter
// error. When a name repeats, its first value counts, as in the HTTP API.
// Empty raw input gives an empty map.
func StringParams(raw json.RawMessage) (map[string]string, *domain.Error) {
	params := make(map[string]string, 8)
	if len(raw) == 0 || string(raw) == "null" {
		return params, nil
	}
	// encoding/json replaces invalid UTF-8 and unpaired surrogate escapes
	// with U+FFFD, so both are checked first.
	if !utf8.Valid(raw) || wire.HasLoneSurrogate(raw) {
		return nil, errParamsNotUTF8
	}

	// Tokens instead of a map, so that the first of two members with the
	// same name counts.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errParamsNotObject
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errParamsNotObject
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errParamsNotObject
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, errParamsNotObject
		}

		var value string
		switch v := tok.(type) {
		case string:
			value = v
		case json.Number:
			value = v.String()
		case bool:
			value = strconv.FormatBool(v)
		case nil:
			continue
		default: // json.Delim: an array or object
			return nil, domain.Errorf(domain.CodeInvalidParameter,
				"Invalid %s: arrays and objects are not accepted, send a string, number, boolean or null", wire.Printable(name))
		}
		if _, set := params[name]; !set {
			params[name] = value
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errParamsNotObject
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errParamsNotObject
	}
	return params, nil
}

var (
	errParamsNotObject = &domain.Error{
		Code:    domain.CodeInvalidParameter,
		Message: "Invalid params: send an object of named parameters",
	}
	errParamsNotUTF8 = &domain.Error{
		Code:    domain.CodeInvalidParameter,
		Message: "Invalid params: not valid UTF-8",
	}
)

// msgLoneSurrogate is the parse error of a message with an unpaired
// surrogate escape.
const msgLoneSurrogate = `Parse error: the message is not valid Unicode, because a \u escape is an unpaired UTF-16 surrogate`
