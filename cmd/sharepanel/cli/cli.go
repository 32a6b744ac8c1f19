// Package cli implements the sharepanel command. serve runs the HTTP API
// on a SQLite file, and rpc and mcp serve it on stdin and stdout. The admin
// verbs create the data that the public API does not (users, instances,
// org members, invoices, notifications, credits), and verify checks the
// data's integrity.
//
// Run is the whole program; cmd/sharepanel only wires it to the process,
// and tests call it in-process. RunWith is Run with another store, such as
// the in-memory one, and another environment and working directory.
//
// Exit codes: 0 on success, 1 when an operation fails (an email that is
// taken, a user that does not exist, a plan limit, a broken record found by
// verify), 2 for a bad verb, flag or value. Every error is one line on stderr.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/sqlite"
)

// Exit codes of Run.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// defaultDB is the database file when neither --db nor SHAREPANEL_DB is set.
const defaultDB = "./sharepanel.db"

// dbEnv names the environment variable that replaces defaultDB.
const dbEnv = "SHAREPANEL_DB"

const usage = `Usage: sharepanel VERB [flags]

Verbs:
  serve            serve the API over HTTP
      [--addr 127.0.0.1:8080] [--db FILE] [--demo] [--plans FILE]
  rpc              serve the API over JSON-RPC 2.0 on stdin and stdout,
                   one message per line; logs go to stderr
      [--db FILE] [--demo] [--plans FILE]
  mcp              serve the API as Model Context Protocol tools on stdin
                   and stdout, with the key in $SHAREPANEL_API_KEY
      [--db FILE] [--plans FILE]
  user create      create a user account
      --email E --password P [--username U]
      [--plan free|basic|pro|enterprise] [--balance 100.00] [--plans FILE]
  instance create  create an instance for a user
      --user EMAIL --name NAME [--path P] [--status active|sleep|dead]
      [--type SNCS] [--instance-type default] [--plans FILE]
  org add-member   add a user to an organization
      --org ID --user EMAIL [--role member|admin]
  invoice create   bill a user with a one-item invoice
      --user EMAIL --amount 12.50 [--status pending|paid|overdue]
      [--description D]
  notify           send a user a notification
      --user EMAIL --title T --message M
  credit           add money to a user's balance
      --user EMAIL --amount 25.00 [--description D] [--reference R]
  verify           check every balance, invoice and activity chain
  help             print this text

Every verb takes --db FILE, the SQLite database (default ./sharepanel.db,
or $SHAREPANEL_DB when set). Admin verbs print one JSON object on stdout.
An admin verb given the --plans file that serve uses checks plan names and
limits against it. Run "sharepanel VERB -h" for the flags of one verb.

Exit status: 0 on success, 1 when the operation fails, 2 for a bad verb,
flag or value.
`

// usageError is a bad verb, flag or value; Run exits 2 on it.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Options configure RunWith. The zero value is what Run uses.
type Options struct {
	// OpenStore opens the database at path, the value of --db resolved
	// against Dir. With create true it creates a database that does not
	// exist. With create false it must not create one, and must return an
	// error that wraps fs.ErrNotExist when there is none at path. RunWith
	// closes every store it opens. The default opens a SQLite file.
	OpenStore func(path string, create bool) (storage.Store, error)

	// Getenv looks up SHAREPANEL_DB and SHAREPANEL_API_KEY. The default is
	// os.Getenv.
	Getenv func(key string) string

	// Dir is the directory that relative --db and --plans paths are
	// resolved against. The default, empty, leaves them relative to the
	// process's working directory.
	Dir string
}

// openSQLite is the default Options.OpenStore.
func openSQLite(path string, create bool) (storage.Store, error) {
	if !create {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	return sqlite.Open(path)
}

// env holds what every verb receives from RunWith.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	opts   Options
}

// openStore opens the database that --db names.
func (e *env) openStore(path string, create bool) (storage.Store, error) {
	return e.opts.OpenStore(e.resolve(path), create)
}

// resolve returns path relative to Options.Dir when it is relative.
func (e *env) resolve(path string) string {
	if e.opts.Dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(e.opts.Dir, path)
}

// verb is one command of the CLI: its name as typed ("user create") and
// the function that parses its flags and runs it.
type verb struct {
	name string
	run  func(ctx context.Context, e *env, args []string) error
}

var verbs = []verb{
	{name: "serve", run: runServe},
	{name: "rpc", run: runRPC},
	{name: "mcp", run: runMCP},
	{name: "user create", run: runUserCreate},
	{name: "instance create", run: runInstanceCreate},
	{name: "org add-member", run: runOrgAddMember},
	{name: "invoice create", run: runInvoiceCreate},
	{name: "notify", run: runNotify},
	{name: "credit", run: runCredit},
	{name: "verify", run: runVerify},
}

// Main runs the command as a process: with os.Args, the standard streams,
// and a context that SIGINT and SIGTERM cancel. It returns the exit code.
// It ignores SIGPIPE, so that a write to a closed stdout fails with EPIPE
// instead of killing the process: "sharepanel rpc | head" still writes
// the usage counters and exits with its error on stderr.
func Main() int {
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run runs the sharepanel command with args (without the program name) and
// returns the process exit code. It returns when the verb is done; for
// serve, that is after ctx is cancelled and the server has shut down.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return RunWith(ctx, Options{}, args, stdin, stdout, stderr)
}

// RunWith is Run with the store, environment and directory of opts.
func RunWith(ctx context.Context, opts Options, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if opts.OpenStore == nil {
		opts.OpenStore = openSQLite
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}

	v, rest, ok := findVerb(args)
	if !ok {
		fmt.Fprintf(stderr, "sharepanel: unknown verb %q\n\n%s", unknownVerb(args), usage)
		return exitUsage
	}

	err := v.run(ctx, &env{stdin: stdin, stdout: stdout, stderr: stderr, opts: opts}, rest)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sharepanel %s: %s\n", v.name, oneLine(err.Error()))
		return exitUsage
	default:
		fmt.Fprintf(stderr, "sharepanel %s: %s\n", v.name, oneLine(err.Error()))
		return exitFailed
	}
}

// unknownVerb returns the words of args that name the verb Run could not
// find: two words when the first begins a known verb, one otherwise, and
// never a flag.
func unknownVerb(args []string) string {
	words := args[:1]
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		for _, v := range verbs {
			if first, _, two := strings.Cut(v.name, " "); two && first == args[0] {
				words = args[:2]
				break
			}
		}
	}
	return strings.Join(words, " ")
}

// findVerb matches the first one or two words of args against the verbs
// and returns the verb and the arguments after its name.
func findVerb(args []string) (verb, []string, bool) {
	for _, v := range verbs {
		words := strings.Fields(v.name)
		if len(args) < len(words) {
			continue
		}
		if strings.Join(args[:len(words)], " ") == v.name {
			return v, args[len(words):], true
		}
	}
	return verb{}, nil, false
}

// flagSet is a verb's flag set. Its errors go to Run, which prints them
// as one line; only -h prints the flags.
type flagSet struct {
	*flag.FlagSet
	env  *env
	help func()
}

func newFlagSet(e *env, name, synopsis string) *flagSet {
	fs := flag.NewFlagSet("sharepanel "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every parse error
	help := func() {
		fmt.Fprintf(e.stderr, "Usage: sharepanel %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(e.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return &flagSet{FlagSet: fs, env: e, help: help}
}

// parse parses a verb's flags. It returns flag.ErrHelp after printing the
// help for -h, and a usageError for an unknown flag, a bad value or a
// stray argument.
func (fs *flagSet) parse(args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.help()
		return err
	}
	if err != nil {
		return &usageError{msg: err.Error() + " (run with -h for the flags)"}
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q: every value is given with a flag", fs.Arg(0))
	}
	if db := fs.Lookup("db"); db != nil {
		if err := checkDBPath(db.Value.String()); err != nil {
			return err
		}
	}
	return nil
}

// checkDBPath rejects --db values that name no file, which the SQLite
// store would refuse only after the verb has started.
func checkDBPath(path string) error {
	switch {
	case path == "":
		return usageErrorf("invalid --db: the path is empty")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return usageErrorf("invalid --db %q: give a file path, not :memory: or a file: URI", path)
	}
	return nil
}

// dbFlag registers --db with its default from SHAREPANEL_DB.
func dbFlag(fs *flagSet) *string {
	def := defaultDB
	if v := fs.env.opts.Getenv(dbEnv); v != "" {
		def = v
	}
	return fs.String("db", def, "SQLite database `file` ($"+dbEnv+" sets the default)")
}

// requireFlags returns a usageError naming the first of the flags whose
// value is empty.
func requireFlags(values map[string]string, order ...string) error {
	for _, name := range order {
		if values[name] == "" {
			return usageErrorf("missing required flag --%s", name)
		}
	}
	return nil
}

// engineError turns an Engine error into the CLI's kind: an invalid or
// missing value is a usage error (exit 2), anything else a failed
// operation (exit 1). The message is the Engine's, which is safe to print.
func engineError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	switch de.Code {
	case domain.CodeInvalidParameter, domain.CodeMissingParameter:
		return &usageError{msg: de.Message}
	}
	return errors.New(de.Message)
}

// oneLine joins a multi-line message into one line, so that every error
// the CLI prints is a single line on stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
