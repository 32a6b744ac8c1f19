package domain

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

var (
	validate = newValidator()

	phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{2,31}$`)
	pathPattern  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	nonAlnum     = regexp.MustCompile(`[^a-z0-9]+`)
)

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterValidation("phone", func(fl validator.FieldLevel) bool {
		return phonePattern.MatchString(fl.Field().String())
	})
	v.RegisterValidation("orgpath", func(fl validator.FieldLevel) bool {
		return pathPattern.MatchString(fl.Field().String())
	})
	v.RegisterValidation("httpurl", func(fl validator.FieldLevel) bool {
		u, err := url.Parse(fl.Field().String())
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	})
	return v
}

// Field limits shared by validation and the parameter specs.
const (
	MaxTitleLen   = 100
	MaxPathLen    = 64
	MaxEmailLen   = 254
	MaxNameLen    = 100
	MaxKeyNameLen = 100
)

// NewUser holds what creating a user requires.
type NewUser struct {
	Email    string `validate:"required,max=254,email"`
	Password string `validate:"required,min=8,max=72"`
	Username string `validate:"omitempty,max=64"`
	Plan     string `validate:"required"`
	Balance  Money  `validate:"gte=0"`
}

// NewOrg holds the fields of an org to create, after defaults are applied.
type NewOrg struct {
	Title   string `validate:"required,max=100"`
	Path    string `validate:"required,max=64,orgpath"`
	Contact string `validate:"omitempty,max=254,email"`
}

// Validate checks a struct's validate tags and returns an invalid_parameter
// *Error that names the first failing field.
func Validate(s any) error {
	err := validate.Struct(s)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) || len(verrs) == 0 {
		return fmt.Errorf("validate %T: %w", s, err)
	}
	fe := verrs[0]
	return Errorf(CodeInvalidParameter, "Invalid %s: %s", paramName(fe.Field()), describe(fe))
}

// paramName turns a Go field name into the API's snake_case parameter name
// ("FirstName" to "first_name", "PFP" to "pfp").
func paramName(field string) string {
	var b strings.Builder
	for i, r := range field {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prev := rune(field[i-1])
			nextLower := i+1 < len(field) && field[i+1] >= 'a' && field[i+1] <= 'z'
			if prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9' || (prev >= 'A' && prev <= 'Z' && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "a value is required"
	case "max":
		return "at most " + fe.Param() + " characters allowed"
	case "min":
		return "at least " + fe.Param() + " characters required"
	case "email":
		return "not a valid email address"
	case "httpurl":
		return "not a valid http or https URL"
	case "phone":
		return "use digits, spaces, '+', '-', '(' and ')' only"
	case "orgpath":
		return "use lowercase letters, digits and single hyphens only"
	case "gte":
		return "must not be negative"
	case "gt":
		return "must be greater than " + fe.Param()
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	}
	return "failed the " + fe.Tag() + " check"
}

// Slug derives an org path from a title: lowercased, with runs of
// characters other than a-z and 0-9 turned into single hyphens and hyphens
// trimmed from the ends. It returns "org" when nothing is left.
func Slug(title string) string {
	s := nonAlnum.ReplaceAllString(strings.ToLower(title), "-")
	s = strings.Trim(s, "-")
	if len(s) > MaxPathLen-4 {
		s = strings.TrimRight(s[:MaxPathLen-4], "-")
	}
	if s == "" {
		return "org"
	}
	return s
}

// CleanText reports whether s is valid UTF-8 without NUL or other control
// characters except tab, newline and carriage return.
func CleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}
