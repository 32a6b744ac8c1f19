package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
)

// Header values that every response shares. net/http only reads them, so
// one slice of each serves all responses without a per-request allocation.
var (
	headerJSON    = []string{"application/json; charset=utf-8"}
	headerNoStore = []string{"no-store"}
	headerNoSniff = []string{"nosniff"}
)

// encoder is a reusable JSON encoder with its output buffer.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoderPool = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// writeResponse encodes resp's envelope and writes it with its status and
// headers. It records the outcome in ex for the log line.
func (h *handler) writeResponse(w http.ResponseWriter, ex *exchange, resp *sharepanel.Response) {
	e := encoderPool.Get().(*encoder)
	defer func() {
		if e.buf.Cap() <= maxPooledBuffer {
			encoderPool.Put(e)
		}
	}()
	e.buf.Reset()

	if err := e.enc.Encode(&resp.Envelope); err != nil {
		failed := h.engine.ErrorResponse(ex.requestID, &domain.Error{Code: domain.CodeInternal, Message: domain.MsgInternal})
		failed.Err = fmt.Errorf("encode response of %d: %w", resp.Status, err)
		failed.UserID = resp.UserID
		resp = &failed
		e.buf.Reset()
		if err := e.enc.Encode(&resp.Envelope); err != nil {
			panic("BUG: encoding a plain error envelope failed: " + err.Error())
		}
	}
	ex.status, ex.userID, ex.err = resp.Status, resp.UserID, resp.Err

	// One backing array holds the per-response header values. Each header
	// gets a full slice expression of it, so an append cannot spill into
	// its neighbour.
	values := make([]string, 0, 6)
	add := func(v string) []string {
		values = append(values, v)
		n := len(values)
		return values[n-1 : n : n]
	}

	// Keys are already in canonical form, so the map is written directly.
	header := w.Header()
	header["Content-Type"] = headerJSON
	header["Cache-Control"] = headerNoStore
	header["X-Content-Type-Options"] = headerNoSniff
	header["X-Request-Id"] = add(ex.requestID)
	header["Content-Length"] = add(strconv.Itoa(e.buf.Len()))
	if ex.allow != "" {
		header["Allow"] = add(ex.allow)
	}
	if rl := resp.RateLimit; rl != nil {
		header["X-Ratelimit-Limit"] = add(strconv.Itoa(rl.Limit))
		header["X-Ratelimit-Remaining"] = add(strconv.Itoa(rl.Remaining))
		header["X-Ratelimit-Reset"] = add(strconv.FormatInt(rl.Reset.Unix(), 10))
	}
	if resp.Status == http.StatusTooManyRequests {
		header["Retry-After"] = add(strconv.FormatInt(retryAfterSeconds(resp.RetryAfter), 10))
	}

	ex.written = true
	w.WriteHeader(resp.Status)
	// A write error means the client went away, so no one is left to tell.
	_, _ = w.Write(e.buf.Bytes())
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	secs := int64((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}
