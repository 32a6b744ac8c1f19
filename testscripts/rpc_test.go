package testscripts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Transports that the API scenarios run over.
const (
	transportHTTP    = "http"
	transportJSONRPC = "jsonrpc"
)

// rpcServer is a running "sharepanel rpc" process that the api and login
// commands send one request at a time to, on its stdin.
type rpcServer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lineBuffer
	exited chan struct{}
	err    error // the result of cmd.Wait, set before exited is closed

	mu      sync.Mutex
	nextID  int
	waiting map[string]chan []byte
	// unmatched contains reply lines whose id no request waits for.
	unmatched []string
}

// startRPC starts "sharepanel rpc --db $SHAREPANEL_DB" with the given
// extra flags.
func startRPC(ts *testscript.TestScript, args []string) *rpcServer {
	bin, err := exec.LookPath("sharepanel")
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"rpc", "--db", ts.Getenv("SHAREPANEL_DB")}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = os.Environ()
	for _, name := range forwardedEnv {
		cmd.Env = append(cmd.Env, name+"="+ts.Getenv(name))
	}
	srv := &rpcServer{
		cmd:     cmd,
		stderr:  newLineBuffer(""),
		exited:  make(chan struct{}),
		waiting: map[string]chan []byte{},
	}
	cmd.Stderr = srv.stderr
	srv.stdin, err = cmd.StdinPipe()
	ts.Check(err)
	stdout, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		srv.readReplies(stdout)
	}()
	go func() {
		<-readDone // Wait closes stdout, so the reader must finish first
		srv.err = cmd.Wait()
		close(srv.exited)
	}()
	return srv
}

// readReplies hands each reply line to the request that waits for its id.
func (srv *rpcServer) readReplies(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var head struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(line, &head)
		srv.mu.Lock()
		ch, ok := srv.waiting[string(head.ID)]
		delete(srv.waiting, string(head.ID))
		if !ok {
			srv.unmatched = append(srv.unmatched, string(line))
		}
		srv.mu.Unlock()
		if ok {
			ch <- line
		}
	}
}

// call sends one request and returns its reply line.
func (srv *rpcServer) call(ts *testscript.TestScript, method string, params []byte) []byte {
	srv.mu.Lock()
	srv.nextID++
	id := strconv.Itoa(srv.nextID)
	ch := make(chan []byte, 1)
	srv.waiting[id] = ch
	srv.mu.Unlock()

	msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":%s,"params":%s}`+"\n", id, jsonString(method), params)
	if _, err := io.WriteString(srv.stdin, msg); err != nil {
		ts.Fatalf("send %s to sharepanel rpc: %v\nstderr:\n%s", method, err, srv.stderr)
	}
	select {
	case line := <-ch:
		return line
	case <-srv.exited:
		ts.Fatalf("sharepanel rpc exited before it replied to %s: %v\nstderr:\n%s", method, srv.err, srv.stderr)
	case <-time.After(requestTimeout):
		ts.Fatalf("sharepanel rpc did not reply to %s within %v\nstderr:\n%s", method, requestTimeout, srv.stderr)
	}
	return nil
}

// stop closes stdin, which ends the process once the requests in flight
// have finished, and waits for it to exit.
func (srv *rpcServer) stop() error {
	srv.stdin.Close()
	select {
	case <-srv.exited:
		return srv.err
	case <-time.After(stopTimeout):
		srv.cmd.Process.Kill()
		<-srv.exited
		return fmt.Errorf("sharepanel rpc did not exit within %v of the end of its input; killed", stopTimeout)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// cmdAPIOverRPC is the api command over JSON-RPC. The method is
// MODE.ACTION from the mode and action parameters (type for mode stats),
// and the other parameters go in params as strings, or as raw JSON for
// name:=value. The key goes in apikey, or in api_key with -keyin api_key.
// The flags that choose an HTTP method or body encoding do not apply, so
// they are ignored. An Idempotency-Key header becomes the idempotency_key
// member. The flags that only HTTP can express stop the script, so lines
// with them must carry the [http] condition.
func cmdAPIOverRPC(ts *testscript.TestScript, args []string) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("method", "GET", "ignored over JSON-RPC")
	fs.String("body", "form", "ignored over JSON-RPC")
	key := fs.String("key", "", "API key")
	keyIn := fs.String("keyin", "query", "api_key sends the key as api_key, anything else as apikey")
	path := fs.String("path", "/", "HTTP only")
	rawQuery := fs.String("query", "", "HTTP only")
	rawBody := fs.String("rawbody", "", "HTTP only")
	fs.String("ctype", "", "HTTP only")
	var headers headerFlags
	fs.Var(&headers, "header", "HTTP only")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("api: %v", err)
	}
	// An Idempotency-Key header has a JSON-RPC form, the idempotency_key
	// member; other headers do not.
	var idempotencyKey string
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		if !strings.EqualFold(strings.TrimSpace(name), "Idempotency-Key") {
			ts.Fatalf("api: -header %q exists only over HTTP; prefix the line with [http]", h)
		}
		idempotencyKey = strings.TrimSpace(value)
	}
	switch {
	case *path != "/", *rawQuery != "", *rawBody != "":
		ts.Fatalf("api: -path, -query and -rawbody exist only over HTTP; prefix the line with [http]")
	}

	var mode, action, statsType string
	var params bytes.Buffer
	params.WriteByte('{')
	add := func(name, value string, raw bool) {
		if params.Len() > 1 {
			params.WriteByte(',')
		}
		params.WriteString(jsonString(name))
		params.WriteByte(':')
		if raw {
			params.WriteString(value)
		} else {
			params.WriteString(jsonString(value))
		}
	}
	for _, arg := range fs.Args() {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			ts.Fatalf("api: argument %q is not name=value", arg)
		}
		switch name {
		case "mode":
			mode = value
			continue
		case "action":
			action = value
			continue
		case "type":
			statsType = value
		}
		if n, isRaw := strings.CutSuffix(name, ":"); isRaw {
			add(n, value, true)
		} else {
			add(name, value, false)
		}
	}
	if *key != "" {
		member := "apikey"
		if *keyIn == "api_key" {
			member = "api_key"
		}
		add(member, *key, false)
	}
	if idempotencyKey != "" {
		add("idempotency_key", idempotencyKey, false)
	}
	params.WriteByte('}')

	method := methodName(mode, action, statsType)
	if mode == "stats" {
		// The type parameter became the method's action.
		params = *bytes.NewBuffer(removeMember(ts, params.Bytes(), "type"))
	}
	line := rpcOf(ts).call(ts, method, params.Bytes())
	recordRPC(ts, line)
	ts.Stdout().Write(line)
	fmt.Fprintln(ts.Stdout())
}

// methodName builds MODE.ACTION the way the HTTP API selects an action.
func methodName(mode, action, statsType string) string {
	if mode == "stats" {
		action = statsType
	}
	if action == "" {
		return mode
	}
	return mode + "." + action
}

// removeMember returns the params object without the named member.
func removeMember(ts *testscript.TestScript, params []byte, name string) []byte {
	var members map[string]json.RawMessage
	ts.Check(json.Unmarshal(params, &members))
	delete(members, name)
	out, err := json.Marshal(members)
	ts.Check(err)
	return out
}

// loginOverRPC is the login command over JSON-RPC.
func loginOverRPC(ts *testscript.TestScript, email, password string) *response {
	params, err := json.Marshal(map[string]string{"email": email, "password": password})
	ts.Check(err)
	return recordRPC(ts, rpcOf(ts).call(ts, "auth", params))
}

func rpcOf(ts *testscript.TestScript) *rpcServer {
	srv := stateOf(ts).rpc
	if srv == nil {
		ts.Fatalf("no sharepanel rpc is running; run serve-start first")
	}
	return srv
}

// recordRPC makes a reply the script's last response and returns it.
func recordRPC(ts *testscript.TestScript, line []byte) *response {
	r, err := responseOfReply(line)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	stateOf(ts).last = r
	return r
}

// responseOfReply turns a JSON-RPC reply into the envelope that the HTTP
// API would have sent, so that want and save work alike over both
// transports: a result becomes a success envelope with status 200, and
// an error becomes an error envelope whose status is the one in the
// error's data. The reply itself stays reachable under the path "rpc".
func responseOfReply(line []byte) (*response, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var reply map[string]any
	if err := dec.Decode(&reply); err != nil {
		return nil, fmt.Errorf("reply %q is not a JSON object: %v", line, err)
	}

	env := map[string]any{}
	status := 0
	if result, ok := reply["result"].(map[string]any); ok {
		status = 200
		env["status"] = "success"
		for _, name := range []string{"message", "data", "pagination", "request_id", "timestamp"} {
			if v, ok := result[name]; ok {
				env[name] = v
			}
		}
	} else if rpcErr, ok := reply["error"].(map[string]any); ok {
		env["status"] = "error"
		env["message"] = rpcErr["message"]
		data, _ := rpcErr["data"].(map[string]any)
		for _, name := range []string{"code", "request_id", "timestamp"} {
			if v, ok := data[name]; ok {
				env[name] = v
			}
		}
		n, err := strconv.Atoi(jsonText(data["status"]))
		if err != nil {
			return nil, fmt.Errorf("reply %s: error data has no status", line)
		}
		status = n
	} else {
		return nil, fmt.Errorf("reply %s has neither result nor error", line)
	}
	env["rpc"] = reply
	return &response{status: status, body: line, doc: env}, nil
}

// cmdReply makes the reply with the given id, in the stdout of the last
// exec, the last response, so that want and save check it. The id is
// compared as text ("3", "abc", "null"), and INDEX picks among replies
// with the same id, from 0. Replies inside a batch's array count too.
func cmdReply(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: reply ID [INDEX]")
	}
	index := 0
	if len(args) == 2 {
		var err error
		if index, err = strconv.Atoi(args[1]); err != nil {
			ts.Fatalf("reply: invalid index %q", args[1])
		}
	}

	var matches [][]byte
	for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var elems []json.RawMessage
		if line[0] == '[' {
			ts.Check(json.Unmarshal([]byte(line), &elems))
		} else {
			elems = []json.RawMessage{json.RawMessage(line)}
		}
		for _, elem := range elems {
			var head struct {
				ID json.RawMessage `json:"id"`
			}
			if err := json.Unmarshal(elem, &head); err != nil {
				ts.Fatalf("reply: stdout line %q is not JSON: %v", line, err)
			}
			var id any
			ts.Check(json.Unmarshal(head.ID, &id))
			if jsonText(id) == args[0] {
				matches = append(matches, elem)
			}
		}
	}
	if index >= len(matches) {
		ts.Fatalf("reply %s: %d replies with this id in stdout, want more than %d", args[0], len(matches), index)
	}
	recordRPC(ts, matches[index])
}

// cmdExpand writes the text of SRC with $NAME and ${NAME} replaced by the
// script's variables to DST, or appends it with -append. -chomp drops the
// final newline, for input that ends in the middle of a line (txtar ends
// every file with a newline). Scripts use it to put keys into requests
// that they send on stdin.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("expand", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	appendTo := fs.Bool("append", false, "append to DST")
	chomp := fs.Bool("chomp", false, "drop the final newline")
	if err := fs.Parse(args); err != nil || neg || fs.NArg() != 2 {
		ts.Fatalf("usage: expand [-append] [-chomp] SRC DST")
	}
	text := os.Expand(ts.ReadFile(fs.Arg(0)), ts.Getenv)
	if *chomp {
		text = strings.TrimSuffix(text, "\n")
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if *appendTo {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(ts.MkAbs(fs.Arg(1)), flags, 0o644)
	ts.Check(err)
	_, err = f.WriteString(text)
	ts.Check(err)
	ts.Check(f.Close())
}

// cmdLongLine appends to FILE one request line of exactly BYTES bytes
// (newline not counted) with the id "long": a profile.view whose pad
// parameter fills the line.
func cmdLongLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: long-line FILE BYTES")
	}
	size, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("long-line: invalid size %q", args[1])
	}
	const head, tail = `{"jsonrpc":"2.0","id":"long","method":"profile.view","params":{"pad":"`, `"}}`
	pad := size - len(head) - len(tail)
	if pad < 0 {
		ts.Fatalf("long-line: %d bytes is shorter than an empty request", size)
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	ts.Check(err)
	_, err = f.WriteString(head + strings.Repeat("x", pad) + tail + "\n")
	ts.Check(err)
	ts.Check(f.Close())
}
