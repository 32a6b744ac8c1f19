package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/jsonrpc/mcpapi"
)

// apiKeyEnv names the environment variable with the mcp verb's API key.
const apiKeyEnv = "SHAREPANEL_API_KEY"

// runMCP serves the API as MCP tools on stdin and stdout until stdin ends
// and every request read has its reply, or until ctx is cancelled.
// Every tool call uses the key in $SHAREPANEL_API_KEY, which must belong
// to an account of the database and not have expired. Logs go to stderr.
func runMCP(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "mcp", "[--db FILE] [--plans FILE]")
	db := dbFlag(fs)
	plansFile := fs.String("plans", "", "JSON `file` with the plan catalog (default: the built-in plans)")
	if err := fs.parse(args); err != nil {
		return err
	}
	plans, err := loadPlans(e, *plansFile)
	if err != nil {
		return err
	}
	key := e.opts.Getenv(apiKeyEnv)
	switch {
	case key == "":
		return usageErrorf("$%s is not set: set it to an API key, such as one that mode=auth returned", apiKeyEnv)
	case !domain.ValidAPIKeyFormat(key):
		return usageErrorf("$%s is not a valid API key: check that it was copied whole", apiKeyEnv)
	}

	logger := slog.New(slog.NewJSONHandler(e.stderr, nil))
	engine, _, closeEngine, err := openEngine(e, *db, plans, logger)
	if err != nil {
		return err
	}
	defer closeEngine()

	// Every tool call would fail with a key that no account has, or one
	// that has expired, so such a key is a usage error like a malformed one.
	if err := engine.CheckAPIKey(ctx, key); err != nil {
		if domain.ErrorCode(err) == domain.CodeInvalidAPIKey {
			return usageErrorf("$%s is not a key of the database %s, or it has expired: get a new key with mode=auth", apiKeyEnv, *db)
		}
		return fmt.Errorf("check $%s: %w", apiKeyEnv, err)
	}

	server := mcpapi.New(engine, mcpapi.Options{APIKey: key, Logger: logger})
	logger.Info("server started", "transport", "mcp", "db", *db)
	// mcpapi.Transport reports the end of stdin only once every request
	// read has its reply, so a client may close stdin right after writing
	// its requests.
	err = server.Run(ctx, &mcpapi.Transport{Reader: e.stdin, Writer: e.stdout})
	reason := "end of input"
	switch {
	case ctx.Err() != nil:
		reason = context.Cause(ctx).Error()
	case err != nil:
		reason = err.Error()
	}
	logger.Info("server stopped", "transport", "mcp", "reason", reason)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, mcp.ErrConnectionClosed) && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
