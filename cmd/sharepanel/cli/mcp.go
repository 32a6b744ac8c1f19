package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/jsonrpc/mcpapi"
)

// apiKeyEnv names the environment variable with the mcp verb's API key.
const apiKeyEnv = "SHAREPANEL_API_KEY"

// runMCP serves the API as MCP tools on stdin and stdout until the client
// disconnects or ctx is cancelled. Every tool call uses the key in
// $SHAREPANEL_API_KEY. Logs go to stderr.
func runMCP(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "mcp", "[--db FILE] [--plans FILE]")
	db := dbFlag(fs)
	plansFile := fs.String("plans", "", "JSON `file` with the plan catalog (default: the built-in plans)")
	if err := fs.parse(args); err != nil {
		return err
	}
	plans, err := loadPlans(*plansFile)
	if err != nil {
		return err
	}
	key := os.Getenv(apiKeyEnv)
	switch {
	case key == "":
		return usageErrorf("$%s is not set: set it to an API key, such as one that mode=auth returned", apiKeyEnv)
	case !domain.ValidAPIKeyFormat(key):
		return usageErrorf("$%s is not a valid API key: check that it was copied whole", apiKeyEnv)
	}

	logger := slog.New(slog.NewJSONHandler(e.stderr, nil))
	engine, _, closeEngine, err := openEngine(*db, plans, logger)
	if err != nil {
		return err
	}
	defer closeEngine()

	server := mcpapi.New(engine, mcpapi.Options{APIKey: key, Logger: logger})
	transport := &mcp.IOTransport{Reader: io.NopCloser(e.stdin), Writer: nopWriteCloser{e.stdout}}
	logger.Info("server started", "transport", "mcp", "db", *db)
	err = server.Run(ctx, transport)
	logger.Info("server stopped", "transport", "mcp")
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, mcp.ErrConnectionClosed) && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// nopWriteCloser leaves stdout open when the MCP connection closes.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
