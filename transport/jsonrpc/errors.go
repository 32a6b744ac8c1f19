package jsonrpc

import (
	"github.com/sharepanel/sharepanel/domain"
)

// JSON-RPC error codes. The five protocol codes are those of the JSON-RPC
// 2.0 specification. Every other API error gets a code from the range
// -32000 to -32099, which the specification leaves to servers, chosen by
// its domain.Code.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603

	// CodeServerError is the code of an API error whose domain.Code has no
	// entry in the table below, such as a code added to domain after this
	// table was written. Its error data still names the domain code.
	CodeServerError = -32000
)

// Names in error data for protocol errors that have no domain.Code.
const (
	nameParseError     = "parse_error"
	nameInvalidRequest = "invalid_request"
)

// errorCodes maps each domain code to its JSON-RPC error code. The codes
// are part of the wire contract: never renumber an entry, only add.
var errorCodes = map[domain.Code]int{
	domain.CodeMissingParameter:     CodeInvalidParams,
	domain.CodeInvalidParameter:     CodeInvalidParams,
	domain.CodeUnknownParameter:     CodeInvalidParams,
	domain.CodeInvalidMode:          CodeMethodNotFound,
	domain.CodeInvalidAction:        CodeMethodNotFound,
	domain.CodeInternal:             CodeInternalError,
	domain.CodeInvalidAPIKey:        -32001,
	domain.CodeInvalidCredentials:   -32002,
	domain.CodePermissionDenied:     -32003,
	domain.CodeLimitReached:         -32004,
	domain.CodeNotFound:             -32005,
	domain.CodeConflict:             -32006,
	domain.CodeIdempotencyInFlight:  -32007,
	domain.CodeIdempotencyKeyReused: -32008,
	domain.CodePayloadTooLarge:      -32009,
	domain.CodeRateLimited:          -32010,
	domain.CodeLoginThrottled:       -32011,
	domain.CodeMethodNotAllowed:     -32012,
	domain.CodeInsufficientBalance:  -32013,
}

// ErrorCode returns the JSON-RPC error code of an API error code, and
// CodeServerError for a code that the table does not list.
func ErrorCode(c domain.Code) int {
	if n, ok := errorCodes[c]; ok {
		return n
	}
	return CodeServerError
}

// ErrorCodes returns a copy of the table from domain codes to JSON-RPC
// error codes, for documentation.
func ErrorCodes() map[domain.Code]int {
	out := make(map[domain.Code]int, len(errorCodes))
	for c, n := range errorCodes {
		out[c] = n
	}
	return out
}
