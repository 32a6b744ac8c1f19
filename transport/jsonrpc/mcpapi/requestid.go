package mcpapi

import "math/rand/v2"

// newRequestID returns 16 random hex digits. Request ids need to be unique
// in practice but not secret, so math/rand/v2 is enough.
func newRequestID() string {
	const hexDigits = "0123456789abcdef"
	var b [16]byte
	n := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}
