package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sharepanel/sharepanel/domain"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  domain.Money
		fails bool
	}{
		{name: "whole", input: "25", want: 2500},
		{name: "one decimal", input: "25.5", want: 2550},
		{name: "two decimals", input: "0.05", want: 5},
		{name: "negative", input: "-1.05", want: -105},
		{name: "three decimals", input: "1.005", fails: true},
		{name: "exponent", input: "1e3", fails: true},
		{name: "empty", input: "", fails: true},
		{name: "trailing dot", input: "1.", fails: true},
		{name: "plus sign", input: "+1", fails: true},
		{name: "too large", input: "123456789012345", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseMoney(tt.input)
			if tt.fails {
				if err == nil {
					t.Fatalf("ParseMoney(%q) = %d, want an error", tt.input, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMoney(%q) = %d, %v, want %d", tt.input, got, err, tt.want)
			}
		})
	}
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(map[string]domain.Money{"a": 10000, "b": 50, "c": -305, "d": 0})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":100.00,"b":0.50,"c":-3.05,"d":0.00}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestAPIKeyFormat(t *testing.T) {
	key := domain.NewAPIKey()
	if len(key) != domain.KeyLen || !strings.HasPrefix(key, "sp_") {
		t.Fatalf("key %q: want %d characters starting with sp_", key, domain.KeyLen)
	}
	if !domain.ValidAPIKeyFormat(key) {
		t.Fatalf("new key %q fails its own checksum", key)
	}
	if domain.NewAPIKey() == key {
		t.Fatal("two new keys are equal")
	}

	// Any single changed character, and any truncation, is caught.
	for i := len(domain.KeyPrefix); i < len(key); i++ {
		c := byte('A')
		if key[i] == 'A' {
			c = 'B'
		}
		typo := key[:i] + string(c) + key[i+1:]
		if domain.ValidAPIKeyFormat(typo) {
			t.Errorf("key with character %d changed passes the checksum", i)
		}
	}
	if domain.ValidAPIKeyFormat(key[:len(key)-1]) {
		t.Error("truncated key passes")
	}
	if domain.APIKeyDisplayPrefix(key) != key[:11] {
		t.Errorf("display prefix %q", domain.APIKeyDisplayPrefix(key))
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ name, title, want string }{
		{name: "default title", title: "New Organization", want: "new-organization"},
		{name: "punctuation runs", title: "  Acme, Inc. -- R&D!  ", want: "acme-inc-r-d"},
		{name: "nothing left", title: "!!!", want: "org"},
		{name: "non ascii", title: "Café Ñu", want: "caf-u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.Slug(tt.title); got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.title, got, tt.want)
			}
		})
	}
}

func TestReadCatalog(t *testing.T) {
	c, err := domain.ReadCatalog(strings.NewReader(`[{"name":"solo","daily_requests":5,"per_minute":2,"max_payload_mb":1,"org_limit":1,"instance_limit":1,"price":"4.50"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := c.Find("solo"); !ok || p.MaxPayloadBytes != 1<<20 || p.Price != 450 {
		t.Errorf("plan %+v", p)
	}
	for name, input := range map[string]string{
		"empty":         `[]`,
		"zero daily":    `[{"name":"x","daily_requests":0,"per_minute":1,"max_payload_bytes":1}]`,
		"unknown field": `[{"name":"x","daily_requests":1,"per_minute":1,"max_payload_bytes":1,"color":"red"}]`,
		"duplicate":     `[{"name":"x","daily_requests":1,"per_minute":1,"max_payload_bytes":1},{"name":"x","daily_requests":1,"per_minute":1,"max_payload_bytes":1}]`,
	} {
		if _, err := domain.ReadCatalog(strings.NewReader(input)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestErrorStatus(t *testing.T) {
	for code, status := range domain.Codes() {
		if status < 400 || status > 599 {
			t.Errorf("%s maps to %d", code, status)
		}
	}
	if got := domain.AsError(errString("db gone")); got.Code != domain.CodeInternal || got.Message != domain.MsgInternal {
		t.Errorf("unknown error became %+v", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestProfileURLCheck(t *testing.T) {
	tests := []struct {
		name string
		pfp  string
		ok   bool
	}{
		{name: "https", pfp: "https://cdn.example.com/a.png", ok: true},
		{name: "http", pfp: "http://example.com", ok: true},
		{name: "scheme with http prefix", pfp: "httpfoo://evil"},
		{name: "no host", pfp: "http:foo"},
		{name: "javascript", pfp: "javascript:alert(1)"},
		{name: "relative", pfp: "/a.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.Validate(domain.ProfileUpdate{PFP: &tt.pfp})
			if tt.ok && err != nil {
				t.Errorf("pfp %q: %v, want valid", tt.pfp, err)
			}
			if !tt.ok && domain.ErrorCode(err) != domain.CodeInvalidParameter {
				t.Errorf("pfp %q: %v, want invalid_parameter", tt.pfp, err)
			}
		})
	}
}

func TestReadCatalogStrict(t *testing.T) {
	const row = `"name":"x","daily_requests":1,"per_minute":1`
	tests := []struct {
		name, input, message string
	}{
		{name: "trailing data", input: `[{` + row + `,"max_payload_mb":1}] {`, message: "unexpected data after the array"},
		{name: "both payload fields", input: `[{` + row + `,"max_payload_mb":1,"max_payload_bytes":5}]`, message: "not both"},
		{name: "megabytes overflow", input: `[{` + row + `,"max_payload_mb":17592186044417}]`, message: "outside 1 to"},
		{name: "field named in JSON", input: `[{"name":"x","daily_requests":0,"per_minute":1,"max_payload_mb":1}]`, message: "Invalid daily_requests"},
		{name: "zero per minute", input: `[{"name":"x","daily_requests":1,"per_minute":0,"max_payload_mb":1}]`, message: "Invalid per_minute: must be greater than 0"},
		{name: "missing per minute", input: `[{"name":"x","daily_requests":1,"max_payload_mb":1}]`, message: "Invalid per_minute: must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := domain.ReadCatalog(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %v, want one containing %q", err, tt.message)
			}
		})
	}
}
