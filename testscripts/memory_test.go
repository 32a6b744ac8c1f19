package testscripts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
)

// In TestScriptsMemory, every sharepanel run of a script must act on the
// same in-memory databases, but "exec sharepanel" starts a process. So
// that process forwards its run to the test process over the unix socket
// in $SHAREPANEL_TEST_FORWARD. It sends its arguments, working directory,
// stdin and the variables that the CLI reads. The test process runs
// cli.RunWith on the script's memory stores and returns the output and
// exit code. serve-start runs serve in the test process directly.

// forwardSocketEnv names the variable with the socket that runSharepanel
// forwards its run to.
const forwardSocketEnv = "SHAREPANEL_TEST_FORWARD"

// cliEnv lists the environment variables that the CLI reads.
var cliEnv = []string{"SHAREPANEL_DB", "SHAREPANEL_API_KEY"}

// exitForwardFailed is the exit code of a run whose forward failed, so
// that it differs from every exit code of the CLI.
const exitForwardFailed = 3

// forwardRequest is one sharepanel run sent to the test process.
type forwardRequest struct {
	Args  []string          `json:"args"`
	Dir   string            `json:"dir"`
	Env   map[string]string `json:"env"`
	Stdin []byte            `json:"stdin"`
}

// forwardResponse is the result of a forwarded run.
type forwardResponse struct {
	Stdout []byte `json:"stdout"`
	Stderr []byte `json:"stderr"`
	Code   int    `json:"code"`
}

// runForwarded sends the run of this process to the test process at
// socket, prints its output and returns its exit code.
func runForwarded(socket string) int {
	resp, err := forward(socket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sharepanel (test forward to %s): %v\n", socket, err)
		return exitForwardFailed
	}
	os.Stdout.Write(resp.Stdout)
	os.Stderr.Write(resp.Stderr)
	return resp.Code
}

func forward(socket string) (*forwardResponse, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("get working directory: %w", err)
	}
	stdin, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	req := forwardRequest{Args: os.Args[1:], Dir: dir, Env: map[string]string{}, Stdin: stdin}
	for _, name := range cliEnv {
		req.Env[name] = os.Getenv(name)
	}

	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	var resp forwardResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return &resp, nil
}

// memoryStores are the in-memory databases of one script, one for each
// absolute --db path, shared by every sharepanel run of the script so that
// their data survives from one run to the next, as a file's would.
type memoryStores struct {
	mu     sync.Mutex
	stores map[string]*memory.Store
}

// startMemoryStores creates the script's stores and a socket in $WORK that
// serves the forwarded runs of its sharepanel processes, and sets
// $SHAREPANEL_TEST_FORWARD to the socket. At the end of the script it
// cancels the runs in progress, waits for them and closes the stores.
func startMemoryStores(env *testscript.Env) (*memoryStores, error) {
	m := &memoryStores{stores: map[string]*memory.Store{}}
	socket := filepath.Join(env.WorkDir, "sharepanel.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (unix socket paths are limited to 108 bytes on Linux; set a shorter $TMPDIR): %w", socket, err)
	}
	env.Setenv(forwardSocketEnv, socket)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			wg.Go(func() { m.serveForward(ctx, env, conn) })
		}
	})
	env.Defer(func() {
		cancel()
		ln.Close()
		wg.Wait()
		m.close()
		checkNoSQLiteFiles(env)
	})
	return m, nil
}

// sqliteHeader is the first 16 bytes of every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// checkNoSQLiteFiles fails the script if a SQLite database was created in
// $WORK, which means that a sharepanel run used SQLite instead of the
// memory stores.
func checkNoSQLiteFiles(env *testscript.Env) {
	tb, ok := env.T().(testing.TB)
	if !ok {
		return
	}
	err := filepath.WalkDir(env.WorkDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, len(sqliteHeader))
		if _, err := io.ReadFull(f, head); err == nil && string(head) == sqliteHeader {
			tb.Errorf("%s is a SQLite database: a sharepanel run of the in-memory scenarios used SQLite", path)
		}
		return nil
	})
	if err != nil {
		tb.Errorf("check $WORK for SQLite files: %v", err)
	}
}

// serveForward runs one forwarded sharepanel run in the test process.
func (m *memoryStores) serveForward(ctx context.Context, env *testscript.Env, conn net.Conn) {
	defer conn.Close()
	var req forwardRequest
	if err := json.NewDecoder(conn).Decode(&req); err != nil {
		env.T().Log("read forwarded sharepanel run:", err)
		return
	}

	var stdout, stderr bytes.Buffer
	opts := cli.Options{OpenStore: m.open, Getenv: lookupIn(req.Env), Dir: req.Dir}
	code := cli.RunWith(ctx, opts, req.Args, bytes.NewReader(req.Stdin), &stdout, &stderr)
	resp := forwardResponse{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Code: code}
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		env.T().Log("send result of forwarded sharepanel run:", err)
	}
}

// lookupIn returns a Getenv that reads vars.
func lookupIn(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}

// open is the Options.OpenStore of the script's sharepanel runs. Like a
// SQLite file, a database needs an existing directory, and with create
// false one that was never created does not exist.
func (m *memoryStores) open(path string, create bool) (storage.Store, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("open memory database %s: the path is not absolute", path)
	}
	// Resolve symbolic links in the directory, so that two paths of one
	// file name one database.
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("open memory database %s: %w", path, err)
	}
	key := filepath.Join(dir, filepath.Base(path))

	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.stores[key]
	if !ok {
		if !create {
			return nil, &fs.PathError{Op: "open memory database", Path: path, Err: fs.ErrNotExist}
		}
		s = memory.New()
		m.stores[key] = s
	}
	return sharedStore{s}, nil
}

// close closes every store of the script.
func (m *memoryStores) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.stores {
		s.Close()
	}
}

// sharedStore wraps a store of memoryStores for one sharepanel run. Its
// Close does nothing, so the data outlives the run.
type sharedStore struct{ *memory.Store }

var _ storage.Store = sharedStore{}

func (sharedStore) Close() error { return nil }

// startServeInProcess runs the sharepanel command with args in a
// goroutine of the test process, on the script's memory stores, with the
// script's current directory and variables. Its interrupt cancels the
// command's context.
func startServeInProcess(ts *testscript.TestScript, m *memoryStores, args []string) *server {
	vars := map[string]string{}
	for _, name := range cliEnv {
		vars[name] = ts.Getenv(name)
	}
	opts := cli.Options{OpenStore: m.open, Getenv: lookupIn(vars), Dir: ts.MkAbs(".")}

	ctx, cancel := context.WithCancel(context.Background())
	srv := &server{
		stdout: newLineBuffer("listening on "),
		stderr: newLineBuffer(""),
		exited: make(chan struct{}),
	}
	srv.interrupt = func() error {
		cancel()
		return nil
	}
	srv.kill = func() error {
		// A goroutine cannot be killed, so it is left running.
		return fmt.Errorf("%s did not return within %v of the cancellation of its context", strings.Join(args, " "), stopTimeout)
	}
	go func() {
		code := cli.RunWith(ctx, opts, args, strings.NewReader(""), srv.stdout, srv.stderr)
		if code != 0 {
			srv.err = fmt.Errorf("exit status %d", code)
		}
		close(srv.exited)
	}()
	return srv
}
