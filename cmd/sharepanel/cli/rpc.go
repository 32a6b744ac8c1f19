package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/transport/jsonrpc"
)

// runRPC serves JSON-RPC on stdin and stdout until stdin ends or ctx is
// cancelled. Logs go to stderr, so stdout carries only replies.
func runRPC(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rpc", "[--db FILE] [--demo] [--plans FILE]")
	db := dbFlag(fs)
	demo := fs.Bool("demo", false, "seed a demo account into an empty database and print its credentials on stderr")
	plansFile := fs.String("plans", "", "JSON `file` with the plan catalog (default: the built-in plans)")
	if err := fs.parse(args); err != nil {
		return err
	}
	plans, err := loadPlans(e, *plansFile)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewJSONHandler(e.stderr, nil))
	engine, store, closeEngine, err := openEngine(e, *db, plans, logger)
	if err != nil {
		return err
	}
	defer closeEngine()
	if *demo {
		// stdout carries only replies, so the credentials go to stderr.
		if err := seedDemo(ctx, &env{stdin: e.stdin, stdout: e.stderr, stderr: e.stderr}, store, engine); err != nil {
			return fmt.Errorf("seed demo account: %w", err)
		}
	}

	server := jsonrpc.New(engine, jsonrpc.Options{Logger: logger})
	logger.Info("server started", "transport", "jsonrpc", "db", *db)
	err = server.Serve(ctx, e.stdin, e.stdout)
	reason := "end of input"
	switch {
	case err != nil:
		reason = err.Error()
	case ctx.Err() != nil:
		reason = context.Cause(ctx).Error()
	}
	logger.Info("server stopped", "transport", "jsonrpc", "reason", reason)
	return err
}

// openEngine opens the database at path, creating it if it does not
// exist, and an Engine on it. The returned function closes both, writing
// the Engine's usage counters first, and logs what fails.
func openEngine(e *env, path string, plans domain.Catalog, logger *slog.Logger) (*sharepanel.Engine, storage.Store, func(), error) {
	store, err := e.openStore(path, true)
	if err != nil {
		return nil, nil, nil, err
	}
	engine, err := sharepanel.New(store, sharepanel.Config{Plans: plans, Logger: logger})
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	closeAll := func() {
		if err := engine.Close(); err != nil {
			logger.Error("flush usage counters failed", "err", err)
		}
		if err := store.Close(); err != nil {
			logger.Error("close database failed", "db", path, "err", err)
		}
	}
	return engine, store, closeAll, nil
}
