package sharepanel

import "context"

// PayloadLimit returns the largest request body, in bytes, that the owner
// of apiKey may send: the cap of the user's plan for a valid key, and the
// largest cap in the catalog otherwise (the request then fails on its key,
// or its key is in the body and is checked later). Transports call it
// before reading a body.
func (e *Engine) PayloadLimit(ctx context.Context, apiKey string) int64 {
	if apiKey != "" {
		if _, plan, err := e.authenticate(ctx, apiKey, e.now()); err == nil {
			return plan.MaxPayloadBytes
		}
	}
	return e.cfg.Plans.MaxPayload()
}
