package sharepanel

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// usageCounter counts authenticated requests per user (for the rate limits)
// and per key and day (for api_keys usage), in memory. Engine.Flush moves
// the per-key counts to storage in batches.
//
// The limits use fixed windows: the current UTC minute and the current UTC
// day. A user's daily total is the stored total for the day, read once when
// the user is first seen that day, plus what this process counted since.
//
// NOTE: the limits hold per Engine. Several Engines on one store (two
// serve processes on one SQLite file, or several machines on one
// database) each allow the full per-minute rate. Each reads the others'
// daily counts only once a day per user, as stored at that moment. A
// process that is killed without Close loses the counts of its last flush
// interval.
type usageCounter struct {
	mu    sync.Mutex
	users map[int64]*userWindow

	// pending holds counts not yet written to storage, by key id, and
	// userKeys the keys in pending of each user, so a user's counts are
	// found without a walk over every user's.
	pending  map[int64]*keyCounts
	userKeys map[int64]map[int64]struct{}
	lastUsed map[int64]time.Time
}

// keyCounts holds one key's unwritten counts by day.
type keyCounts struct {
	userID int64
	days   map[string]int64
}

type userWindow struct {
	minute      time.Time
	minuteCount int
	day         string
	dayCount    int64 // stored base plus counted since
}

func newUsageCounter() *usageCounter {
	return &usageCounter{
		users:    map[int64]*userWindow{},
		pending:  map[int64]*keyCounts{},
		userKeys: map[int64]map[int64]struct{}{},
		lastUsed: map[int64]time.Time{},
	}
}

// dayOf returns the UTC day of t in the form usage rows use.
func dayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

// countRequest counts a request by key against its user's plan. It returns
// the limit state for the response headers and, when a limit is exhausted,
// a rate_limited error with how long to wait. Rejected requests are not
// counted.
func (e *Engine) countRequest(ctx context.Context, key *domain.APIKey, plan domain.Plan, now time.Time) (*RateLimit, time.Duration, error) {
	u := e.usage
	day := dayOf(now)
	minute := now.Truncate(time.Minute)

	u.mu.Lock()
	w := u.users[key.UserID]
	loaded := w != nil && w.day >= day
	u.mu.Unlock()

	// The first request of a user on a day reads the stored total, so the
	// daily limit holds across restarts. It is a read, outside the lock.
	var base int64
	if !loaded {
		err := storage.WithTx(ctx, e.store, false, func(tx storage.Tx) error {
			var err error
			base, err = tx.UserUsageOnDay(ctx, key.UserID, day)
			return err
		})
		if err != nil {
			return nil, 0, fmt.Errorf("read daily usage of user %d: %w", key.UserID, err)
		}
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	w = u.users[key.UserID]
	if w == nil {
		w = &userWindow{}
		u.users[key.UserID] = w
	}

	// Windows only move forward. A request stamped before a later one was
	// counted (its time is taken before authentication) counts in the
	// current window, so it cannot reset it.
	if day > w.day {
		w.day, w.dayCount = day, base
	}
	if minute.After(w.minute) {
		w.minute, w.minuteCount = minute, 0
	}
	day, minute = w.day, w.minute

	dayStart, _ := time.Parse("2006-01-02", day)
	dayReset := dayStart.AddDate(0, 0, 1)
	minuteReset := minute.Add(time.Minute)
	minuteLeft := plan.PerMinute - w.minuteCount
	dayLeft := int64(plan.DailyRequests) - w.dayCount

	if dayLeft <= 0 {
		rl := &RateLimit{Limit: plan.DailyRequests, Remaining: 0, Reset: dayReset}
		return rl, dayReset.Sub(now), &domain.Error{Code: domain.CodeRateLimited, Message: domain.MsgRateLimited}
	}
	if minuteLeft <= 0 {
		rl := &RateLimit{Limit: plan.PerMinute, Remaining: 0, Reset: minuteReset}
		return rl, minuteReset.Sub(now), &domain.Error{Code: domain.CodeRateLimited, Message: domain.MsgRateLimited}
	}

	w.minuteCount++
	w.dayCount++
	u.addPending(key.ID, key.UserID, day, 1)
	if now.After(u.lastUsed[key.ID]) {
		u.lastUsed[key.ID] = now
	}

	// Report the limit with fewer requests left.
	if dayLeft-1 < int64(minuteLeft-1) {
		return &RateLimit{Limit: plan.DailyRequests, Remaining: int(dayLeft - 1), Reset: dayReset}, 0, nil
	}
	return &RateLimit{Limit: plan.PerMinute, Remaining: minuteLeft - 1, Reset: minuteReset}, 0, nil
}

// take removes and returns the pending counts.
func (u *usageCounter) take() ([]domain.Usage, map[int64]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	rows := make([]domain.Usage, 0, len(u.pending))
	for keyID, kc := range u.pending {
		for day, n := range kc.days {
			rows = append(rows, domain.Usage{KeyID: keyID, UserID: kc.userID, Day: day, Count: n})
		}
	}
	lastUsed := u.lastUsed
	u.pending = map[int64]*keyCounts{}
	u.userKeys = map[int64]map[int64]struct{}{}
	u.lastUsed = map[int64]time.Time{}

	// Drop windows of past days, so the map holds only active users.
	today := ""
	for _, w := range u.users {
		if w.day > today {
			today = w.day
		}
	}
	for id, w := range u.users {
		if w.day < today {
			delete(u.users, id)
		}
	}
	return rows, lastUsed
}

// putBack returns counts that failed to reach storage, to be retried.
func (u *usageCounter) putBack(rows []domain.Usage, lastUsed map[int64]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, r := range rows {
		u.addPending(r.KeyID, r.UserID, r.Day, r.Count)
	}
	for id, t := range lastUsed {
		if t.After(u.lastUsed[id]) {
			u.lastUsed[id] = t
		}
	}
}

// addPending adds n to a key's unwritten count for a day. The caller holds
// u.mu.
func (u *usageCounter) addPending(keyID, userID int64, day string, n int64) {
	kc := u.pending[keyID]
	if kc == nil {
		kc = &keyCounts{userID: userID, days: map[string]int64{}}
		u.pending[keyID] = kc
		keys := u.userKeys[userID]
		if keys == nil {
			keys = map[int64]struct{}{}
			u.userKeys[userID] = keys
		}
		keys[keyID] = struct{}{}
	}
	kc.days[day] += n
}

// pendingFor returns the unflushed counts of one key, by day, and its
// unflushed last use, so api_keys usage reports requests not yet stored.
func (u *usageCounter) pendingFor(keyID int64) (map[string]int64, time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	byDay := map[string]int64{}
	if kc := u.pending[keyID]; kc != nil {
		for day, n := range kc.days {
			byDay[day] = n
		}
	}
	return byDay, u.lastUsed[keyID]
}

// pendingForUser returns the unflushed counts of every key of one user, by
// key id and day.
func (u *usageCounter) pendingForUser(userID int64) map[int64]map[string]int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[int64]map[string]int64{}
	for keyID := range u.userKeys[userID] {
		kc := u.pending[keyID]
		byDay := make(map[string]int64, len(kc.days))
		for day, n := range kc.days {
			byDay[day] = n
		}
		out[keyID] = byDay
	}
	return out
}

// loginThrottle limits failed logins per email and per client address in
// fixed windows. It keeps state in memory only, so a restart clears it.
type loginThrottle struct {
	mu       sync.Mutex
	perEmail int
	perAddr  int
	window   time.Duration
	failures map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

// limitKey is one counter and the failures it allows in a window.
type limitKey struct {
	key   string
	limit int
}

func newLoginThrottle(perEmail, perAddr int, window time.Duration) *loginThrottle {
	return &loginThrottle{perEmail: perEmail, perAddr: perAddr, window: window, failures: map[string]*failureWindow{}}
}

// loginKeys returns the counters of a login. An empty address (a caller
// that gave none) has no counter of its own.
func (t *loginThrottle) loginKeys(email, addr string) []limitKey {
	keys := []limitKey{{"e:" + email, t.perEmail}}
	if addr != "" {
		keys = append(keys, limitKey{"a:" + addr, t.perAddr})
	}
	return keys
}

// reserve counts an attempt on each counter unless one of them has used
// up its limit, in which case it counts nothing and returns how long that
// counter stays blocked. Checking and counting under one lock keeps
// concurrent attempts from all passing the check before any is counted.
func (t *loginThrottle) reserve(keys []limitKey, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.failures[k.key]
		if f != nil && now.Sub(f.start) < t.window && f.count >= k.limit {
			return f.start.Add(t.window).Sub(now), false
		}
	}
	for _, k := range keys {
		f := t.failures[k.key]
		if f == nil || now.Sub(f.start) >= t.window {
			f = &failureWindow{start: now}
			t.failures[k.key] = f
		}
		f.count++
	}
	return 0, true
}

// refund takes back an attempt that reserve counted, for a login that
// failed through no fault of its credentials.
func (t *loginThrottle) refund(keys []limitKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if f := t.failures[k.key]; f != nil && f.count > 0 {
			f.count--
		}
	}
}

// succeed clears the email's failures after a successful login and takes
// back the attempt from the address. The address keeps its earlier
// failures, so one address cannot probe many accounts by logging in to its
// own between guesses.
func (t *loginThrottle) succeed(keys []limitKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if strings.HasPrefix(k.key, "e:") {
			delete(t.failures, k.key)
		} else if f := t.failures[k.key]; f != nil && f.count > 0 {
			f.count--
		}
	}
}

// sweep drops windows that have ended.
func (t *loginThrottle) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, f := range t.failures {
		if now.Sub(f.start) >= t.window {
			delete(t.failures, k)
		}
	}
}
