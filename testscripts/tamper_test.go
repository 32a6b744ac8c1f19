package testscripts

import (
	"database/sql"
	"strings"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdTamper changes the script's SQLite file behind the Engine's back, so
// that a script can break a record and check that "sharepanel verify"
// finds it.
//
//	tamper SQL...
//
// Each argument is one SQL statement. They run in order in one
// transaction, which is rolled back unless every statement changes
// exactly one row, so a WHERE clause that matches nothing fails the
// script instead of leaving the database as it was. The file is
// $SHAREPANEL_DB.
func cmdTamper(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: tamper SQL...")
	}
	path := ts.Getenv("SHAREPANEL_DB")
	if path == "" {
		ts.Fatalf("tamper: $SHAREPANEL_DB is not set")
	}

	// In a file: URI, "%", "?" and "#" in the path must be escaped.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+escaped+"?mode=rw&_busy_timeout=5000")
	ts.Check(err)
	defer db.Close()

	tx, err := db.Begin()
	ts.Check(err)
	defer tx.Rollback()
	for _, stmt := range args {
		res, err := tx.Exec(stmt)
		if err != nil {
			ts.Fatalf("tamper: %s: %v", stmt, err)
		}
		n, err := res.RowsAffected()
		ts.Check(err)
		if n != 1 {
			ts.Fatalf("tamper: %s: changed %d rows, expected exactly 1", stmt, n)
		}
	}
	ts.Check(tx.Commit())
}
