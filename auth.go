package sharepanel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// authCache remembers verified keys by hash, with the owner's plan, for a
// short time, so most requests need no storage read to authenticate.
type authCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	entries map[[32]byte]authEntry

	// generation counts deletions. A lookup that started before a deletion
	// may have read the deleted key, so put skips it.
	generation uint64
	// sweepAt is the size at which put next drops expired entries.
	sweepAt int
}

type authEntry struct {
	key      domain.APIKey
	plan     string
	loadedAt time.Time
}

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, entries: map[[32]byte]authEntry{}, sweepAt: minAuthSweep}
}

func (a *authCache) get(hash [32]byte, now time.Time) (authEntry, bool) {
	if a.ttl < 0 {
		return authEntry{}, false
	}
	a.mu.RLock()
	ent, ok := a.entries[hash]
	a.mu.RUnlock()
	if !ok || now.Sub(ent.loadedAt) >= a.ttl || now.Before(ent.loadedAt) {
		return authEntry{}, false
	}
	return ent, true
}

// minAuthSweep is the smallest cache size at which put drops expired
// entries.
const minAuthSweep = 1024

// currentGeneration returns the deletion count, to pass to put after a
// storage lookup.
func (a *authCache) currentGeneration() uint64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.generation
}

// put caches ent unless a key was deleted since generation was read.
func (a *authCache) put(hash [32]byte, ent authEntry, generation uint64) {
	if a.ttl < 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if generation != a.generation {
		return
	}

	// Expired entries are dropped each time the map doubles, which bounds
	// it by twice the number of keys used within one TTL at little cost
	// per put.
	if len(a.entries) >= a.sweepAt {
		for h, old := range a.entries {
			if ent.loadedAt.Sub(old.loadedAt) >= a.ttl {
				delete(a.entries, h)
			}
		}
		a.sweepAt = max(minAuthSweep, 2*len(a.entries))
	}
	a.entries[hash] = ent
}

// dropKey removes a key from the cache by id and makes lookups that are
// under way skip caching their result.
func (a *authCache) dropKey(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.generation++
	for h, ent := range a.entries {
		if ent.key.ID == id {
			delete(a.entries, h)
		}
	}
}

var errInvalidKey = &domain.Error{Code: domain.CodeInvalidAPIKey, Message: domain.MsgInvalidAPIKey}

// authenticate verifies an API key and returns it with its owner's plan.
// A key of the wrong format or checksum is rejected without a storage
// lookup.
func (e *Engine) authenticate(ctx context.Context, raw string, now time.Time) (*domain.APIKey, domain.Plan, error) {
	if !domain.ValidAPIKeyFormat(raw) {
		return nil, domain.Plan{}, errInvalidKey
	}
	var hash [32]byte
	copy(hash[:], domain.HashAPIKey(raw))

	ent, ok := e.auth.get(hash, now)
	if !ok {
		generation := e.auth.currentGeneration()
		err := storage.WithTx(ctx, e.store, false, func(tx storage.Tx) error {
			key, err := tx.FindAPIKeyByHash(ctx, hash[:])
			if err != nil {
				return err
			}
			user, err := tx.FindUserByID(ctx, key.UserID)
			if err != nil {
				return err
			}
			ent = authEntry{key: *key, plan: user.Plan, loadedAt: now}
			return nil
		})
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.Plan{}, errInvalidKey
		}
		if err != nil {
			return nil, domain.Plan{}, fmt.Errorf("look up api key: %w", err)
		}
		e.auth.put(hash, ent, generation)
	}
	if ent.key.Expired(now) {
		return nil, domain.Plan{}, errInvalidKey
	}
	key := ent.key
	return &key, e.planOf(ent.plan), nil
}

// planOf returns the named plan, or the first plan of the catalog when the
// name is not in it (a catalog replaced without the user's plan).
func (e *Engine) planOf(name string) domain.Plan {
	if p, ok := e.cfg.Plans.Find(name); ok {
		return p
	}
	return e.cfg.Plans[0]
}

// dummyHash returns a bcrypt hash at the configured cost that matches no
// password, computed once.
func (e *Engine) dummyHash() string {
	e.dummyOnce.Do(func() {
		h, err := domain.HashPassword("no password matches this hash", e.cfg.BcryptCost)
		if err != nil {
			panic("BUG: bcrypt failed on a fixed input: " + err.Error())
		}
		e.dummy = h
	})
	return e.dummy
}
