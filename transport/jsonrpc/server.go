package jsonrpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/internal/wire"
)

// Defaults and fixed limits of the server.
const (
	defaultMaxConcurrent = 16

	// MaxBatch is the largest number of requests in one batch.
	MaxBatch = 100

	readBufferSize = 64 << 10
)

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// Logger receives one line per request and the server's errors.
	// Default: a logger that discards everything.
	Logger *slog.Logger

	// MaxConcurrent bounds how many requests of one connection run at
	// once. When all are busy, the server stops reading until one
	// finishes. Default: 16.
	MaxConcurrent int

	// ClientAddr is passed to the Engine as every request's
	// Request.ClientAddr, for the failed-login throttle and the activity
	// log. Default: "", so failed logins are throttled per email only.
	ClientAddr string
}

// Server serves one Engine over JSON-RPC 2.0. One Server may serve several
// connections at once, each through its own call to Serve.
type Server struct {
	engine        *sharepanel.Engine
	log           *slog.Logger
	maxConcurrent int
	clientAddr    string
	minPayload    int64
	discovery     json.RawMessage
}

// New returns a Server for e. The package documentation describes the
// protocol.
func New(e *sharepanel.Engine, opts Options) *Server {
	if e == nil {
		panic("jsonrpc: New called with a nil Engine")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxConcurrent := opts.MaxConcurrent
	if maxConcurrent <= 0 {
		maxConcurrent = defaultMaxConcurrent
	}
	doc, err := json.Marshal(Discover(e))
	if err != nil {
		panic("BUG: encoding the OpenRPC document failed: " + err.Error())
	}
	return &Server{
		engine:        e,
		log:           logger,
		maxConcurrent: maxConcurrent,
		clientAddr:    opts.ClientAddr,
		minPayload:    e.Plans().MinPayload(),
		discovery:     doc,
	}
}

// Serve reads requests from r, one JSON message per line, and writes each
// reply to w as one line. It returns nil when r reaches EOF, after the
// requests in flight have finished and their replies are written.
//
// When ctx is done, Serve stops dispatching new lines, waits for the
// requests in flight (their own context is not cancelled) and returns nil.
// The goroutine that reads r stays blocked in Read until r returns, so a
// caller that cancels ctx should also close r. Serve returns an error if
// reading r fails other than with EOF, or if a write to w fails. After a
// failed write it reads no more requests.
func (s *Server) Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	c := &conn{
		s:     s,
		ctx:   context.WithoutCancel(ctx),
		slots: make(chan struct{}, s.maxConcurrent),
		stopc: make(chan struct{}),
		w:     w,
	}
	loopDone := make(chan error, 1)
	go func() { loopDone <- c.readLoop(r) }()

	var err error
	select {
	case err = <-loopDone:
	case <-ctx.Done():
		c.stop()
	case <-c.stopc:
	}
	c.inflight.Wait()

	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err == nil && c.writeErr != nil {
		err = fmt.Errorf("write reply: %w", c.writeErr)
	}
	return err
}

// conn is the state of one Serve call.
type conn struct {
	s *Server
	// ctx is the context of every request: Serve's context without its
	// cancellation, so requests in flight finish when Serve is stopped.
	ctx   context.Context
	slots chan struct{}

	// mu guards stopped, and orders inflight.Add before inflight.Wait.
	mu       sync.Mutex
	stopped  bool
	stopc    chan struct{}
	inflight sync.WaitGroup

	writeMu  sync.Mutex
	w        io.Writer
	writeErr error

	// sessionKey is the key that session.use_key set. Only the goroutine
	// that runs readLoop reads or writes it, so a request uses the key set
	// by the lines before it, whatever order requests finish in.
	sessionKey string
}

// stop makes the connection dispatch nothing more.
func (c *conn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		close(c.stopc)
	}
}

// track counts one more goroutine in flight. It returns false once the
// connection is stopping.
func (c *conn) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return false
	}
	c.inflight.Add(1)
	return true
}

// run runs fn in a new goroutine once one of the MaxConcurrent slots is
// free, blocking the reader until then. The caller must hold a tracked
// count (see track), so fn is counted in flight too.
func (c *conn) run(fn func()) {
	c.slots <- struct{}{}
	c.inflight.Add(1)
	go func() {
		defer func() {
			<-c.slots
			c.inflight.Done()
		}()
		fn()
	}()
}

// lineStatus is the way readLine ended a line.
type lineStatus int

const (
	lineComplete     lineStatus = iota // ended by a newline
	lineUnterminated                   // ended by EOF or a read error
	lineTooLong                        // over the limit; skipped to its end
)

// byteOrderMark is the UTF-8 encoding of U+FEFF, which some Windows
// editors and tools write at the start of a text file.
const byteOrderMark = "\xef\xbb\xbf"

// readLoop reads lines until EOF and handles each one. It drops a byte
// order mark at the start of the input. Anywhere else, the mark is text
// outside a JSON value and makes its line a parse error.
func (c *conn) readLoop(r io.Reader) error {
	br := bufio.NewReaderSize(r, readBufferSize)
	if start, err := br.Peek(len(byteOrderMark)); err == nil && string(start) == byteOrderMark {
		br.Discard(len(byteOrderMark))
	}
	for {
		limit := c.lineLimit()
		line, status, err := readLine(br, limit)
		c.mu.Lock()
		stopped := c.stopped
		c.mu.Unlock()
		if stopped {
			return nil
		}

		switch {
		case status == lineTooLong:
			c.write(c.s.tooLarge(nullID, limit, ""))
		case len(bytes.TrimSpace(line)) > 0:
			c.handleLine(line, status == lineUnterminated)
		}

		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
	}
}

// lineLimit returns the max length of the next line: the payload cap of
// the session key's plan, or without a valid session key the smallest cap
// in the plan catalog. The HTTP API applies the same rule to a body whose
// key is not known before it is read.
func (c *conn) lineLimit() int64 {
	if c.sessionKey == "" {
		return c.s.minPayload
	}
	return c.s.engine.PayloadLimit(c.ctx, c.sessionKey)
}

// readLine reads one line of at most limit bytes, without its newline. A
// longer line is read to its end and dropped, and comes back as
// lineTooLong. err is the read error that ended the input, io.EOF
// included, returned with the last line.
func readLine(br *bufio.Reader, limit int64) ([]byte, lineStatus, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		content := chunk
		if err == nil {
			content = chunk[:len(chunk)-1]
		}
		if !tooLong {
			if int64(len(line))+int64(len(content)) > limit {
				tooLong, line = true, nil
			} else {
				line = append(line, content...)
			}
		}

		switch {
		case err == nil && tooLong:
			return nil, lineTooLong, nil
		case err == nil:
			return line, lineComplete, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case tooLong:
			return nil, lineTooLong, err
		default:
			return line, lineUnterminated, err
		}
	}
}

// handleLine handles one message: a request or a batch. unterminated is
// true for text that the input ended in without a newline.
func (c *conn) handleLine(line []byte, unterminated bool) {
	line = bytes.TrimSpace(line)
	// encoding/json replaces invalid UTF-8 with U+FFFD, so it is checked
	// first.
	if !utf8.Valid(line) {
		c.write(c.s.protocolError(nullID, CodeParseError, nameParseError, "Parse error: the message is not valid UTF-8"))
		return
	}
	if !json.Valid(line) {
		msg := "Parse error: the line is not valid JSON"
		if unterminated {
			msg = "Parse error: the input ended in the middle of a message"
		}
		c.write(c.s.protocolError(nullID, CodeParseError, nameParseError, msg))
		return
	}
	if wire.HasLoneSurrogate(line) {
		c.write(c.s.protocolError(nullID, CodeParseError, nameParseError, msgLoneSurrogate))
		return
	}
	if line[0] == '[' {
		c.handleBatch(line)
		return
	}

	req, id, msg := parseRequest(line)
	if msg != "" {
		c.write(c.s.protocolError(id, CodeInvalidRequest, nameInvalidRequest, msg))
		return
	}
	if rep, done := c.handleInline(req); done {
		if rep != nil {
			c.write(rep)
		}
		return
	}
	if !c.track() {
		return
	}
	defer c.inflight.Done()
	key := c.sessionKey
	c.run(func() {
		if rep := c.call(req, key); rep != nil {
			c.write(rep)
		}
	})
}

// handleBatch runs the requests of a batch concurrently and writes their
// replies as one array, in the order of the requests, once the last one
// has finished. A batch of notifications only gets no reply.
func (c *conn) handleBatch(line []byte) {
	var elems []json.RawMessage
	if err := json.Unmarshal(line, &elems); err != nil {
		c.write(c.s.protocolError(nullID, CodeParseError, nameParseError, "Parse error: the line is not valid JSON"))
		return
	}
	switch {
	case len(elems) == 0:
		c.write(c.s.protocolError(nullID, CodeInvalidRequest, nameInvalidRequest, "Invalid request: the batch is empty"))
		return
	case len(elems) > MaxBatch:
		msg := fmt.Sprintf("Invalid request: a batch may hold at most %d requests, this one has %d", MaxBatch, len(elems))
		c.write(c.s.protocolError(nullID, CodeInvalidRequest, nameInvalidRequest, msg))
		return
	}
	if !c.track() {
		return
	}

	replies := make([]*reply, len(elems))
	var calls sync.WaitGroup
	for i, raw := range elems {
		req, id, msg := parseRequest(raw)
		if msg != "" {
			replies[i] = c.s.protocolError(id, CodeInvalidRequest, nameInvalidRequest, msg)
			continue
		}
		if rep, done := c.handleInline(req); done {
			replies[i] = rep
			continue
		}
		key := c.sessionKey
		calls.Add(1)
		c.run(func() {
			defer calls.Done()
			replies[i] = c.call(req, key)
		})
	}

	// The reply waits for the batch's calls in its own goroutine, so the
	// next lines are read meanwhile.
	go func() {
		defer c.inflight.Done()
		calls.Wait()
		out := make([]*reply, 0, len(replies))
		for _, rep := range replies {
			if rep != nil {
				out = append(out, rep)
			}
		}
		if len(out) > 0 {
			c.write(out)
		}
	}()
}

// write sends one reply or batch of replies as one line. Concurrent
// writes never interleave. After the first failed write, nothing more is
// written and the connection stops.
func (c *conn) write(v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Results are encoded when the reply is built, so what is left is
		// plain data that always encodes.
		panic("BUG: encoding a reply failed: " + err.Error())
	}

	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writeErr != nil {
		return
	}
	if _, err := c.w.Write(buf.Bytes()); err != nil {
		c.writeErr = err
		c.s.log.Error("write reply failed; reading no more requests", "transport", "jsonrpc", "err", err)
		go c.stop()
	}
}

// timestamp returns the time now in the envelope's form, for replies that
// the transport builds without the Engine.
func timestamp() string {
	return time.Now().UTC().Format(sharepanel.TimestampFormat)
}

// protocolError builds the reply to a message that is not a valid request.
func (s *Server) protocolError(id json.RawMessage, code int, name, msg string) *reply {
	requestID := wire.NewRequestID()
	s.log.Info("rpc request rejected", "transport", "jsonrpc", "code", name, "request_id", requestID, "reason", msg)
	return &reply{JSONRPC: "2.0", ID: id, Error: &Error{
		Code:    code,
		Message: msg,
		Data:    &ErrorData{Status: 400, Code: name, RequestID: requestID, Timestamp: timestamp()},
	}}
}

// tooLarge builds the reply to a message over the payload cap of limit
// bytes. method is "" for a line that was not read.
func (s *Server) tooLarge(id json.RawMessage, limit int64, method string) *reply {
	requestID := wire.NewRequestID()
	s.log.Info("rpc request rejected", "transport", "jsonrpc", "code", domain.CodePayloadTooLarge,
		"method", loggableName(method), "max_bytes", limit, "request_id", requestID)
	return &reply{JSONRPC: "2.0", ID: id, Error: &Error{
		Code:    ErrorCode(domain.CodePayloadTooLarge),
		Message: domain.MsgPayloadTooLarge,
		Data: &ErrorData{
			Status:    domain.CodePayloadTooLarge.Status(),
			Code:      string(domain.CodePayloadTooLarge),
			RequestID: requestID,
			Timestamp: timestamp(),
			MaxBytes:  limit,
		},
	}}
}
