package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
)

// runMainEnv names the variable that makes the test binary run main, so
// a test can start the real command, signal handling included, as a
// subprocess.
const runMainEnv = "SHAREPANEL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runInProcess runs the command in this process with stdin and returns
// its stdout.
func runInProcess(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr); code != 0 {
		t.Fatalf("sharepanel %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// rpcResult returns the result of the one reply line in out.
func rpcResult(t *testing.T, out string) map[string]any {
	t.Helper()
	var reply struct {
		Result map[string]any `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &reply); err != nil || reply.Result == nil {
		t.Fatalf("reply %q has no result (%v)", out, err)
	}
	return reply.Result
}

func TestRPCClosedStdoutExitsWithError(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sp.db")
	runInProcess(t, "", "user", "create", "--db", db, "--email", "ann@example.com", "--password", "ann-password")
	out := runInProcess(t, `{"jsonrpc":"2.0","id":1,"method":"auth","params":{"email":"ann@example.com","password":"ann-password"}}`+"\n", "rpc", "--db", db)
	key, _ := rpcResult(t, out)["data"].(map[string]any)["api_key"].(string)
	if key == "" {
		t.Fatalf("auth returned no key: %s", out)
	}

	if total := requestsToday(t, db, key); total != 1 {
		t.Fatalf("analytics.usage before the run: total_requests %d, want 1 (itself)", total)
	}

	// stdout is a pipe whose read end is closed before the command starts,
	// so its first reply fails to be written.
	var in strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, `{"jsonrpc":"2.0","id":%d,"method":"profile.view","params":{"apikey":%q}}`+"\n", i, key)
	}
	readEnd, writeEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	readEnd.Close()
	defer writeEnd.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "rpc", "--db", db)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Stdout = writeEnd
	cmd.Stderr = &stderr
	err = cmd.Run()

	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("sharepanel rpc: %v, want exit status 1\nstderr:\n%s", err, stderr.String())
	}
	if code := exitErr.ExitCode(); code != 1 {
		t.Fatalf("sharepanel rpc: %v (exit code %d), want exit status 1, not a signal\nstderr:\n%s", exitErr, code, stderr.String())
	}
	var errorLines []string
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !strings.HasPrefix(line, "{") { // the rest is the JSON log
			errorLines = append(errorLines, line)
		}
	}
	if len(errorLines) != 1 || !strings.HasPrefix(errorLines[0], "sharepanel rpc: write reply: ") || !strings.Contains(errorLines[0], "broken pipe") {
		t.Errorf("stderr lines other than the log: %q, want one line with the broken pipe error", errorLines)
	}

	// The requests that ran were counted and flushed when the command
	// exited, well before the Engine's 5-second background flush. The two
	// analytics.usage requests count too.
	if total := requestsToday(t, db, key); total < 3 {
		t.Errorf("analytics.usage after the run: total_requests %d, want at least 3 (the two usage requests and a profile.view)", total)
	}
}

// requestsToday returns the key owner's request count for today, the
// analytics.usage request that reads it included.
func requestsToday(t *testing.T, db, key string) int {
	t.Helper()
	out := runInProcess(t, `{"jsonrpc":"2.0","id":1,"method":"analytics.usage","params":{"apikey":"`+key+`","period":1}}`+"\n", "rpc", "--db", db)
	data, _ := rpcResult(t, out)["data"].(map[string]any)
	total, ok := data["total_requests"].(float64)
	if !ok {
		t.Fatalf("analytics.usage: data %v has no total_requests", data)
	}
	return int(total)
}
