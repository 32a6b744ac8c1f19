// Package sharepanel is the domain core of SharePanel, a hosting control
// panel's user API. An Engine implements every mode and action of the API
// against a storage.Store and depends on no HTTP, SQL or WebAssembly code:
// transports (such as transport/httpapi) turn their requests into a
// Request, call Engine.Handle, and write the Response's Envelope.
//
// Embedding applications also use the Engine's typed methods (CreateUser,
// CreateInstance, AddOrgMember, IssueAPIKey) to manage data that the public
// API does not create.
//
// # Concurrency
//
// An Engine is safe for concurrent use. Rate-limit and usage counters live
// in memory and are written to storage in batches every
// Config.UsageFlushInterval and on Close, so counting a request adds no
// storage write to it. The limits therefore hold per
// Engine: several Engines on one store (several processes on one SQLite
// file) each enforce them on their own, and an Engine that stops without
// Close loses the counts of its last flush interval. Idempotency-Key
// records, by contrast, are read and written in the action's transaction,
// so they hold across Engines.
package sharepanel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// Config holds the Engine's settings. Every zero value selects the default
// that its field documents.
type Config struct {
	// Plans replaces the plan catalog. Default: domain.DefaultCatalog().
	Plans domain.Catalog

	// Logger receives the Engine's own log lines (usage flush failures).
	// Default: a logger that discards everything.
	Logger *slog.Logger

	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// BcryptCost is the cost of password hashes, from 4 to 31. Default:
	// bcrypt's default cost (10). Tests may lower it to 4.
	BcryptCost int

	// UsageFlushInterval is how often in-memory usage counters are written
	// to storage. Default: 5 seconds. A negative value disables the
	// background flush, so counters are written only by Flush and Close.
	// The hourly cleanups that Flush runs (expired Idempotency-Key records,
	// old login throttle windows) then run only when Flush is called.
	UsageFlushInterval time.Duration

	// AuthCacheTTL is how long a verified API key is trusted without a
	// storage lookup. Keys deleted through this Engine are dropped from the
	// cache at once. A key deleted by another process sharing the store
	// stays usable here for up to this long. Default: 2 seconds. A negative
	// value disables the cache.
	AuthCacheTTL time.Duration

	// LoginFailuresPerEmail is how many failed logins one email may have in
	// LoginWindow before further logins for it get 429. Default: 5.
	LoginFailuresPerEmail int

	// LoginFailuresPerAddress is the same limit per client address.
	// Default: 20.
	LoginFailuresPerAddress int

	// LoginWindow is the window of the failed-login limits. Default: 15
	// minutes.
	LoginWindow time.Duration
}

func (c *Config) setDefaults() error {
	if c.Plans == nil {
		c.Plans = domain.DefaultCatalog()
	}
	// The Engine keeps its own copy, so the caller cannot change the
	// catalog after it was validated.
	c.Plans = slices.Clone(c.Plans)
	if err := c.Plans.Validate(); err != nil {
		return err
	}

	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.UsageFlushInterval == 0 {
		c.UsageFlushInterval = 5 * time.Second
	}
	if c.AuthCacheTTL == 0 {
		c.AuthCacheTTL = 2 * time.Second
	}
	if c.LoginFailuresPerEmail == 0 {
		c.LoginFailuresPerEmail = 5
	}
	if c.LoginFailuresPerAddress == 0 {
		c.LoginFailuresPerAddress = 20
	}
	if c.LoginWindow == 0 {
		c.LoginWindow = 15 * time.Minute
	}

	if c.BcryptCost != 0 && (c.BcryptCost < domain.MinBcryptCost || c.BcryptCost > domain.MaxBcryptCost) {
		return fmt.Errorf("BcryptCost %d is outside %d to %d", c.BcryptCost, domain.MinBcryptCost, domain.MaxBcryptCost)
	}
	if c.LoginFailuresPerEmail < 0 || c.LoginFailuresPerAddress < 0 || c.LoginWindow < 0 {
		return errors.New("LoginFailuresPerEmail, LoginFailuresPerAddress and LoginWindow must not be negative")
	}
	return nil
}

// Engine runs the API's actions against a store. Create it with New and
// end it with Close.
type Engine struct {
	store   storage.Store
	cfg     Config
	log     *slog.Logger
	actions map[string]map[string]*ActionSpec

	usage    *usageCounter
	logins   *loginThrottle
	auth     *authCache
	inflight inflightKeys

	dummyOnce sync.Once
	dummy     string

	sweepMu   sync.Mutex
	lastSweep time.Time

	stop     chan struct{}
	done     chan struct{}
	closeErr error
	closing  sync.Once
}

// New returns an Engine over store. It validates cfg once and starts the
// background usage flush unless cfg disables it. The Engine does not own
// the store: closing the Engine leaves the store open.
func New(store storage.Store, cfg Config) (*Engine, error) {
	if store == nil {
		return nil, errors.New("sharepanel: nil store")
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("sharepanel: invalid config: %w", err)
	}
	e := &Engine{
		store:  store,
		cfg:    cfg,
		log:    cfg.Logger,
		usage:  newUsageCounter(),
		logins: newLoginThrottle(cfg.LoginFailuresPerEmail, cfg.LoginFailuresPerAddress, cfg.LoginWindow),
		auth:   newAuthCache(cfg.AuthCacheTTL),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	e.actions = buildRegistry()
	e.lastSweep = e.now() // the first cleanup runs an hour after start
	if cfg.UsageFlushInterval > 0 {
		go e.flushLoop(cfg.UsageFlushInterval)
	} else {
		close(e.done)
	}
	return e, nil
}

// Plans returns a copy of the plan catalog in use.
func (e *Engine) Plans() domain.Catalog { return slices.Clone(e.cfg.Plans) }

// Close stops the background flush and writes the remaining usage counters
// to storage. It is safe to call more than once. Handle still works after
// Close, but the counts of those requests reach storage only through an
// explicit Flush.
func (e *Engine) Close() error {
	e.closing.Do(func() {
		close(e.stop)
		<-e.done
		e.closeErr = e.Flush(context.Background())
	})
	return e.closeErr
}

// Flush writes the in-memory usage counters to storage now. If the write
// fails, the counts are kept and written by a later flush. At most once an
// hour it also deletes expired Idempotency-Key records and old login
// throttle windows.
func (e *Engine) Flush(ctx context.Context) error {
	rows, lastUsed := e.usage.take()
	if len(rows) > 0 || len(lastUsed) > 0 {
		err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
			return tx.AddUsage(ctx, rows, lastUsed)
		})
		if err != nil {
			e.usage.putBack(rows, lastUsed)
			return fmt.Errorf("flush usage counters: %w", err)
		}
	}
	return e.sweep(ctx)
}

// sweep runs the hourly cleanups if an hour has passed since the last.
func (e *Engine) sweep(ctx context.Context) error {
	now := e.now()
	e.sweepMu.Lock()
	if now.Sub(e.lastSweep) < time.Hour {
		e.sweepMu.Unlock()
		return nil
	}
	e.lastSweep = now
	e.sweepMu.Unlock()

	e.logins.sweep(now)
	err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		return tx.DeleteIdempotentBefore(ctx, now.Add(-idempotencyTTL))
	})
	if err != nil {
		return fmt.Errorf("delete expired idempotent responses: %w", err)
	}
	return nil
}

func (e *Engine) flushLoop(every time.Duration) {
	defer close(e.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := e.Flush(ctx); err != nil {
				e.log.Error("usage flush failed", "err", err)
			}
			cancel()
		}
	}
}

// now returns the clock's time in UTC at microsecond precision, the
// precision that storage keeps.
func (e *Engine) now() time.Time {
	return e.cfg.Now().UTC().Truncate(time.Microsecond)
}
