package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/transport/httpapi"
)

// Server limits. The read and write timeouts leave room for the largest
// plan payload (50 MB) on a slow link. The header limits reject slow or
// oversized headers long before that.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10

	// shutdownTimeout bounds how long serve waits for requests in flight
	// after its context is cancelled.
	shutdownTimeout = 10 * time.Second

	// healthTimeout bounds the database check of GET /healthz.
	healthTimeout = 2 * time.Second
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "[--addr HOST:PORT] [--db FILE] [--demo] [--plans FILE]")
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on; port 0 picks a free port")
	db := dbFlag(fs)
	demo := fs.Bool("demo", false, "seed a demo account into an empty database and print its credentials")
	plansFile := fs.String("plans", "", "JSON `file` with the plan catalog (default: the built-in plans)")
	if err := fs.parse(args); err != nil {
		return err
	}

	var plans domain.Catalog
	if *plansFile != "" {
		var err error
		if plans, err = readPlans(e.resolve(*plansFile)); err != nil {
			return usageErrorf("invalid --plans: %v", err)
		}
	}

	if err := checkListenAddr(*addr); err != nil {
		return err
	}

	logger := slog.New(slog.NewJSONHandler(e.stderr, nil))

	// Listen first, so a port that is taken fails before the database is
	// created or the demo account seeded.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	defer ln.Close()

	store, err := e.openStore(*db, true)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("close database failed", "db", *db, "err", err)
		}
	}()

	engine, err := sharepanel.New(store, sharepanel.Config{Plans: plans, Logger: logger})
	if err != nil {
		return err
	}
	// Close writes the usage counters that the last requests added, so the
	// daily limits hold across a restart.
	defer func() {
		if err := engine.Close(); err != nil {
			logger.Error("flush usage counters failed", "err", err)
		}
	}()

	if *demo {
		if err := seedDemo(ctx, e, store, engine); err != nil {
			return fmt.Errorf("seed demo account: %w", err)
		}
	}

	// Two routes need no ServeMux, whose redirects for paths like "//"
	// would respond in HTML instead of the API's envelope.
	api := httpapi.New(engine, httpapi.Options{Logger: logger})
	health := healthHandler(store, logger)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				health.ServeHTTP(w, r)
				return
			}
			api.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	url := "http://" + ln.Addr().String()
	logger.Info("server started", "addr", ln.Addr().String(), "db", *db)
	fmt.Fprintf(e.stdout, "listening on %s\n", url)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	logger.Info("server stopping", "reason", context.Cause(ctx).Error())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("graceful shutdown failed; closing open connections", "err", err)
		srv.Close()
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server failed during shutdown", "err", err)
	}
	logger.Info("server stopped", "addr", ln.Addr().String())
	return nil
}

// checkListenAddr rejects an --addr that is not HOST:PORT with a port from
// 0 to 65535, or whose host is made of digits and dots without being an
// IPv4 address, as a bad value rather than a failed operation. Other host
// names are left to the resolver.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf("invalid --addr %q: want HOST:PORT, such as 127.0.0.1:8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usageErrorf("invalid --addr %q: the port must be a number from 0 to 65535", addr)
	}
	if host != "" && strings.Trim(host, "0123456789.") == "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return usageErrorf("invalid --addr %q: %s is not an IPv4 address", addr, host)
		}
	}
	return nil
}

// readPlans reads a plan catalog file for --plans.
func readPlans(path string) (domain.Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return domain.ReadCatalog(f)
}

// healthHandler serves GET /healthz in the API's envelope: 200 with
// data {"database":"ok"} when a read transaction on the database succeeds,
// and 503 otherwise. Other methods get 405. It checks that reads succeed,
// not that the database accepts writes.
func healthHandler(store storage.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env := sharepanel.Envelope{
			Status:    "success",
			Message:   "Service is healthy",
			Timestamp: time.Now().UTC().Format(sharepanel.TimestampFormat),
			RequestID: newHealthRequestID(),
		}
		status := http.StatusOK

		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			status = http.StatusMethodNotAllowed
			env.Status, env.Message, env.Code = "error", "Method not allowed. Use GET or HEAD", domain.CodeMethodNotAllowed
		} else {
			ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
			defer cancel()
			err := storage.WithTx(ctx, store, false, func(tx storage.Tx) error {
				_, err := tx.CountUsers(ctx)
				return err
			})
			if err != nil {
				logger.Error("health check failed", "request_id", env.RequestID, "err", err)
				status = http.StatusServiceUnavailable
				env.Status, env.Message, env.Code = "error", "Database unavailable", domain.CodeInternal
			} else {
				env.Data = map[string]string{"database": "ok"}
			}
		}

		body, err := json.Marshal(env)
		if err != nil {
			panic("BUG: encoding the health envelope failed: " + err.Error())
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Request-Id", env.RequestID)
		w.WriteHeader(status)
		w.Write(append(body, '\n'))
	})
}

// newHealthRequestID returns 16 random hex digits, the form of the API's
// own request ids.
func newHealthRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
