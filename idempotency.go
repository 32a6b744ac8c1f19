package sharepanel

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// idempotencyTTL is how long a stored response is replayed to retries.
const idempotencyTTL = 24 * time.Hour

// maxIdempotencyKeyLen is the longest Idempotency-Key accepted.
const maxIdempotencyKeyLen = 255

// inflightKeys tracks idempotency keys whose first request is running, so a
// concurrent retry gets 409 instead of acting twice.
type inflightKeys struct {
	mu   sync.Mutex
	keys map[inflightKey]struct{}
}

type inflightKey struct {
	userID int64
	key    string
}

// storedResponse is the JSON form of a response kept for replays.
type storedResponse struct {
	Message    string          `json:"message"`
	Data       json.RawMessage `json:"data,omitempty"`
	Pagination *Pagination     `json:"pagination,omitempty"`
}

// requestHash identifies an action with its parameters, in a form that
// does not depend on parameter order.
func requestHash(c *call) []byte {
	names := make([]string, 0, len(c.req.Params))
	for n := range c.req.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%q %q", c.spec.Mode, c.spec.Action)
	for _, n := range names {
		fmt.Fprintf(h, " %q=%q", n, c.req.Params[n])
	}
	return h.Sum(nil)
}

// beginIdempotent claims the request's idempotency key. It returns the
// stored response to replay if the key was used before with the same
// parameters, and a release function to call when the request ends.
func (e *Engine) beginIdempotent(c *call) (*Response, func(), error) {
	key := c.req.IdempotencyKey
	if !domain.CleanText(key) {
		return nil, nil, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgIdempotencyInvalid}
	}
	if utf8.RuneCountInString(key) > maxIdempotencyKeyLen {
		return nil, nil, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgIdempotencyTooLong}
	}

	ik := inflightKey{c.userID, key}
	e.inflight.mu.Lock()
	if e.inflight.keys == nil {
		e.inflight.keys = map[inflightKey]struct{}{}
	}
	if _, busy := e.inflight.keys[ik]; busy {
		e.inflight.mu.Unlock()
		return nil, nil, &domain.Error{Code: domain.CodeIdempotencyInFlight, Message: domain.MsgIdempotencyInFlight}
	}
	e.inflight.keys[ik] = struct{}{}
	e.inflight.mu.Unlock()
	release := func() {
		e.inflight.mu.Lock()
		delete(e.inflight.keys, ik)
		e.inflight.mu.Unlock()
	}

	var stored *storage.IdempotentResponse
	err := storage.WithTx(c.ctx, e.store, false, func(tx storage.Tx) error {
		var err error
		stored, err = tx.FindIdempotent(c.ctx, c.userID, key)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) || (err == nil && c.now.Sub(stored.CreatedAt) >= idempotencyTTL) {
		return nil, release, nil
	}
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("find idempotent response: %w", err)
	}
	if string(stored.RequestHash) != string(requestHash(c)) {
		release()
		return nil, nil, &domain.Error{Code: domain.CodeIdempotencyKeyReused, Message: domain.MsgIdempotencyReused}
	}

	var body storedResponse
	if err := json.Unmarshal(stored.Body, &body); err != nil {
		release()
		return nil, nil, fmt.Errorf("decode idempotent response: %w", err)
	}
	res := result{message: body.Message, pagination: body.Pagination}
	if len(body.Data) > 0 {
		res.data = body.Data
	}
	resp := e.successResponse(*c.req, c.now, res)
	return &resp, release, nil
}

// saveIdempotent stores a successful response in the action's transaction,
// so the action and its record commit together.
func (e *Engine) saveIdempotent(c *call, res result) error {
	stored := res.data
	if res.replayData != nil {
		stored = res.replayData
	}
	var data json.RawMessage
	if stored != nil {
		b, err := json.Marshal(stored)
		if err != nil {
			return fmt.Errorf("encode idempotent response: %w", err)
		}
		data = b
	}
	body, err := json.Marshal(storedResponse{Message: res.message, Data: data, Pagination: res.pagination})
	if err != nil {
		return fmt.Errorf("encode idempotent response: %w", err)
	}
	return c.tx.SaveIdempotent(c.ctx, storage.IdempotentResponse{
		UserID:      c.userID,
		Key:         c.req.IdempotencyKey,
		RequestHash: requestHash(c),
		Status:      200,
		Body:        body,
		CreatedAt:   c.now,
	})
}
