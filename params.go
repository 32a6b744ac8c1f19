package sharepanel

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel/domain"
)

// maxParamLen bounds every parameter without a MaxLen of its own.
const maxParamLen = 4096

// checkParams rejects unknown parameters and values that are too long, not
// clean text, or not of the parameter's type. It runs before the action, so
// an action reads only parameters it declared. When several parameters are
// wrong, the error names the same one every time: the first unknown name in
// sorted order, else the first bad value in the action's parameter order.
func checkParams(spec *ActionSpec, params map[string]string) error {
	known := spec.AllParams()
	unknown, found := "", false
	for name := range params {
		if _, ok := findParam(known, name); !ok && (!found || name < unknown) {
			unknown, found = name, true
		}
	}
	if found {
		return domain.Errorf(domain.CodeUnknownParameter, "Unknown parameter: %s", printable(unknown))
	}

	for _, p := range known {
		value, given := params[p.Name]
		if !given {
			continue
		}
		if err := checkValue(p, value); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks one given parameter value against its spec. Required
// parameters that are empty pass here: each action checks them itself,
// because the reference fixes the message for some of them.
func checkValue(p Param, value string) error {
	limit := p.MaxLen
	if limit == 0 {
		limit = maxParamLen
	}

	// A UTF-8 character takes at most 4 bytes, so the byte check bounds
	// the work before the characters are counted.
	if len(value) > 4*limit {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: at most %d characters allowed", p.Name, limit)
	}
	if !domain.CleanText(value) {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: contains a NUL byte, a control character or invalid UTF-8", p.Name)
	}
	if utf8.RuneCountInString(value) > limit {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: at most %d characters allowed", p.Name, limit)
	}
	if value == "" {
		return nil
	}

	if len(p.Enum) > 0 && !slices.Contains(p.Enum, value) {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s. Allowed values: %s", p.Name, strings.Join(p.Enum, ", "))
	}
	switch {
	case p.Name == "limit" || p.Name == "offset":
		// pageFrom checks these with messages that give their ranges.
	case p.Type == TypeInt && p.Max != 0:
		if n, err := parseCount(value); err != nil || n < p.Min || n > p.Max {
			return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be an integer from %d to %d", p.Name, p.Min, p.Max)
		}
	case p.Type == TypeInt && p.Min == 1:
		if n, err := parseCount(value); err != nil || n == 0 {
			return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be a positive integer", p.Name)
		}
	case p.Type == TypeInt:
		if _, err := parseCount(value); err != nil {
			return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be a non-negative integer", p.Name)
		}
	case p.Type == TypeBool:
		if _, err := parseBool(value); err != nil {
			return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be true or false", p.Name)
		}
	}
	return nil
}

// printable shortens and sanitizes a client-supplied name for a message.
func printable(s string) string {
	if s == "" {
		return `""`
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	if !domain.CleanText(s) {
		return strconv.Quote(strings.ToValidUTF8(s, "?"))
	}
	return s
}

func findParam(params []Param, name string) (Param, bool) {
	for _, p := range params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// parseCount parses a decimal integer with no sign and at most 18
// significant digits; leading zeros do not count.
func parseCount(s string) (int64, error) {
	if !allDigits(s) {
		return 0, strconv.ErrSyntax
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 18 {
		return 0, strconv.ErrRange
	}
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off", "":
		return false, nil
	}
	return false, strconv.ErrSyntax
}

// parseTime reads an ISO 8601 date-time (RFC 3339, or without a zone, taken
// as UTC) or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}

// maxOffset is the largest offset a list accepts.
const maxOffset = math.MaxInt32

// pageFrom reads limit and offset. A limit over the maximum is capped; a
// limit of 0 is rejected.
func pageFrom(params map[string]string) (domain.Page, error) {
	p := domain.Page{Limit: domain.DefaultLimit}
	limit, err := limitFrom(params, domain.DefaultLimit)
	if err != nil {
		return p, err
	}
	p.Limit = limit
	if v, ok := params["offset"]; ok {
		n, err := parseCount(v)
		if err != nil || n > maxOffset {
			return p, domain.Errorf(domain.CodeInvalidParameter, "Invalid offset: must be an integer from 0 to %d", maxOffset)
		}
		p.Offset = int(n)
	}
	return p, nil
}

// limitFrom reads the limit parameter: def when absent, capped at
// domain.MaxLimit, and an error when it is 0, empty or not a whole number.
// A number too long to parse is over the cap too, so it is capped.
func limitFrom(params map[string]string, def int) (int, error) {
	v, ok := params["limit"]
	if !ok {
		return def, nil
	}
	n, err := parseCount(v)
	if errors.Is(err, strconv.ErrRange) {
		n, err = domain.MaxLimit, nil
	}
	if err != nil || n == 0 {
		return 0, domain.Errorf(domain.CodeInvalidParameter, "Invalid limit: must be an integer from 1 to %d (larger values are capped)", domain.MaxLimit)
	}
	return int(min(n, domain.MaxLimit)), nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
