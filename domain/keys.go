package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"strings"
)

// API key format: "sp_", 32 random base62 characters (about 190 bits), then
// 6 base62 characters of the CRC-32 of everything before them. The checksum
// lets ParseAPIKey reject a mistyped or truncated key without a storage
// lookup, and the fixed prefix lets secret scanners recognise leaked keys.
const (
	KeyPrefix       = "sp_"
	keyBodyLen      = 32
	keyChecksumLen  = 6
	KeyLen          = len(KeyPrefix) + keyBodyLen + keyChecksumLen
	keyDisplayChars = 8
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKey returns a new random key in the SharePanel format.
func NewAPIKey() string {
	var b strings.Builder
	b.Grow(KeyLen)
	b.WriteString(KeyPrefix)

	// Rejection sampling keeps every character uniform: bytes >= 248 would
	// favour the first characters of the alphabet.
	buf := make([]byte, 64)
	for n := 0; n < keyBodyLen; {
		rand.Read(buf)
		for _, c := range buf {
			if c >= 248 || n == keyBodyLen {
				continue
			}
			b.WriteByte(base62[c%62])
			n++
		}
	}
	b.WriteString(keyChecksum(b.String()))
	return b.String()
}

func keyChecksum(s string) string {
	sum := crc32.ChecksumIEEE([]byte(s))
	out := make([]byte, keyChecksumLen)
	for i := keyChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[sum%62]
		sum /= 62
	}
	return string(out)
}

// ValidAPIKeyFormat reports whether s has the key format and a matching
// checksum. It does not tell whether the key exists.
func ValidAPIKeyFormat(s string) bool {
	if len(s) != KeyLen || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	cut := len(s) - keyChecksumLen
	return keyChecksum(s[:cut]) == s[cut:]
}

// HashAPIKey returns the SHA-256 of the key, which is what storage keeps.
// A fast hash is enough because keys carry about 190 random bits, unlike
// passwords.
func HashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// APIKeyDisplayPrefix returns the part of a key that lists show.
func APIKeyDisplayPrefix(key string) string {
	n := len(KeyPrefix) + keyDisplayChars
	if len(key) < n {
		return key
	}
	return key[:n]
}
