package wire

import (
	"regexp"
	"strings"
	"testing"
)

func TestHasLoneSurrogate(t *testing.T) {
	tests := []struct {
		name, text string
		want       bool
	}{
		{name: "no escapes", text: `{"a":"b"}`, want: false},
		{name: "plain escape", text: `{"a":"\u00e9"}`, want: false},
		{name: "pair", text: `{"a":"\ud83d\ude00"}`, want: false},
		{name: "pair in upper case", text: `{"a":"\uD83D\uDE00"}`, want: false},
		{name: "lone low", text: `{"a":"x\udc00y"}`, want: true},
		{name: "lone high at the end", text: `{"a":"x\ud800"}`, want: true},
		{name: "high before a plain escape", text: `{"a":"\ud800\u0041"}`, want: true},
		{name: "two highs", text: `{"a":"\ud800\ud800"}`, want: true},
		{name: "in a name", text: `{"\udc00":"b"}`, want: true},
		{name: "escaped backslash before u", text: `{"a":"\\udc00"}`, want: false},
		{name: "outside a string", text: `\udc00`, want: false},
		{name: "malformed escape", text: `{"a":"\uzzzz"}`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasLoneSurrogate([]byte(tt.text)); got != tt.want {
				t.Errorf("HasLoneSurrogate(%s) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestNewRequestIDIsSixteenHexDigits(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewRequestID()
		if !form.MatchString(id) {
			t.Fatalf("request id %q is not 16 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestPrintable(t *testing.T) {
	if got := Printable("org_id"); got != "org_id" {
		t.Errorf("Printable(org_id) = %q", got)
	}
	if got := Printable("a\x00b"); got != `"a\x00b"` {
		t.Errorf("Printable of a NUL = %q, want it quoted", got)
	}
	long := Printable(strings.Repeat("a", 100))
	if len(long) != 67 {
		t.Errorf("Printable of 100 bytes is %d bytes long, want it shortened", len(long))
	}
}
