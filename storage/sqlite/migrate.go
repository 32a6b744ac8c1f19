package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one schema change: SQL, then an optional Go step for data
// changes that SQL cannot express. Both run in the transaction that
// records the migration's version.
type migration struct {
	sql  string
	step func(ctx context.Context, tx *sql.Tx) error
}

// migrations are the schema changes in the order they apply; migration i
// has version i+1. Append new ones and never edit one that has shipped,
// because databases record only the versions they applied.
var migrations = []migration{
	// 1: the initial schema. AUTOINCREMENT keeps ids from being reused
	// after the row with the highest id is deleted.
	{sql: `
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	username      TEXT    NOT NULL,
	email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	password_hash TEXT    NOT NULL,
	bio           TEXT    NOT NULL,
	pfp           TEXT    NOT NULL,
	plan          TEXT    NOT NULL,
	verified      INTEGER NOT NULL,
	balance       INTEGER NOT NULL,
	first_name    TEXT    NOT NULL,
	last_name     TEXT    NOT NULL,
	phone         TEXT    NOT NULL,
	address       TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	prefix       TEXT    NOT NULL,
	hash         BLOB    NOT NULL UNIQUE,
	can_read     INTEGER NOT NULL,
	can_write    INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	last_used_at INTEGER
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

CREATE TABLE orgs (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	title      TEXT    NOT NULL,
	path       TEXT    NOT NULL UNIQUE,
	admin_id   INTEGER NOT NULL REFERENCES users (id),
	contact    TEXT    NOT NULL,
	created_by INTEGER NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL
);
CREATE INDEX orgs_admin_id ON orgs (admin_id);
CREATE INDEX orgs_created_by ON orgs (created_by);

CREATE TABLE org_members (
	org_id    INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role      TEXT    NOT NULL,
	joined_at INTEGER NOT NULL,
	PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE INDEX org_members_user_id ON org_members (user_id, org_id);

CREATE TABLE instances (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	org_id        INTEGER REFERENCES orgs (id) ON DELETE SET NULL,
	name          TEXT    NOT NULL,
	path          TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	instance_type TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE INDEX instances_user_id_status ON instances (user_id, status);
CREATE INDEX instances_org_id_status ON instances (org_id, status);

CREATE TABLE activities (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	action     TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	client_ip  TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX activities_user_id_id ON activities (user_id, id);

CREATE TABLE api_usage (
	key_id  INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL,
	day     TEXT    NOT NULL,
	count   INTEGER NOT NULL,
	PRIMARY KEY (key_id, day)
) WITHOUT ROWID;
CREATE INDEX api_usage_user_id_day ON api_usage (user_id, day);

CREATE TABLE idempotency (
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	key          TEXT    NOT NULL,
	request_hash BLOB    NOT NULL,
	status       INTEGER NOT NULL,
	body         BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_created_at ON idempotency (created_at);
`},

	// 2: per-user daily totals that outlive the keys they were counted on,
	// so deleting a key cannot lower a user's count against the daily
	// limit.
	{sql: `
CREATE TABLE user_usage (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	day     TEXT    NOT NULL,
	count   INTEGER NOT NULL,
	PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

INSERT INTO user_usage (user_id, day, count)
SELECT user_id, day, sum(count) FROM api_usage GROUP BY user_id, day;
`},

	// 3: billing, notifications and the activity hash chain. Each index
	// serves a list, filter or scan of one user's rows, in id order, so
	// the lists need no sort. Existing balances get an opening
	// transaction, and the Go step chains the existing activities.
	{sql: `
ALTER TABLE activities ADD COLUMN prev_hash BLOB NOT NULL DEFAULT x'';
ALTER TABLE activities ADD COLUMN hash      BLOB NOT NULL DEFAULT x'';

CREATE TABLE transactions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	type          TEXT    NOT NULL,
	amount        INTEGER NOT NULL,
	balance_after INTEGER NOT NULL,
	description   TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	reference     TEXT
);
CREATE INDEX transactions_user_id_id ON transactions (user_id, id);
-- A reference is unique among its user's transactions. A transaction
-- without one stores NULL, which the index leaves out.
CREATE UNIQUE INDEX transactions_user_id_reference ON transactions (user_id, reference) WHERE reference IS NOT NULL;
-- Covers the monthly sums, which read only these columns.
CREATE INDEX transactions_user_id_created_at ON transactions (user_id, created_at, amount);

-- A balance set before transactions existed becomes an opening
-- transaction without a reference, so every balance is the sum of its
-- user's transactions.
INSERT INTO transactions (user_id, type, amount, balance_after, description, created_at)
SELECT id, CASE WHEN balance > 0 THEN 'credit' ELSE 'debit' END, balance, balance, 'Opening balance', created_at
FROM users WHERE balance <> 0 ORDER BY id;

CREATE TABLE invoices (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	status      TEXT    NOT NULL,
	description TEXT    NOT NULL,
	total       INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	due_at      INTEGER NOT NULL
);
CREATE INDEX invoices_user_id_id ON invoices (user_id, id);
CREATE INDEX invoices_user_id_status_id ON invoices (user_id, status, id);

CREATE TABLE invoice_items (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	invoice_id  INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
	description TEXT    NOT NULL,
	quantity    INTEGER NOT NULL,
	unit_price  INTEGER NOT NULL,
	amount      INTEGER NOT NULL
);
CREATE INDEX invoice_items_invoice_id_id ON invoice_items (invoice_id, id);

CREATE TABLE purchases (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	transaction_id INTEGER NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
	description    TEXT    NOT NULL,
	amount         INTEGER NOT NULL,
	created_at     INTEGER NOT NULL
);
CREATE INDEX purchases_user_id_id ON purchases (user_id, id);
CREATE INDEX purchases_transaction_id ON purchases (transaction_id);

CREATE TABLE notifications (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title      TEXT    NOT NULL,
	message    TEXT    NOT NULL,
	read       INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	read_at    INTEGER
);
CREATE INDEX notifications_user_id_id ON notifications (user_id, id);
CREATE INDEX notifications_user_id_read_id ON notifications (user_id, read, id);
`, step: chainActivities},
}

// migrate applies the migrations that the database has not recorded yet,
// all in one transaction. The writer pool begins it with BEGIN IMMEDIATE,
// so the version is read under the write lock: when two processes open a
// new file at once, the second one waits, then finds every version
// recorded and applies nothing.
func migrate(ctx context.Context, db *sql.DB) error {
	return applyMigrations(ctx, db, migrations)
}

// applyMigrations brings the database to version len(list) by applying
// the migrations of list that it has not recorded yet. Tests pass a
// prefix of migrations to create a database of an older version.
func applyMigrations(ctx context.Context, db *sql.DB, list []migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()

	const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at TEXT    NOT NULL
)`
	if _, err := tx.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	var current int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(list) {
		return fmt.Errorf("database schema version %d is newer than this program's %d: upgrade the program", current, len(list))
	}

	for i := current; i < len(list); i++ {
		version := i + 1
		if _, err := tx.ExecContext(ctx, list[i].sql); err != nil {
			return fmt.Errorf("apply migration %d: %w", version, err)
		}
		if step := list[i].step; step != nil {
			if err := step(ctx, tx); err != nil {
				return fmt.Errorf("apply migration %d: %w", version, err)
			}
		}
		// The record is metadata for operators, so it uses the wall clock.
		appliedAt := time.Now().UTC().Format(time.RFC3339)
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, appliedAt); err != nil {
			return fmt.Errorf("record migration %d: %w", version, err)
		}
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}
