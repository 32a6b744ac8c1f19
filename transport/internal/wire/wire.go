// Package wire holds the small pieces that every transport of SharePanel
// needs in the same form: request ids, the check for JSON escapes that
// encoding/json would silently repair, and the quoting of client-chosen
// names in error messages.
package wire

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
)

// NewRequestID returns 16 random hex digits. Request ids need to be unique
// in practice but not secret, so math/rand/v2 (per-thread ChaCha8 in the
// runtime) is enough and costs no system call.
func NewRequestID() string {
	const hexDigits = "0123456789abcdef"
	var b [16]byte
	n := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// Printable shortens a client-chosen name for an error message and quotes
// it if it is not clean text.
func Printable(name string) string {
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	if !domain.CleanText(name) {
		return strconv.Quote(strings.ToValidUTF8(name, "?"))
	}
	return name
}

// HasLoneSurrogate reports whether a JSON text has a \u escape of a UTF-16
// surrogate (U+D800 to U+DFFF) that is not a high surrogate followed by a
// low one. encoding/json decodes such an escape to U+FFFD without an
// error, so transports check for it to reject it like invalid UTF-8.
// Malformed escapes are left to the decoder.
func HasLoneSurrogate(text []byte) bool {
	if !bytes.Contains(text, []byte(`\u`)) {
		return false
	}
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch {
		case c == '"':
			inString = false
		case c != '\\' || i+1 >= len(text):
		case text[i+1] != 'u':
			i++ // skip the escaped character, which may be a quote
		default:
			r, ok := hex4(text, i+2)
			if !ok {
				i++
				continue
			}
			i += 5 // the last hex digit
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return true
			case r >= 0xD800 && r <= 0xDBFF:
				low, ok := hex4(text, i+3)
				if !ok || text[i+1] != '\\' || text[i+2] != 'u' || low < 0xDC00 || low > 0xDFFF {
					return true
				}
				i += 6
			}
		}
	}
	return false
}

// hex4 parses the four hex digits at text[at:at+4].
func hex4(text []byte, at int) (rune, bool) {
	if at < 0 || at+4 > len(text) {
		return 0, false
	}
	var r rune
	for _, c := range text[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
