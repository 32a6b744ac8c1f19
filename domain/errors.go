package domain

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, machine-readable name for a kind of error. Clients
// branch on it; people read the message beside it.
type Code string

// The error codes. Each maps to one HTTP status through Code.Status.
const (
	CodeMissingParameter     Code = "missing_parameter"
	CodeInvalidParameter     Code = "invalid_parameter"
	CodeUnknownParameter     Code = "unknown_parameter"
	CodeInvalidMode          Code = "invalid_mode"
	CodeInvalidAction        Code = "invalid_action"
	CodeInvalidAPIKey        Code = "invalid_api_key"
	CodeInvalidCredentials   Code = "invalid_credentials"
	CodePermissionDenied     Code = "permission_denied"
	CodeLimitReached         Code = "limit_reached"
	CodeNotFound             Code = "not_found"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodeConflict             Code = "conflict"
	CodeInsufficientBalance  Code = "insufficient_balance"
	CodeIdempotencyInFlight  Code = "idempotency_key_in_use"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeRateLimited          Code = "rate_limited"
	CodeLoginThrottled       Code = "login_throttled"
	CodeInternal             Code = "internal"
)

var codeStatus = map[Code]int{
	CodeMissingParameter:     http.StatusBadRequest,
	CodeInvalidParameter:     http.StatusBadRequest,
	CodeUnknownParameter:     http.StatusBadRequest,
	CodeInvalidMode:          http.StatusBadRequest,
	CodeInvalidAction:        http.StatusBadRequest,
	CodeInvalidAPIKey:        http.StatusUnauthorized,
	CodeInvalidCredentials:   http.StatusUnauthorized,
	CodePermissionDenied:     http.StatusForbidden,
	CodeLimitReached:         http.StatusForbidden,
	CodeNotFound:             http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeConflict:             http.StatusConflict,
	CodeInsufficientBalance:  http.StatusConflict,
	CodeIdempotencyInFlight:  http.StatusConflict,
	CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	CodeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	CodeRateLimited:          http.StatusTooManyRequests,
	CodeLoginThrottled:       http.StatusTooManyRequests,
	CodeInternal:             http.StatusInternalServerError,
}

// Codes returns every error code with its HTTP status, for documentation
// and for transports that publish the table.
func Codes() map[Code]int {
	out := make(map[Code]int, len(codeStatus))
	for c, s := range codeStatus {
		out[c] = s
	}
	return out
}

// Status returns the HTTP status that goes with the code, or 500 for a code
// that is not in the table.
func (c Code) Status() int {
	if s, ok := codeStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is the one error type that reaches API clients. Message is safe to
// show to the caller; anything else stays in the server log.
type Error struct {
	Code    Code
	Message string
}

// Error implements the error interface with the client-facing message.
func (e *Error) Error() string { return e.Message }

// Status returns the HTTP status of the error's code.
func (e *Error) Status() int { return e.Code.Status() }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain. Any other error becomes an
// internal error with a generic message, so details never reach clients.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: MsgInternal}
}

// ErrorCode returns the code of the *Error in err's chain, CodeInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	return AsError(err).Code
}

// ErrNotFound is the error storage returns when a lookup finds no row. The
// Engine turns it into a message that names the object.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "Not found"}

// ErrConflict is the error storage returns when a unique constraint rejects
// a write (an org path or a user email that is taken).
var ErrConflict = &Error{Code: CodeConflict, Message: "Conflict"}
