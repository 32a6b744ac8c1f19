package sharepanel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCgoDriverInCore checks that the packages the WebAssembly builds use
// never import the cgo SQLite driver.
func TestNoCgoDriverInCore(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	for _, pkg := range []string{".", "./domain", "./storage", "./storage/memory", "./transport/..."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.Contains(dep, "mattn/go-sqlite3") || strings.HasSuffix(dep, "/storage/sqlite") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
