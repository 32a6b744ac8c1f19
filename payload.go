package sharepanel

import "context"

// PayloadLimit returns the largest request body, in bytes, that the owner
// of apiKey may send: the cap of the user's plan for a valid key, and the
// smallest cap in the catalog otherwise. Transports call it before reading
// a body. A client without a valid key up front (a login, or a key sent
// inside the body) thus gets the smallest cap and cannot make the server
// read or hold more. Larger bodies need the key in a header or the query
// string.
func (e *Engine) PayloadLimit(ctx context.Context, apiKey string) int64 {
	if apiKey != "" {
		if _, plan, err := e.authenticate(ctx, apiKey, e.now()); err == nil {
			return plan.MaxPayloadBytes
		}
	}
	return e.cfg.Plans.MinPayload()
}

// CheckAPIKey returns an error with code invalid_api_key unless apiKey is
// a key that exists and has not expired. It counts no request, so a
// transport that serves one key (MCP) can check it at startup.
func (e *Engine) CheckAPIKey(ctx context.Context, apiKey string) error {
	_, _, err := e.authenticate(ctx, apiKey, e.now())
	return err
}
