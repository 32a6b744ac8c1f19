package sharepanel

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// Request is one API call as a transport received it.
type Request struct {
	Mode string
	// Action is the action name; for mode stats, the transport passes the
	// type parameter here.
	Action string
	// Params holds every other parameter: one value per name, without
	// mode, action, type (for stats) and the API key.
	Params map[string]string
	// APIKey is the caller's key, from wherever the transport found it.
	APIKey string
	// ClientAddr is the client's IP address, used to throttle failed logins
	// and recorded in the activity log.
	ClientAddr string
	// IdempotencyKey, if set on a mutating action, makes a retry with the
	// same parameters return the first response instead of acting again.
	IdempotencyKey string
	// RequestID is echoed in the envelope's request_id.
	RequestID string
}

// Envelope is the JSON body of every response.
type Envelope struct {
	Status     string      `json:"status"`
	Message    string      `json:"message"`
	Timestamp  string      `json:"timestamp"`
	Data       any         `json:"data,omitempty"`
	Pagination *Pagination `json:"pagination,omitempty"`
	Code       domain.Code `json:"code,omitempty"`
	RequestID  string      `json:"request_id"`
}

// Pagination describes the page of a list response.
type Pagination struct {
	Limit   int  `json:"limit"`
	Offset  int  `json:"offset"`
	Total   int  `json:"total"`
	HasMore bool `json:"has_more"`
}

// RateLimit is the state of the caller's rate limit after a request. It
// describes whichever limit, per minute or daily, has fewer requests left.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// Response is the outcome of a request.
type Response struct {
	// Status is the HTTP-equivalent status code.
	Status   int
	Envelope Envelope
	// RateLimit is nil for requests that were not counted (auth, and
	// requests rejected before the key was verified).
	RateLimit *RateLimit
	// RetryAfter is set on 429 responses.
	RetryAfter time.Duration
	// UserID is the authenticated caller, 0 if none; for logging.
	UserID int64
	// Err is the underlying error of a 500, for the transport's log. Its
	// text never reaches the client.
	Err error
}

// TimestampFormat is the layout of the envelope's timestamp.
const TimestampFormat = "2006-01-02T15:04:05+00:00"

// listTimeFormat is the layout of created_at-style fields in data.
const listTimeFormat = "2006-01-02 15:04:05"

// result is the outcome of a successful action.
type result struct {
	message    string
	data       any
	pagination *Pagination

	// replayData, if set, is stored for Idempotency-Key replays in place
	// of data: data that holds a secret shown only once keeps it out of
	// storage this way.
	replayData any
}

// call carries one request through its action.
type call struct {
	ctx    context.Context
	e      *Engine
	req    *Request
	spec   *ActionSpec
	tx     storage.Tx
	now    time.Time
	key    *domain.APIKey
	userID int64
	plan   domain.Plan
	page   domain.Page
	dryRun bool

	// retryAfter is set by actions that fail with 429.
	retryAfter time.Duration
	// committed runs after the action's transaction commits.
	committed []func()
}

// afterCommit queues fn to run once the action's transaction has
// committed; it does not run if the transaction rolls back.
func (c *call) afterCommit(fn func()) { c.committed = append(c.committed, fn) }

// Handle runs one request and returns its response. Bad input gets an
// error response. A storage failure, or a panic in an action, becomes a 500
// whose details are in Response.Err.
func (e *Engine) Handle(ctx context.Context, req Request) (resp Response) {
	now := e.now()
	defer func() {
		if p := recover(); p != nil {
			resp = e.errorResponse(req, now, domain.AsError(nil), panicError{value: p, stack: debug.Stack()})
		}
	}()

	spec, err := e.resolve(req.Mode, req.Action)
	if err != nil {
		return e.errorResponse(req, now, domain.AsError(err), nil)
	}
	c := &call{ctx: ctx, e: e, req: &req, spec: spec, now: now}
	if req.Params == nil {
		req.Params = map[string]string{}
	}

	var rl *RateLimit
	if !spec.Public {
		var retry time.Duration
		rl, retry, err = e.authorize(c)
		if err != nil {
			resp = e.errorResponse(req, now, domain.AsError(err), err)
			resp.RateLimit, resp.RetryAfter, resp.UserID = rl, retry, c.userID
			return resp
		}
	}

	resp = e.run(c)
	resp.RateLimit, resp.UserID = rl, c.userID
	return resp
}

// resolve finds the spec for a mode and action.
func (e *Engine) resolve(mode, action string) (*ActionSpec, error) {
	byAction, ok := e.actions[mode]
	if !ok {
		return nil, &domain.Error{Code: domain.CodeInvalidMode, Message: domain.MsgInvalidMode}
	}
	spec, ok := byAction[action]
	switch {
	case !ok && mode == "stats" && action == "":
		return nil, &domain.Error{Code: domain.CodeMissingParameter, Message: domain.MsgStatsTypeRequired}
	case !ok && mode == "stats":
		return nil, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgInvalidStatsType}
	case !ok:
		return nil, &domain.Error{Code: domain.CodeInvalidAction, Message: domain.MsgInvalidAction(mode)}
	}
	return spec, nil
}

// authorize verifies the key, counts the request against the rate limit and
// checks the key's permission for the action.
func (e *Engine) authorize(c *call) (*RateLimit, time.Duration, error) {
	// Invalid keys are not throttled per address: a key has about 190
	// random bits, so guessing one is hopeless, while blocking an address
	// would lock out every client behind the same NAT or proxy.
	key, plan, err := e.authenticate(c.ctx, c.req.APIKey, c.now)
	if err != nil {
		return nil, 0, err
	}
	c.key, c.userID, c.plan = key, key.UserID, plan

	rl, retry, err := e.countRequest(c.ctx, key, plan, c.now)
	if err != nil {
		return rl, retry, err
	}
	if c.spec.Mutating && !key.CanWrite {
		return rl, 0, &domain.Error{Code: domain.CodePermissionDenied, Message: domain.MsgWriteDenied}
	}
	if !c.spec.Mutating && !key.CanRead {
		return rl, 0, &domain.Error{Code: domain.CodePermissionDenied, Message: domain.MsgReadDenied}
	}
	return rl, 0, nil
}

// run checks the parameters and runs the action in a transaction, through
// the idempotency store when the request carries a key for it.
func (e *Engine) run(c *call) Response {
	fail := func(err error) Response {
		resp := e.errorResponse(*c.req, c.now, domain.AsError(err), err)
		resp.RetryAfter = c.retryAfter
		return resp
	}

	if err := checkParams(c.spec, c.req.Params); err != nil {
		return fail(err)
	}
	if c.spec.List {
		page, err := pageFrom(c.req.Params)
		if err != nil {
			return fail(err)
		}
		c.page = page
	}
	if c.spec.DryRun {
		c.dryRun, _ = parseBool(c.req.Params["dry_run"])
	}

	if c.spec.ownTx {
		res, err := c.spec.run(c)
		if err != nil {
			return fail(err)
		}
		return e.successResponse(*c.req, c.now, res)
	}

	idem := c.spec.Mutating && c.req.IdempotencyKey != "" && c.userID != 0
	if idem {
		release, err := e.claimIdempotencyKey(c)
		if err != nil {
			return fail(err)
		}
		defer release()
	}

	// The stored response is looked up in the action's own writable
	// transaction, so Engines in other processes that share the store see
	// the first request's record or wait for it, and never act twice.
	var res result
	replayed := false
	err := storage.WithTx(c.ctx, e.store, c.spec.Mutating, func(tx storage.Tx) error {
		c.tx = tx
		if idem {
			stored, err := e.findIdempotent(c)
			if err != nil {
				return err
			}
			if stored != nil {
				res, replayed = *stored, true
				return nil
			}
		}
		var err error
		if res, err = c.spec.run(c); err != nil {
			return err
		}
		if idem && !c.dryRun {
			return e.saveIdempotent(c, res)
		}
		return nil
	})
	c.tx = nil
	if err != nil {
		return fail(err)
	}
	if !replayed {
		for _, fn := range c.committed {
			fn()
		}
	}
	return e.successResponse(*c.req, c.now, res)
}

func (e *Engine) successResponse(req Request, now time.Time, res result) Response {
	return Response{
		Status: 200,
		Envelope: Envelope{
			Status:     "success",
			Message:    res.message,
			Timestamp:  now.Format(TimestampFormat),
			Data:       res.data,
			Pagination: res.pagination,
			RequestID:  req.RequestID,
		},
	}
}

// errorResponse builds the envelope of a failed request. cause is kept in
// Response.Err only for internal errors, the ones the transport logs.
func (e *Engine) errorResponse(req Request, now time.Time, de *domain.Error, cause error) Response {
	resp := Response{
		Status: de.Status(),
		Envelope: Envelope{
			Status:    "error",
			Message:   de.Message,
			Timestamp: now.Format(TimestampFormat),
			Code:      de.Code,
			RequestID: req.RequestID,
		},
	}
	if de.Code == domain.CodeInternal {
		resp.Err = cause
		if resp.Err == nil {
			resp.Err = errors.New("internal error without a cause")
		}
	}
	return resp
}

// panicError is a panic recovered in Handle, with the stack where it
// happened, for the transport's log.
type panicError struct {
	value any
	stack []byte
}

func (p panicError) Error() string {
	return fmt.Sprintf("panic: %v\n%s", p.value, p.stack)
}

// log appends an activity entry in the call's transaction.
func (c *call) log(action, subject string) error {
	return appendActivity(c.ctx, c.tx, c.activity(action, subject))
}

// appendActivity links a to the last entry of its user's log and stores
// it. Every entry goes through here, so the chain has no gaps. Writable
// transactions exclude each other, so two entries never claim the same
// predecessor.
func appendActivity(ctx context.Context, tx storage.Tx, a *domain.Activity) error {
	var prev []byte
	last, err := tx.LastActivity(ctx, a.UserID)
	switch {
	case err == nil:
		prev = last.Hash
	case !errors.Is(err, domain.ErrNotFound):
		return err
	}
	domain.ChainActivity(prev, a)
	return tx.AddActivity(ctx, a)
}

// activity returns an activity entry of the caller for this request.
func (c *call) activity(action, subject string) *domain.Activity {
	return &domain.Activity{
		UserID:    c.userID,
		Action:    action,
		Subject:   subject,
		ClientIP:  c.req.ClientAddr,
		CreatedAt: c.now,
	}
}

// listResult builds a list result with pagination; rows must not be nil.
func (c *call) listResult(message string, rows any, total int) result {
	return result{
		message: message,
		data:    rows,
		pagination: &Pagination{
			Limit:   c.page.Limit,
			Offset:  c.page.Offset,
			Total:   total,
			HasMore: c.page.Offset+c.page.Limit < total,
		},
	}
}

// idParam reads a required positive id parameter. missing is the message
// when it is absent.
func (c *call) idParam(name, missing string) (int64, error) {
	v, ok := c.req.Params[name]
	if !ok || v == "" {
		return 0, &domain.Error{Code: domain.CodeMissingParameter, Message: missing}
	}
	n, err := parseCount(v)
	if err != nil || n == 0 {
		return 0, domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be a positive integer", name)
	}
	return n, nil
}

// optString returns a pointer to the parameter's value, or nil if absent.
func (c *call) optString(name string) *string {
	v, ok := c.req.Params[name]
	if !ok {
		return nil
	}
	return &v
}

func formatListTime(t time.Time) string { return t.UTC().Format(listTimeFormat) }

func formatOptTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatListTime(*t)
	return &s
}

// ErrorResponse builds the response of a request that a transport rejects
// before calling Handle (an unknown path, a malformed body), so that it has
// the same envelope and clock as the Engine's own errors. An error that is
// not a *domain.Error becomes a 500 with the generic message.
func (e *Engine) ErrorResponse(requestID string, err error) Response {
	return e.errorResponse(Request{RequestID: requestID}, e.now(), domain.AsError(err), err)
}
