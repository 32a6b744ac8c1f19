package mcpapi

import (
	"context"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Transport is an mcp.Transport on a reader and writer, one JSON message
// per line, that lets every request finish when the input ends.
//
// The go-sdk's IOTransport reports the end of the input to the
// connection at once (go-sdk v1.8.0). The connection then cancels the
// requests in flight and writes no more replies, so a client that writes
// its requests and closes its end of the pipe gets no replies. Transport
// reports the end of the input only after it has written a reply to every
// request that it read. Neither Reader nor Writer is closed.
type Transport struct {
	Reader io.Reader
	Writer io.Writer
}

// Connect implements mcp.Transport.
func (t *Transport) Connect(ctx context.Context) (mcp.Connection, error) {
	inner := &mcp.IOTransport{Reader: io.NopCloser(t.Reader), Writer: nopWriteCloser{t.Writer}}
	conn, err := inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c := &drainConn{
		Connection: conn,
		pending:    map[jsonrpc.ID]struct{}{},
	}
	c.replied = sync.NewCond(&c.mu)
	return c, nil
}

// drainConn holds back a read error until every request read has a reply.
//
// NOTE: the go-sdk passes the negotiated protocol version to its own
// connections through an unexported method (sessionUpdated in v1.8.0),
// which this wrapper cannot forward. The inner connection thus accepts
// JSON-RPC batches even after a client negotiates 2025-06-18 or later,
// versions that dropped them.
type drainConn struct {
	mcp.Connection

	mu sync.Mutex
	// pending contains the ids of the requests read that have no reply
	// yet. A second request with a pending id is not added, because the
	// connection rejects it with an error reply that carries no id.
	pending map[jsonrpc.ID]struct{}
	replied *sync.Cond // signalled when pending shrinks or closed is set
	closed  bool
}

// Read returns the next message. When the input ends or fails, it waits
// until no request is pending, or the connection is closed, before it
// returns the error.
func (c *drainConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if err != nil {
		c.mu.Lock()
		for len(c.pending) > 0 && !c.closed {
			c.replied.Wait()
		}
		c.mu.Unlock()
		return nil, err
	}
	if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
		c.mu.Lock()
		c.pending[req.ID] = struct{}{}
		c.mu.Unlock()
	}
	return msg, nil
}

// Write writes msg. A response, even one that fails to be written, ends
// its request's wait: the connection closes itself after a failed write.
func (c *drainConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	err := c.Connection.Write(ctx, msg)
	if resp, ok := msg.(*jsonrpc.Response); ok {
		c.mu.Lock()
		delete(c.pending, resp.ID)
		c.replied.Broadcast()
		c.mu.Unlock()
	}
	return err
}

// Close closes the connection and releases a Read that waits.
func (c *drainConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.replied.Broadcast()
	c.mu.Unlock()
	return c.Connection.Close()
}

// nopWriteCloser leaves the writer open when the connection closes.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
