package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in US cents. It is rendered in JSON as a number with
// exactly two decimals (100.00, 0.50), so no amount ever passes through a
// float.
type Money int64

// String returns the amount with two decimals, such as "-3.05".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON renders the amount as a JSON number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON accepts a JSON number or string with at most two decimals.
func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := ParseMoney(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMoney parses a decimal amount with at most two decimals ("25",
// "25.5", "25.50", "-1.05") into cents. It rejects exponents, extra
// decimals and amounts beyond about 90 trillion dollars.
func ParseMoney(s string) (Money, error) {
	if s == "" {
		return 0, fmt.Errorf("invalid amount %q: empty", s)
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")

	whole, frac, hasFrac := strings.Cut(body, ".")
	if whole == "" || (hasFrac && (frac == "" || len(frac) > 2)) {
		return 0, fmt.Errorf("invalid amount %q: want digits with at most two decimals", s)
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("invalid amount %q: want digits with at most two decimals", s)
			}
		}
	}
	if len(whole) > 14 {
		return 0, fmt.Errorf("invalid amount %q: too large", s)
	}

	w, _ := strconv.ParseInt(whole, 10, 64)
	var f int64
	if hasFrac {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	cents := w*100 + f
	if neg {
		cents = -cents
	}
	return Money(cents), nil
}
