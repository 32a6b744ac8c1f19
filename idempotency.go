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

// claimIdempotencyKey marks the request's idempotency key as in use in
// this Engine, so a concurrent retry gets 409 at once instead of waiting
// for the first request's transaction. The returned function releases it.
func (e *Engine) claimIdempotencyKey(c *call) (func(), error) {
	key := c.req.IdempotencyKey
	if !domain.CleanText(key) {
		return nil, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgIdempotencyInvalid}
	}
	if utf8.RuneCountInString(key) > maxIdempotencyKeyLen {
		return nil, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgIdempotencyTooLong}
	}

	ik := inflightKey{c.userID, key}
	e.inflight.mu.Lock()
	defer e.inflight.mu.Unlock()
	if e.inflight.keys == nil {
		e.inflight.keys = map[inflightKey]struct{}{}
	}
	if _, busy := e.inflight.keys[ik]; busy {
		return nil, &domain.Error{Code: domain.CodeIdempotencyInFlight, Message: domain.MsgIdempotencyInFlight}
	}
	e.inflight.keys[ik] = struct{}{}
	return func() {
		e.inflight.mu.Lock()
		delete(e.inflight.keys, ik)
		e.inflight.mu.Unlock()
	}, nil
}

// findIdempotent returns the stored result of an earlier request with the
// same key and parameters, nil if there is none younger than
// idempotencyTTL, and an idempotency_key_reused error if the parameters
// differ. It runs in the action's transaction.
func (e *Engine) findIdempotent(c *call) (*result, error) {
	stored, err := c.tx.FindIdempotent(c.ctx, c.userID, c.req.IdempotencyKey)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && c.now.Sub(stored.CreatedAt) >= idempotencyTTL) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find idempotent response: %w", err)
	}
	if string(stored.RequestHash) != string(requestHash(c)) {
		return nil, &domain.Error{Code: domain.CodeIdempotencyKeyReused, Message: domain.MsgIdempotencyReused}
	}

	var body storedResponse
	if err := json.Unmarshal(stored.Body, &body); err != nil {
		return nil, fmt.Errorf("decode idempotent response: %w", err)
	}
	res := &result{message: body.Message, pagination: body.Pagination}
	if len(body.Data) > 0 {
		res.data = body.Data
	}
	return res, nil
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
