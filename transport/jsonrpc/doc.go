// Package jsonrpc serves a sharepanel.Engine over JSON-RPC 2.0 on any
// reader and writer, one JSON message per line (the sharepanel rpc
// command uses stdin and stdout). Server.Serve reads requests, runs them
// through Engine.Handle and writes one line per reply.
//
// # Methods and parameters
//
// A method is MODE.ACTION as the HTTP API names them: orgs.list,
// instances.update_status, api_keys.create. For mode stats the type takes
// the place of the action (stats.overview). Modes auth and search have no
// action, so their methods are auth and search. rpc.discover returns an OpenRPC document of every method, built
// from Engine.Actions, the registry the Engine dispatches with.
// session.use_key sets the API key for the rest of the connection. Its
// params hold the key alone, in apikey or api_key; any other member, or
// the key in both, is rejected with unknown_parameter, as rpc.discover
// rejects every member.
//
// params is an object with the HTTP API's parameter names. A string is
// taken as it is, a number as its literal text, a boolean as "true" or
// "false", and null as an absent parameter, so notification_id: null in
// notifications.mark_read marks every notification read. An array or
// object value, or params that are not an object, is rejected with -32602
// before the Engine runs, so nothing is written. When a name repeats
// inside params, its first value counts, as in the HTTP API. A request
// object whose own members repeat a name (two methods, two ids) is
// rejected with -32600, because JSON decoders disagree on which one
// counts. Its reply has id null if the id is the repeated member.
//
// The key goes in the apikey (or api_key) member of params. Without it, the
// key set by session.use_key is used. An idempotency_key member does what
// the Idempotency-Key header does over HTTP: a mutating request is
// performed once per key and user for 24 hours, and a repeat with the same
// parameters gets the first result.
//
// Actions that change data need no "POST" here, but rate limits, plan
// limits and the key's read and write permissions apply exactly as over
// HTTP, because the Engine enforces them.
//
// # Replies
//
// A success has a result object with the envelope's message, data and
// pagination, and request_id, timestamp and rate_limit (the
// X-RateLimit-* headers of the HTTP API: limit, remaining, reset in Unix
// seconds). An error has the API's message, and data with the
// HTTP-equivalent status, the API's snake_case code, request_id and
// timestamp; a 429 adds retry_after in seconds. The error's JSON-RPC code
// depends only on the API's code:
//
//	-32700  parse_error              the line is not JSON, or not UTF-8
//	                                 (a \u escape of an unpaired UTF-16
//	                                 surrogate, such as \udc00, counts as
//	                                 not UTF-8)
//	-32600  invalid_request          not a JSON-RPC 2.0 request object
//	-32601  invalid_mode,            unknown method
//	        invalid_action
//	-32602  missing_parameter,       bad params: wrong JSON types, unknown
//	        invalid_parameter,       names, missing or invalid values
//	        unknown_parameter
//	-32603  internal                 server error; details only in the log
//	-32001  invalid_api_key
//	-32002  invalid_credentials
//	-32003  permission_denied
//	-32004  limit_reached
//	-32005  not_found
//	-32006  conflict
//	-32007  idempotency_key_in_use
//	-32008  idempotency_key_reused
//	-32009  payload_too_large
//	-32010  rate_limited
//	-32011  login_throttled
//	-32012  method_not_allowed       never sent; listed for completeness
//	-32013  insufficient_balance     not sent by the public API's actions
//	-32000  any API code that this table does not list yet
//
// # Batches, notifications and order
//
// A line may hold a batch: an array of 1 to MaxBatch requests, which run
// concurrently and get one array of replies in the order of the requests.
// A request without an id is a notification: it runs, and gets no reply,
// even when it fails. Requests of a connection run concurrently, up to
// Options.MaxConcurrent at once, so replies may come out of order; match
// them by id. session.use_key and rpc.discover run in the reading
// goroutine, so every request after a session.use_key line uses its key.
//
// # Bad input
//
// A line that is not JSON gets a -32700 reply with id null, and the
// server reads on. Text after the last newline when the input ends is
// handled as a last line: a complete request runs, and a cut-off one gets
// -32700. Blank lines are skipped. A line longer than the payload cap of
// the caller's plan (-32009, status 413, with id null and max_bytes in
// data) is read to its newline and dropped. Because the key is inside
// the line, the cap is that of the session key's plan, or without one the
// smallest cap in the plan catalog (1 MiB with the default plans), as the
// HTTP API does for a body whose key is inside it. A request whose own
// apikey belongs to a plan with a smaller cap than the line was read with
// gets -32009 too, with that plan's cap in max_bytes.
//
// A UTF-8 byte order mark (EF BB BF) at the very start of the input is
// dropped. Anywhere else, such as at the start of a later line, it makes
// the line -32700.
//
// encoding/json turns a \u escape of an unpaired surrogate into U+FFFD
// without an error. The server instead rejects the line with -32700, the
// error for raw invalid UTF-8, so such text is never stored. The HTTP API
// rejects the same JSON body with invalid_parameter.
//
// # Logging
//
// One line per request goes to Options.Logger: method, status, duration,
// user id and request id, and the error of a status 500. Keys, params and
// the client's ids are never logged, and a method the Engine does not
// know is cut to 12 bytes.
package jsonrpc
