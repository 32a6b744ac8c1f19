package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
)

// run runs the CLI in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestExitCodes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sp.db")
	if code, _, stderr := run(t, "user", "create", "--db", db, "--email", "a@example.com", "--password", "password-1"); code != 0 {
		t.Fatalf("create user: exit %d: %s", code, stderr)
	}

	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "help", args: []string{"help"}, want: 0},
		{name: "no verb", args: nil, want: 2},
		{name: "unknown verb", args: []string{"frobnicate"}, want: 2},
		{name: "unknown flag", args: []string{"user", "create", "--db", db, "--bogus"}, want: 2},
		{name: "missing flag", args: []string{"user", "create", "--db", db, "--password", "password-1"}, want: 2},
		{name: "bad balance", args: []string{"user", "create", "--db", db, "--email", "b@example.com", "--password", "password-1", "--balance", "1.234"}, want: 2},
		{name: "bad email", args: []string{"user", "create", "--db", db, "--email", "nope", "--password", "password-1"}, want: 2},
		{name: "empty db", args: []string{"user", "create", "--db", "", "--email", "b@example.com", "--password", "password-1"}, want: 2},
		{name: "memory db", args: []string{"user", "create", "--db", ":memory:", "--email", "b@example.com", "--password", "password-1"}, want: 2},
		{name: "file URI db", args: []string{"user", "create", "--db", "file:x.db", "--email", "b@example.com", "--password", "password-1"}, want: 2},
		{name: "address without port", args: []string{"serve", "--db", db, "--addr", "notanaddr"}, want: 2},
		{name: "port out of range", args: []string{"serve", "--db", db, "--addr", "127.0.0.1:99999"}, want: 2},
		{name: "IPv4 octet out of range", args: []string{"serve", "--db", db, "--addr", "256.0.0.1:8080"}, want: 2},
		{name: "five IPv4 parts", args: []string{"serve", "--db", db, "--addr", "127.0.0.1.5:8080"}, want: 2},
		{name: "email taken", args: []string{"user", "create", "--db", db, "--email", "A@example.com", "--password", "password-1"}, want: 1},
		{name: "owner not found", args: []string{"instance", "create", "--db", db, "--user", "nobody@example.com", "--name", "x"}, want: 1},
		{name: "org not found", args: []string{"org", "add-member", "--db", db, "--org", "99", "--user", "a@example.com"}, want: 1},
		{name: "credit", args: []string{"credit", "--db", db, "--user", "a@example.com", "--amount", "25.00"}, want: 0},
		{name: "invoice", args: []string{"invoice", "create", "--db", db, "--user", "a@example.com", "--amount", "12.50", "--status", "paid"}, want: 0},
		{name: "notify", args: []string{"notify", "--db", db, "--user", "a@example.com", "--title", "Hi", "--message", "Hello"}, want: 0},
		{name: "verify", args: []string{"verify", "--db", db}, want: 0},
		{name: "credit of zero", args: []string{"credit", "--db", db, "--user", "a@example.com", "--amount", "0"}, want: 2},
		{name: "negative credit", args: []string{"credit", "--db", db, "--user", "a@example.com", "--amount", "-5.00"}, want: 2},
		{name: "credit over the maximum", args: []string{"credit", "--db", db, "--user", "a@example.com", "--amount", "1000000000.01"}, want: 2},
		{name: "credit of unknown user", args: []string{"credit", "--db", db, "--user", "nobody@example.com", "--amount", "1"}, want: 1},
		{name: "invoice bad status", args: []string{"invoice", "create", "--db", db, "--user", "a@example.com", "--amount", "1", "--status", "void"}, want: 2},
		{name: "invoice without amount", args: []string{"invoice", "create", "--db", db, "--user", "a@example.com"}, want: 2},
		{name: "notify without message", args: []string{"notify", "--db", db, "--user", "a@example.com", "--title", "Hi"}, want: 2},
		{name: "notify control character", args: []string{"notify", "--db", db, "--user", "a@example.com", "--title", "Hi\x00", "--message", "x"}, want: 2},
		{name: "missing directory", args: []string{"user", "create", "--db", filepath.Join(db, "no", "such.db"), "--email", "b@example.com", "--password", "password-1"}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d (stderr: %s)", code, tt.want, stderr)
			}
			if tt.want != 0 && strings.Count(stderr, "\n") < 1 {
				t.Errorf("stderr %q, want an error line", stderr)
			}
		})
	}
}

func TestVerbsNeedAnExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"verify"},
		{"credit", "--user", "a@example.com", "--amount", "1.00"},
		{"notify", "--user", "a@example.com", "--title", "T", "--message", "M"},
		{"invoice", "create", "--user", "a@example.com", "--amount", "1.00"},
		{"instance", "create", "--user", "a@example.com", "--name", "web"},
		{"org", "add-member", "--org", "1", "--user", "a@example.com"},
	} {
		db := filepath.Join(dir, "typo.db")
		code, _, stderr := run(t, append(args, "--db", db)...)
		if code != 1 || !strings.Contains(stderr, "does not exist") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 naming the missing database", args, code, stderr)
		}
		if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v created %s (stat: %v)", args, db, err)
		}
	}
}

func TestServeBadAddressSeedsNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sp.db")
	code, stdout, _ := run(t, "serve", "--db", db, "--demo", "--addr", "127.0.0.1:99999")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if strings.Contains(stdout, "demo") {
		t.Errorf("stdout %q: the demo account was seeded before the address was checked", stdout)
	}
	if _, _, stderr := run(t, "user", "create", "--db", db, "--email", "demo@sharepanel.local", "--password", "password-1"); stderr != "" {
		t.Errorf("the demo account exists after a failed serve: %s", stderr)
	}
}

func TestCreditWithReferenceCreditsOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sp.db")
	if code, _, stderr := run(t, "user", "create", "--db", db, "--email", "a@example.com", "--password", "password-1"); code != 0 {
		t.Fatalf("create user: exit %d: %s", code, stderr)
	}
	credit := []string{"credit", "--db", db, "--user", "a@example.com", "--amount", "25.00", "--reference", "pay_1"}
	code, first, stderr := run(t, credit...)
	if code != 0 {
		t.Fatalf("first credit: exit %d: %s", code, stderr)
	}
	code, again, stderr := run(t, credit...)
	if code != 0 || again != first {
		t.Errorf("repeated credit: exit %d, output %q, want exit 0 and %q (stderr %s)", code, again, first, stderr)
	}
	if !strings.Contains(first, `"balance_after":25.00`) {
		t.Errorf("first credit printed %q, want balance_after 25.00", first)
	}

	code, _, stderr = run(t, "credit", "--db", db, "--user", "a@example.com", "--amount", "30.00", "--reference", "pay_1")
	if code != 1 || !strings.Contains(stderr, `Reference "pay_1" was already used for a credit of 25.00`) {
		t.Errorf("reused reference: exit %d, stderr %q; want exit 1 naming the first credit", code, stderr)
	}
}

// sharedStore is a memory store whose Close does nothing, so that the
// verbs of one test share its data as they would share a SQLite file.
type sharedStore struct{ *memory.Store }

func (sharedStore) Close() error { return nil }

// openCall is one call of an Options.OpenStore.
type openCall struct {
	path   string
	create bool
}

func TestRunWithOptions(t *testing.T) {
	dir := t.TempDir()
	plans := `[{"name": "gold", "daily_requests": 100, "per_minute": 10, "max_payload_mb": 1, "org_limit": 1, "instance_limit": 1, "price": 5.00}]`
	if err := os.WriteFile(filepath.Join(dir, "plans.json"), []byte(plans), 0o600); err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	spDB := filepath.Join(dir, "sp.db")
	var calls []openCall
	opts := cli.Options{
		OpenStore: func(path string, create bool) (storage.Store, error) {
			calls = append(calls, openCall{path: path, create: create})
			if path != spDB {
				return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
			}
			return sharedStore{store}, nil
		},
		Getenv: func(key string) string {
			if key == "SHAREPANEL_DB" {
				return "sp.db"
			}
			return ""
		},
		Dir: dir,
	}
	runWith := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := cli.RunWith(context.Background(), opts, args, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, stdout, stderr := runWith("user", "create", "--email", "a@example.com", "--password", "password-1", "--plan", "gold", "--plans", "plans.json")
	if code != 0 {
		t.Fatalf("user create: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"plan":"gold"`) {
		t.Errorf("user create printed %q, want the plan gold of plans.json", stdout)
	}
	if want := (openCall{path: spDB, create: true}); len(calls) != 1 || calls[0] != want {
		t.Errorf("user create opened %+v, want only %+v", calls, want)
	}

	calls = nil
	code, stdout, stderr = runWith("verify")
	if code != 0 || !strings.HasPrefix(stdout, "checked 1 users:") {
		t.Errorf("verify: exit %d, stdout %q, stderr %q; want exit 0 with the user of user create", code, stdout, stderr)
	}
	if want := (openCall{path: spDB, create: false}); len(calls) != 1 || calls[0] != want {
		t.Errorf("verify opened %+v, want only %+v", calls, want)
	}

	code, _, stderr = runWith("credit", "--db", "missing.db", "--user", "a@example.com", "--amount", "1.00")
	if want := "sharepanel credit: database missing.db does not exist: create it with serve or user create, or set --db\n"; code != 1 || stderr != want {
		t.Errorf("credit on a missing database: exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
}
