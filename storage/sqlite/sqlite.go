// Package sqlite implements storage.Store on one SQLite database file with
// the cgo driver github.com/mattn/go-sqlite3.
//
// # Concurrency
//
// A Store keeps two connection pools on the same file. The writer pool has
// a single connection whose transactions start with BEGIN IMMEDIATE, so
// writable transactions run one at a time and take the database's write
// lock up front instead of failing with SQLITE_BUSY halfway through. The
// reader pool opens the file read-only (mode=ro) with several connections
// and serves read-only transactions. In WAL mode a reader reads the
// snapshot that was committed when its first statement ran, and readers
// and the writer do not block each other.
//
// Several processes may open the same file at once, for example the CLI's
// admin commands while a server runs. SQLite's file locks serialize their
// writers, and a writer that finds the lock taken retries for up to the
// busy timeout (5 seconds) before it returns an error.
//
// A goroutine that holds a writable transaction must not begin another
// writable transaction on the same Store, because the second Begin waits
// for the only writer connection until its context ends.
//
// # Pragmas
//
// Every connection sets busy_timeout=5000, foreign_keys=ON and
// synchronous=NORMAL. The writer sets journal_mode=WAL, which is stored in
// the file. With synchronous=NORMAL in WAL mode a commit survives an
// application crash, and a power loss can roll back only the last commits
// before it, never corrupt the file.
//
// # Encoding
//
// Times are INTEGER microseconds since the Unix epoch, read back as UTC;
// ExpiresAt and LastUsedAt are NULL when unset. Money is INTEGER cents and
// booleans are INTEGER 0 or 1. An Instance's OrgID of 0 is stored as NULL.
// An activity's PrevHash and Hash are BLOBs, empty when unset and read
// back as nil.
//
// # Search
//
// The searches match with a Go function registered on every connection
// (see containsFold), because SQLite's LIKE folds only ASCII letters and
// treats "%" and "_" as wildcards. No index can serve such a match, so a
// search reads all of one user's rows of the table it searches.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// driverName is the database/sql driver that Open uses: go-sqlite3 with
// the package's SQL functions registered on every connection.
const driverName = "sharepanel_sqlite3"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: registerFunctions})
}

// registerFunctions adds the package's Go functions to a new connection.
func registerFunctions(conn *sqlite3.SQLiteConn) error {
	// pure: the result depends only on the arguments, so SQLite may
	// evaluate it once for constant arguments.
	const pure = true
	if err := conn.RegisterFunc(containsFunc, containsFold, pure); err != nil {
		return fmt.Errorf("register sql function %s: %w", containsFunc, err)
	}
	return nil
}

// busyTimeout is how long a connection retries when another connection or
// process holds the lock it needs.
const busyTimeout = 5 * time.Second

// minReaders is the smallest reader pool; larger machines get one reader
// connection per GOMAXPROCS.
const minReaders = 4

// Store is a storage.Store on one SQLite file. It is safe for concurrent
// use.
type Store struct {
	writer *pool
	reader *pool
}

var _ storage.Store = (*Store)(nil)

// pool is one *sql.DB with every query of the package prepared on it.
type pool struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

// Open opens the SQLite database at path, creating the file if it does not
// exist, and applies the schema migrations it does not have yet. Another
// Store, in this process or another one, may have the same file open.
//
// Path must name a file: ":memory:" and "file:" URIs are rejected, because
// the two pools would see two different databases. Use the memory package
// for a database without a file.
func Open(path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite %q: path must be a file name, not empty, :memory: or a file: URI", path)
	}
	ctx := context.Background()

	writerDB, err := sql.Open(driverName, dsn(path, "rwc", "immediate")+"&_journal_mode=WAL")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One connection that never expires: writes serialize on it, and the
	// statements prepared on it stay valid.
	writerDB.SetMaxOpenConns(1)
	writerDB.SetMaxIdleConns(1)
	writerDB.SetConnMaxLifetime(0)
	writerDB.SetConnMaxIdleTime(0)

	err = retryBusy(func() error {
		if err := checkPragmas(ctx, writerDB); err != nil {
			return err
		}
		return migrate(ctx, writerDB)
	})
	if err != nil {
		writerDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	// The reader pool opens after the migrations, so the file exists and is
	// already in WAL mode when a read-only connection first opens it.
	readerDB, err := sql.Open(driverName, dsn(path, "ro", "deferred"))
	if err != nil {
		writerDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	readers := max(minReaders, runtime.GOMAXPROCS(0))
	readerDB.SetMaxOpenConns(readers)
	readerDB.SetMaxIdleConns(readers)
	readerDB.SetConnMaxLifetime(0)
	readerDB.SetConnMaxIdleTime(0)

	s := &Store{writer: &pool{db: writerDB}, reader: &pool{db: readerDB}}
	if err := s.writer.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: prepare writer statements: %w", path, err)
	}
	if err := s.reader.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: prepare reader statements: %w", path, err)
	}
	return s, nil
}

// retryBusy runs setup again while it fails with SQLITE_BUSY or
// SQLITE_LOCKED, for at most about 6 seconds. When several processes open
// a new file at once, one of them switches it to WAL, and the others get
// SQLITE_BUSY at once, without SQLite calling the busy handler.
func retryBusy(setup func() error) error {
	const attempts = 50
	for attempt := 1; ; attempt++ {
		err := setup()
		var se sqlite3.Error
		busy := errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
		if !busy || attempt == attempts {
			return err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

// dsn builds the driver's data source name: a file: URI with SQLite's
// access mode and the driver's per-connection pragmas.
func dsn(path, mode, txlock string) string {
	// Escape the characters that end or change the path part of a URI.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return fmt.Sprintf("file:%s?mode=%s&_txlock=%s&_busy_timeout=%d&_foreign_keys=1&_synchronous=NORMAL",
		escaped, mode, txlock, busyTimeout.Milliseconds())
}

// checkPragmas verifies that the driver applied the pragmas that the
// package's correctness depends on.
func checkPragmas(ctx context.Context, db *sql.DB) error {
	var journal string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(journal, "wal") {
		return fmt.Errorf("journal_mode is %q, expected wal", journal)
	}

	var foreignKeys int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&foreignKeys); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if foreignKeys != 1 {
		return errors.New("foreign_keys is off, expected on")
	}
	return nil
}

// prepare prepares every query of the package on the pool. It runs before
// the first transaction, because preparing on the writer pool while a
// transaction holds its only connection would wait forever.
func (p *pool) prepare(ctx context.Context) error {
	p.stmts = make(map[string]*sql.Stmt, len(allQueries))
	for _, q := range allQueries {
		if _, ok := p.stmts[q]; ok {
			continue
		}
		stmt, err := p.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		p.stmts[q] = stmt
	}
	return nil
}

// close closes the pool's statements and connections.
func (p *pool) close() error {
	if p == nil || p.db == nil {
		return nil
	}
	var errs []error
	for _, stmt := range p.stmts {
		errs = append(errs, stmt.Close())
	}
	errs = append(errs, p.db.Close())
	return errors.Join(errs...)
}

// Close closes both pools. Open transactions must be ended first.
func (s *Store) Close() error {
	// Readers close first, so the writer's connection is the last one and
	// checkpoints the WAL into the main file.
	if err := errors.Join(s.reader.close(), s.writer.close()); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// Begin starts a transaction: on the writer connection with BEGIN
// IMMEDIATE when writable, otherwise on a read-only reader connection. A
// writable Begin waits while another writable transaction of this Store is
// open, until ctx ends.
func (s *Store) Begin(ctx context.Context, writable bool) (storage.Tx, error) {
	p, opts := s.reader, &sql.TxOptions{ReadOnly: true}
	if writable {
		p, opts = s.writer, nil
	}
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin sqlite transaction: %w", mapError(err))
	}
	return &Tx{ctx: ctx, tx: tx, stmts: p.stmts}, nil
}

// Tx is a storage.Tx on one connection of a Store.
type Tx struct {
	ctx   context.Context // of Begin; database/sql rolls back when it is done
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	ended bool
}

var _ storage.Tx = (*Tx)(nil)

// Commit commits the transaction. It returns an error if the transaction
// has already ended, wrapping the context's error when database/sql ended
// it because the context of Begin is done.
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		if ctxErr := t.ctx.Err(); ctxErr != nil && errors.Is(err, sql.ErrTxDone) {
			err = ctxErr
		}
		t.ended = true
		return fmt.Errorf("commit sqlite transaction: %w", mapError(err))
	}
	t.ended = true
	return nil
}

// Rollback discards the transaction's writes. It is a no-op once the
// transaction has ended, so callers can defer it.
func (t *Tx) Rollback() error {
	if t.ended {
		return nil
	}
	t.ended = true
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback sqlite transaction: %w", mapError(err))
	}
	return nil
}

// stmt returns the transaction's handle on a statement that Open prepared.
// The handle is closed when the transaction ends.
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	prepared, ok := t.stmts[query]
	if !ok {
		panic("BUG: sqlite query was not prepared at open: " + query)
	}
	return t.tx.StmtContext(ctx, prepared)
}

// exec runs a write statement and returns the number of rows it changed.
func (t *Tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.stmt(ctx, query).ExecContext(ctx, args...)
	if err != nil {
		return 0, mapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, nil
}

// insert runs an INSERT and returns the id of the new row.
func (t *Tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.stmt(ctx, query).ExecContext(ctx, args...)
	if err != nil {
		return 0, mapError(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return id, nil
}

// pageTotal returns how many rows match a list query, given the page and
// the number of rows it returned. A page that is not full ends the list,
// so unless it is empty past the end, the total follows without running
// count, which saves a query on most list requests.
func pageTotal(p domain.Page, got int, count func() (int, error)) (int, error) {
	// A page with a negative offset or limit 0 does not show where the
	// list ends.
	if p.Offset < 0 || p.Limit == 0 {
		return count()
	}
	full := p.Limit > 0 && got >= p.Limit
	if !full && (got > 0 || p.Offset == 0) {
		return p.Offset + got, nil
	}
	return count()
}

// count runs a query that returns one integer.
func (t *Tx) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := t.stmt(ctx, query).QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, mapError(err)
	}
	return n, nil
}

// mapError turns the driver's errors into the domain's: no row becomes
// domain.ErrNotFound, a unique or primary key violation domain.ErrConflict,
// and a foreign key violation domain.ErrNotFound, because it means that a
// referenced row (an org, a user) does not exist. The result wraps both
// the domain error and the driver's, so errors.Is finds either. Other
// errors come back unchanged.
//
// NOTE: a delete of a row that others still reference would also fail with
// a foreign key violation and read as ErrNotFound. No delete can do that
// yet (users are never deleted); one that can must map it differently.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return fmt.Errorf("%w: %w", domain.ErrConflict, err)
		case sqlite3.ErrConstraintForeignKey:
			return fmt.Errorf("%w: %w", domain.ErrNotFound, err)
		}
	}
	return err
}

// micros encodes t as microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros encodes an optional time; nil becomes NULL.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros decodes microseconds since the Unix epoch as a UTC time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromNullMicros decodes an optional time; NULL becomes nil.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullID encodes an optional reference; 0 becomes NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// blob returns b, or an empty slice for nil, because the driver binds a nil
// slice as NULL and the BLOB columns are NOT NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
