package domain

import (
	"golang.org/x/crypto/bcrypt"
)

// Password limits in bytes. bcrypt reads at most 72 bytes, so longer
// passwords are rejected instead of being silently truncated.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// The bcrypt costs HashPassword accepts.
const (
	MinBcryptCost = bcrypt.MinCost
	MaxBcryptCost = bcrypt.MaxCost
)

// HashPassword returns a bcrypt hash of the password at the given cost
// (bcrypt.DefaultCost when cost is 0).
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword reports whether password matches the bcrypt hash.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
