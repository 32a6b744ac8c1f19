// Package testscripts runs end-to-end scenarios against the sharepanel
// command: each script in testdata starts from an empty database, seeds it
// with the admin verbs, starts the server and sends API requests to it.
//
// The scripts in testdata are the contract of every transport and store
// and run three times. TestScripts sends their requests over HTTP to
// "sharepanel serve" and TestScriptsJSONRPC sends the same requests over
// JSON-RPC to "sharepanel rpc", both as separate processes on a SQLite
// file, so the two transports cannot drift apart. TestScriptsMemory runs
// the HTTP scenarios on the in-memory store (see memory_test.go), so the
// two stores cannot drift apart either. A line that only HTTP can express
// (paths, methods, headers, body encodings) carries the [http] condition,
// and a check of JSON-RPC specifics carries [rpc]. A check that needs a
// database file carries [!memory] (or [sqlite]), and a script whose
// remaining lines edit the SQLite file ends early on the in-memory store
// with "[memory] stop". The scripts in testdata/rpc test the rpc command
// itself with scripted stdin and run once, in TestRPCStdio.
//
// Besides testscript's own commands, scripts use these (see the functions
// named cmd* for the details):
//
//	serve-start [flags]       start the server of the transport, set $BASE for HTTP
//	serve-stop                stop it and print its output
//	api [flags] name=value... send one API request, print the response body
//	want PATH [VALUE]         check a field of the last response
//	save PATH VAR             store a field of the last response in $VAR
//	login EMAIL PASSWORD VAR  authenticate and store the new key in $VAR
//	timestamp VAR [OFFSET]    store the time now plus OFFSET in $VAR
//	fake-key VAR              store a well-formed key that no account has
//	sleep DURATION            wait, for expiry and time-window checks
//	reply ID [INDEX]          make a reply in the last exec's stdout the last response
//	expand [-append] [-chomp] SRC DST  copy a file with $VARS replaced
//	long-line FILE BYTES      append a request line of exactly BYTES bytes
//
// Over JSON-RPC, a response is compared as the envelope the HTTP API would
// have sent: "want http 404" checks the status in the error's data (200
// for a result), and the reply itself is under the path "rpc".
package testscripts

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sharepanel/sharepanel/cmd/sharepanel/cli"
	"github.com/sharepanel/sharepanel/domain"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sharepanel": runSharepanel,
	})
}

// runSharepanel is the sharepanel command as the test binary runs it when
// a script executes "sharepanel": the same code as cmd/sharepanel's main,
// or, in TestScriptsMemory, a forward of the run to the test process.
func runSharepanel() {
	if socket := os.Getenv(forwardSocketEnv); socket != "" {
		os.Exit(runForwarded(socket))
	}
	os.Exit(cli.Main())
}

// Stores that the scenarios run against.
const (
	storeSQLite = "sqlite"
	storeMemory = "memory"
)

// TestScripts runs the API scenarios over HTTP on SQLite.
func TestScripts(t *testing.T) {
	runScripts(t, "testdata", transportHTTP, storeSQLite)
}

// TestScriptsJSONRPC runs the same API scenarios over JSON-RPC on SQLite.
func TestScriptsJSONRPC(t *testing.T) {
	runScripts(t, "testdata", transportJSONRPC, storeSQLite)
}

// TestScriptsMemory runs the same API scenarios over HTTP on the
// in-memory store.
func TestScriptsMemory(t *testing.T) {
	runScripts(t, "testdata", transportHTTP, storeMemory)
}

// TestRPCStdio runs the scenarios of the rpc command's own protocol.
func TestRPCStdio(t *testing.T) {
	runScripts(t, filepath.Join("testdata", "rpc"), transportJSONRPC, storeSQLite)
}

func runScripts(t *testing.T, dir, transport, store string) {
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// Admin verbs and serve-start use the same database.
			env.Setenv("SHAREPANEL_DB", filepath.Join(env.WorkDir, "sp.db"))
			st := &scriptState{transport: transport}
			if store == storeMemory {
				var err error
				if st.memory, err = startMemoryStores(env); err != nil {
					return err
				}
			}
			env.Values[stateKey{}] = st
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "http":
				return transport == transportHTTP, nil
			case "rpc":
				return transport == transportJSONRPC, nil
			case storeSQLite:
				return store == storeSQLite, nil
			case storeMemory:
				return store == storeMemory, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"serve-start":   cmdServeStart,
			"serve-stop":    cmdServeStop,
			"api":           cmdAPI,
			"want":          cmdWant,
			"save":          cmdSave,
			"login":         cmdLogin,
			"timestamp":     cmdTimestamp,
			"fake-key":      cmdFakeKey,
			"sleep":         cmdSleep,
			"minute-margin": cmdMinuteMargin,
			"tamper":        cmdTamper,
			"reply":         cmdReply,
			"expand":        cmdExpand,
			"long-line":     cmdLongLine,
		},
	})
}

type stateKey struct{}

// scriptState is what the custom commands of one script share.
type scriptState struct {
	transport string
	// memory holds the script's databases in TestScriptsMemory and is nil
	// on SQLite.
	memory *memoryStores
	server *server
	rpc    *rpcServer
	last   *response
}

func stateOf(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

// Timeouts of the harness. They are generous because scripts run in
// parallel and the race detector slows the server down.
const (
	startTimeout   = 30 * time.Second
	stopTimeout    = 20 * time.Second
	requestTimeout = 30 * time.Second
)

// server is a running "sharepanel serve", as a process on SQLite or as a
// goroutine of the test process on the in-memory store.
type server struct {
	base   string
	stdout *lineBuffer
	stderr *lineBuffer
	exited chan struct{}
	err    error // the exit status, set before exited is closed

	// interrupt starts the server's shutdown.
	interrupt func() error
	// kill ends a server that did not exit in time after interrupt, and
	// returns the error that stop reports.
	kill func() error
}

// lineBuffer collects a process's output and reports the first line that
// starts with a given prefix.
type lineBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	prefix  string
	found   chan string
}

func newLineBuffer(prefix string) *lineBuffer {
	return &lineBuffer{prefix: prefix, found: make(chan string, 1)}
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.prefix == "" {
		return len(p), nil
	}
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		line := string(b.partial[:i])
		b.partial = b.partial[i+1:]
		if rest, ok := strings.CutPrefix(line, b.prefix); ok {
			b.found <- rest
			b.prefix = ""
			b.partial = nil
			break
		}
	}
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// forwardedEnv lists the script variables that the server process gets on
// top of the test process's environment.
var forwardedEnv = []string{"WORK", "HOME", "TMPDIR", "PATH", "SHAREPANEL_DB"}

// cmdServeStart starts "sharepanel serve --addr 127.0.0.1:0 --db $WORK/sp.db"
// with the given extra flags, in the script's current directory, waits for
// GET /healthz to return 200 and sets $BASE to the server's base URL. It
// prints the server's stdout up to the "listening on" line, so a script can
// check what --demo printed. Over JSON-RPC it starts "sharepanel rpc --db
// $WORK/sp.db" with the flags instead and prints nothing. On the in-memory
// store, serve runs in the test process. The server is stopped at the end
// of the script if serve-stop has not stopped it.
func cmdServeStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! serve-start")
	}
	st := stateOf(ts)
	if st.server != nil || st.rpc != nil {
		ts.Fatalf("serve-start: a server is already running; run serve-stop first")
	}
	if st.transport == transportJSONRPC {
		if st.memory != nil {
			ts.Fatalf("serve-start: JSON-RPC runs only on SQLite")
		}
		srv := startRPC(ts, args)
		st.rpc = srv
		ts.Defer(func() {
			if st.rpc == srv {
				if err := srv.stop(); err != nil {
					ts.Logf("sharepanel rpc stopped at the end of the script: %v\nstderr:\n%s", err, srv.stderr)
				}
			}
		})
		return
	}

	serveArgs := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", ts.Getenv("SHAREPANEL_DB")}, args...)
	var srv *server
	if st.memory != nil {
		srv = startServeInProcess(ts, st.memory, serveArgs)
	} else {
		srv = startServeProcess(ts, serveArgs)
	}
	st.server = srv
	ts.Defer(func() {
		if st.server == srv {
			if err := srv.stop(); err != nil {
				ts.Logf("server stopped at the end of the script: %v\nstderr:\n%s", err, srv.stderr)
			}
		}
	})

	select {
	case srv.base = <-srv.stdout.found:
	case <-srv.exited:
		st.server = nil
		ts.Fatalf("sharepanel serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", srv.err, srv.stdout, srv.stderr)
	case <-time.After(startTimeout):
		ts.Fatalf("sharepanel serve printed no \"listening on\" line within %v\nstderr:\n%s", startTimeout, srv.stderr)
	}
	if err := waitHealthy(srv, startTimeout); err != nil {
		ts.Fatalf("%v\nstderr:\n%s", err, srv.stderr)
	}

	ts.Setenv("BASE", srv.base)
	fmt.Fprint(ts.Stdout(), srv.stdout.String())
}

// startServeProcess starts the sharepanel command with args as a process
// in the script's current directory.
func startServeProcess(ts *testscript.TestScript, args []string) *server {
	bin, err := exec.LookPath("sharepanel")
	ts.Check(err)
	cmd := exec.Command(bin, args...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = os.Environ()
	for _, name := range forwardedEnv {
		cmd.Env = append(cmd.Env, name+"="+ts.Getenv(name))
	}

	srv := &server{
		stdout: newLineBuffer("listening on "),
		stderr: newLineBuffer(""),
		exited: make(chan struct{}),
	}
	srv.interrupt = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("send SIGINT to sharepanel serve: %w", err)
		}
		return nil
	}
	srv.kill = func() error {
		cmd.Process.Kill()
		<-srv.exited
		return fmt.Errorf("sharepanel serve did not exit within %v of SIGINT; killed", stopTimeout)
	}

	cmd.Stdout, cmd.Stderr = srv.stdout, srv.stderr
	ts.Check(cmd.Start())
	go func() {
		srv.err = cmd.Wait()
		close(srv.exited)
	}()
	return srv
}

// waitHealthy polls GET /healthz until it returns 200.
func waitHealthy(srv *server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		resp, err := httpClient.Get(srv.base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		last = err
		select {
		case <-srv.exited:
			return fmt.Errorf("sharepanel serve exited while waiting for /healthz: %v", srv.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("GET %s/healthz did not return 200 within %v: %v", srv.base, timeout, last)
}

// stop interrupts the server and waits for it to exit. It returns an
// error if the server does not exit in time or exits with a non-zero
// status.
func (srv *server) stop() error {
	if err := srv.interrupt(); err != nil {
		return err
	}
	select {
	case <-srv.exited:
		return srv.err
	case <-time.After(stopTimeout):
		return srv.kill()
	}
}

// cmdServeStop stops the server that serve-start started, checks that it
// exited with status 0, and prints its stdout and stderr (the JSON log) so
// that stdout and stderr checks can inspect them. "sharepanel serve" is
// stopped with SIGINT, or by cancelling its context when it runs in the
// test process. "sharepanel rpc" is stopped by closing its stdin; of the
// latter's stdout, only replies that matched no request are printed.
func cmdServeStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 0 {
		ts.Fatalf("usage: serve-stop")
	}
	st := stateOf(ts)
	if rpc := st.rpc; rpc != nil {
		st.rpc = nil
		err := rpc.stop()
		rpc.mu.Lock()
		for _, line := range rpc.unmatched {
			fmt.Fprintln(ts.Stdout(), line)
		}
		rpc.mu.Unlock()
		fmt.Fprint(ts.Stderr(), rpc.stderr.String())
		if err != nil {
			ts.Fatalf("sharepanel rpc did not stop cleanly: %v", err)
		}
		return
	}
	srv := st.server
	if srv == nil {
		ts.Fatalf("serve-stop: no server is running")
	}
	st.server = nil
	err := srv.stop()
	fmt.Fprint(ts.Stdout(), srv.stdout.String())
	fmt.Fprint(ts.Stderr(), srv.stderr.String())
	if err != nil {
		ts.Fatalf("sharepanel serve did not stop cleanly: %v", err)
	}
}

// httpClient sends the harness's requests. It never follows redirects, so
// checks inspect the response exactly as the server sent it.
var httpClient = &http.Client{
	Timeout: requestTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// response is the last response a script received.
type response struct {
	status int
	header http.Header
	body   []byte
	doc    any // the body decoded as JSON, nil if it is not JSON
}

// param is one name=value argument of the api command. A raw JSON value
// (name:=value) is sent as is in a JSON body.
type param struct {
	name, value string
	rawJSON     bool
}

// headerFlags collects repeated -header K:V flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// cmdAPI sends one request to $BASE and prints the response body.
//
//	api [-method GET|POST] [-key KEY] [-keyin query|api_key|header|bearer]
//	    [-body form|json|multipart] [-header K:V]... [-path /]
//	    [-query RAW] [-rawbody RAW -ctype TYPE] name=value... name:=json...
//
// A GET sends the parameters in the query string; a POST sends them in a
// body of the -body kind. -keyin chooses where the key goes: the apikey
// query parameter (default), the api_key parameter beside the others, the
// X-API-Key header or an Authorization: Bearer header. An empty -key sends
// no key. -query appends an already encoded query string, and -rawbody
// sends an already encoded body, for inputs that name=value cannot express
// (bytes that are not valid UTF-8, repeated names in a body).
func cmdAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! api (check the result with want)")
	}
	if stateOf(ts).transport == transportJSONRPC {
		cmdAPIOverRPC(ts, args)
		return
	}
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	method := fs.String("method", http.MethodGet, "HTTP method")
	key := fs.String("key", "", "API key")
	keyIn := fs.String("keyin", "query", "where the key goes: query, api_key, header or bearer")
	bodyKind := fs.String("body", "form", "POST body: form, json or multipart")
	path := fs.String("path", "/", "request path")
	rawQuery := fs.String("query", "", "encoded query string to append")
	rawBody := fs.String("rawbody", "", "encoded body to send as is")
	contentType := fs.String("ctype", "application/x-www-form-urlencoded", "Content-Type of -rawbody")
	var headers headerFlags
	fs.Var(&headers, "header", "request header K:V (repeatable)")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("api: %v", err)
	}

	var params []param
	for _, arg := range fs.Args() {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			ts.Fatalf("api: argument %q is not name=value", arg)
		}
		p := param{name: name, value: value}
		if n, isRaw := strings.CutSuffix(name, ":"); isRaw {
			p.name, p.rawJSON = n, true
		}
		params = append(params, p)
	}
	if *key != "" && *keyIn == "api_key" {
		params = append(params, param{name: "api_key", value: *key})
	}

	query := url.Values{}
	if *key != "" && *keyIn == "query" {
		query.Set("apikey", *key)
	}
	var body io.Reader
	bodyType := ""
	switch {
	case *rawBody != "":
		body, bodyType = strings.NewReader(*rawBody), *contentType
		addValues(query, params)
	case *method == http.MethodGet || len(params) == 0:
		addValues(query, params)
	default:
		var err error
		body, bodyType, err = encodeBody(*bodyKind, params)
		if err != nil {
			ts.Fatalf("api: %v", err)
		}
	}

	target := ts.Getenv("BASE")
	if target == "" {
		ts.Fatalf("api: $BASE is not set; run serve-start first")
	}
	target += *path
	if q := joinQuery(query.Encode(), *rawQuery); q != "" {
		target += "?" + q
	}
	req, err := http.NewRequest(*method, target, body)
	ts.Check(err)
	if bodyType != "" {
		req.Header.Set("Content-Type", bodyType)
	}
	switch {
	case *key == "", *keyIn == "query", *keyIn == "api_key":
	case *keyIn == "header":
		req.Header.Set("X-API-Key", *key)
	case *keyIn == "bearer":
		req.Header.Set("Authorization", "Bearer "+*key)
	default:
		ts.Fatalf("api: unknown -keyin %q: use query, api_key, header or bearer", *keyIn)
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			ts.Fatalf("api: -header %q is not K:V", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}

	resp := send(ts, req)
	ts.Stdout().Write(resp.body)
	if !bytes.HasSuffix(resp.body, []byte("\n")) {
		fmt.Fprintln(ts.Stdout())
	}
}

func addValues(v url.Values, params []param) {
	for _, p := range params {
		v.Add(p.name, p.value)
	}
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

// encodeBody builds a POST body of the given kind from params.
func encodeBody(kind string, params []param) (io.Reader, string, error) {
	switch kind {
	case "form":
		v := url.Values{}
		addValues(v, params)
		return strings.NewReader(v.Encode()), "application/x-www-form-urlencoded", nil

	case "json":
		var buf bytes.Buffer
		buf.WriteByte('{')
		for i, p := range params {
			if i > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(p.name)
			buf.Write(name)
			buf.WriteByte(':')
			if p.rawJSON {
				buf.WriteString(p.value)
				continue
			}
			value, _ := json.Marshal(p.value)
			buf.Write(value)
		}
		buf.WriteByte('}')
		return &buf, "application/json", nil

	case "multipart":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, p := range params {
			if err := w.WriteField(p.name, p.value); err != nil {
				return nil, "", err
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return &buf, w.FormDataContentType(), nil
	}
	return nil, "", fmt.Errorf("unknown -body %q: use form, json or multipart", kind)
}

// send sends req, records the response as the script's last one and
// returns it.
func send(ts *testscript.TestScript, req *http.Request) *response {
	resp, err := httpClient.Do(req)
	if err != nil {
		ts.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.Fatalf("read response to %s %s: %v", req.Method, req.URL.Path, err)
	}

	r := &response{status: resp.StatusCode, header: resp.Header, body: body}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err == nil {
		r.doc = doc
	}
	stateOf(ts).last = r
	return r
}

// cmdWant checks a field of the last response.
//
//	want PATH VALUE    the field exists and its text is VALUE
//	! want PATH VALUE  the field is missing or its text is not VALUE
//	want PATH          the field exists
//	! want PATH        the field is missing
//
// PATH is "http" (the status code), "header.NAME", a dotted path into the
// JSON body ("data.email", "data.0.title", "pagination.total"), or
// len(PATH), the length of an array, object or string. Strings compare
// without quotes; numbers compare as the literal text the server sent, so
// "100.00" checks two-decimal money; objects and arrays compare as compact
// JSON.
func cmdWant(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: want PATH [VALUE]")
	}
	r := lastResponse(ts)
	got, found, err := r.lookup(args[0])
	if err != nil {
		ts.Fatalf("want %s: %v", args[0], err)
	}

	if len(args) == 1 {
		switch {
		case !neg && !found:
			ts.Fatalf("want %s: field is missing\nresponse: %d %s", args[0], r.status, r.body)
		case neg && found:
			ts.Fatalf("want %s: field is present with %q, expected it missing\nresponse: %d %s", args[0], got, r.status, r.body)
		}
		return
	}

	want := args[1]
	switch {
	case !neg && !found:
		ts.Fatalf("want %s: field is missing, expected %q\nresponse: %d %s", args[0], want, r.status, r.body)
	case !neg && got != want:
		ts.Fatalf("want %s:\n  got:      %q\n  expected: %q\nresponse: %d %s", args[0], got, want, r.status, r.body)
	case neg && found && got == want:
		ts.Fatalf("want %s: got %q, expected any other value\nresponse: %d %s", args[0], got, r.status, r.body)
	}
}

// cmdSave stores a field of the last response in an environment variable.
func cmdSave(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: save PATH VAR")
	}
	r := lastResponse(ts)
	got, found, err := r.lookup(args[0])
	if err != nil {
		ts.Fatalf("save %s: %v", args[0], err)
	}
	if !found {
		ts.Fatalf("save %s: field is missing\nresponse: %d %s", args[0], r.status, r.body)
	}
	ts.Setenv(args[1], got)
}

// cmdLogin authenticates with mode=auth (a POST form, so the password
// stays out of the URL), checks for 200 and stores the new key in VAR.
func cmdLogin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: login EMAIL PASSWORD VAR")
	}
	if stateOf(ts).transport == transportJSONRPC {
		r := loginOverRPC(ts, args[0], args[1])
		key, found, _ := r.lookup("data.api_key")
		if r.status != http.StatusOK || !found || key == "" {
			ts.Fatalf("login %s: got %d %s", args[0], r.status, r.body)
		}
		ts.Setenv(args[2], key)
		return
	}
	form := url.Values{"mode": {"auth"}, "email": {args[0]}, "password": {args[1]}}
	base := ts.Getenv("BASE")
	if base == "" {
		ts.Fatalf("login: $BASE is not set; run serve-start first")
	}
	req, err := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(form.Encode()))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	r := send(ts, req)
	key, found, _ := r.lookup("data.api_key")
	if r.status != http.StatusOK || !found || key == "" {
		ts.Fatalf("login %s: got %d %s", args[0], r.status, r.body)
	}
	ts.Setenv(args[2], key)
}

func lastResponse(ts *testscript.TestScript) *response {
	r := stateOf(ts).last
	if r == nil {
		ts.Fatalf("no response yet: run api or login first")
	}
	return r
}

// lookup returns the text of the field at path and whether it exists.
func (r *response) lookup(path string) (string, bool, error) {
	if inner, ok := strings.CutPrefix(path, "len("); ok {
		inner, ok = strings.CutSuffix(inner, ")")
		if !ok {
			return "", false, fmt.Errorf("unbalanced parenthesis in %q", path)
		}
		v, found, err := r.jsonField(inner)
		if err != nil || !found {
			return "", found, err
		}
		switch v := v.(type) {
		case []any:
			return strconv.Itoa(len(v)), true, nil
		case map[string]any:
			return strconv.Itoa(len(v)), true, nil
		case string:
			return strconv.Itoa(len(v)), true, nil
		}
		return "", false, fmt.Errorf("%s is %s, which has no length", inner, jsonText(v))
	}

	if path == "http" {
		return strconv.Itoa(r.status), true, nil
	}
	if name, ok := strings.CutPrefix(path, "header."); ok {
		if r.header == nil {
			return "", false, fmt.Errorf("header checks exist only over HTTP; prefix the line with [http]")
		}
		values, found := r.header[http.CanonicalHeaderKey(name)]
		if !found {
			return "", false, nil
		}
		return strings.Join(values, ", "), true, nil
	}

	v, found, err := r.jsonField(path)
	if err != nil || !found {
		return "", found, err
	}
	return jsonText(v), true, nil
}

// jsonField walks a dotted path through the decoded body. A numeric
// segment indexes an array.
func (r *response) jsonField(path string) (any, bool, error) {
	if r.doc == nil {
		return nil, false, fmt.Errorf("the response body is not JSON: %q", r.body)
	}
	v := r.doc
	for _, seg := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[seg]
			if !ok {
				return nil, false, nil
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil {
				return nil, false, fmt.Errorf("segment %q of %q indexes an array and must be a number", seg, path)
			}
			if i < 0 || i >= len(node) {
				return nil, false, nil
			}
			v = node[i]
		default:
			return nil, false, nil
		}
	}
	return v, true, nil
}

// jsonText renders a decoded JSON value for comparison: strings without
// quotes, numbers as sent, null as "null", the rest as compact JSON.
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// cmdTimestamp stores the current UTC time plus an optional offset (a Go
// duration such as 2s or -1h) in RFC 3339 form, for parameters such as
// expires_at.
func cmdTimestamp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: timestamp VAR [OFFSET]")
	}
	var offset time.Duration
	if len(args) == 2 {
		var err error
		if offset, err = time.ParseDuration(args[1]); err != nil {
			ts.Fatalf("timestamp: invalid offset %q: %v", args[1], err)
		}
	}
	ts.Setenv(args[0], time.Now().Add(offset).UTC().Format(time.RFC3339))
}

// cmdFakeKey stores a new key in $VAR: it has the right format and
// checksum, so the server must look it up to reject it.
func cmdFakeKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fake-key VAR")
	}
	ts.Setenv(args[0], domain.NewAPIKey())
}

// cmdSleep waits for a Go duration such as 3s.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("sleep: invalid duration %q: %v", args[0], err)
	}
	time.Sleep(d)
}

// cmdMinuteMargin waits, if needed, until the current UTC minute has at
// least the given duration left, so checks of the per-minute window cannot
// straddle a minute boundary.
func cmdMinuteMargin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: minute-margin DURATION")
	}
	margin, err := time.ParseDuration(args[0])
	if err != nil || margin <= 0 || margin >= time.Minute {
		ts.Fatalf("minute-margin: invalid duration %q: want more than 0 and less than 1m", args[0])
	}
	now := time.Now()
	next := now.Truncate(time.Minute).Add(time.Minute)
	if next.Sub(now) < margin {
		time.Sleep(next.Sub(now) + 100*time.Millisecond)
	}
}
