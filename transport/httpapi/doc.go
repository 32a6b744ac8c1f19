// Package httpapi serves a sharepanel.Engine over HTTP. New returns an
// http.Handler that turns each request into a sharepanel.Request, runs it
// with Engine.Handle and writes the Engine's envelope as JSON.
//
// # Paths and methods
//
// The API is served at the handler's root path "/" only, so mount it under a
// prefix with http.StripPrefix. Any other path gets 404 (code not_found).
// GET and POST are accepted; any other method, HEAD included, gets 405 with
// "Allow: GET, POST". A GET on an action that changes data (Mutating in its
// sharepanel.ActionSpec) gets 405 with "Allow: POST" before the Engine runs.
//
// # Parameters
//
// Parameters come from the query string and, on POST, from the body. The
// body may be an application/x-www-form-urlencoded form, a
// multipart/form-data form of fields, or a JSON object. A file part in a
// multipart body is rejected. In a JSON object, strings
// are taken as they are, numbers as their literal text, booleans as "true" or
// "false", and null as an absent parameter; an array or object value, or a
// body that is not one JSON object in valid UTF-8, is rejected. A body value
// wins over a query value of the same name, and when a name repeats, its
// first value counts. The body of a GET is ignored. A non-empty POST body of
// any other Content-Type gets 400 (code invalid_parameter).
//
// The parameters mode and action select the action; for mode=stats the type
// parameter takes the place of action. The API key is the first non-empty of
// the apikey parameter, the api_key parameter, the X-API-Key header and an
// "Authorization: Bearer KEY" header. Every other parameter reaches the Engine
// in Request.Params. A key sent in a header is never written to a response or
// to the log.
//
// # Limits
//
// A POST body may be at most the payload cap of the caller's plan. When the
// key is in the query string or a header, the cap is known before the body
// is read: a larger Content-Length gets 413 (code payload_too_large) at once,
// and a chunked body is cut off at the cap. Without a valid key up front (a
// login, or a key only in the body) the cap is the smallest of the plan
// catalog, so a client without a key cannot make the server read or hold
// more; to send a larger body, put the key in a header or the query string.
// Memory for a body grows as its bytes arrive, whatever Content-Length
// promises.
//
// # Responses
//
// Every response, errors included, is the JSON envelope with Content-Type
// "application/json; charset=utf-8", "Cache-Control: no-store" and
// "X-Content-Type-Options: nosniff". X-RateLimit-Limit, X-RateLimit-Remaining
// and X-RateLimit-Reset (Unix seconds) describe the caller's rate limit after
// a counted request, and a 429 carries Retry-After in whole seconds. Each
// request gets an id, sent as X-Request-Id and in the envelope's request_id:
// the client's own X-Request-Id when it is 1 to 64 characters of letters,
// digits, '-' and '_', and otherwise 16 random hex digits.
//
// An Idempotency-Key header on a POST reaches the Engine as
// Request.IdempotencyKey; on a GET it is ignored.
//
// # Logging
//
// The handler logs one line per request to Options.Logger: method, mode,
// action, status, duration, user id and request id, and for a 5xx the error.
// A request whose client hung up is logged at info level with status 499.
// A panic becomes a 500 with a generic message, and its stack goes in that
// request's log line. Keys, passwords, query strings and bodies are never
// logged. A mode or action that the Engine does not know is logged cut to 12
// bytes, and a client X-Request-Id that starts like an API key is replaced,
// in case a client pasted a key there.
package httpapi
