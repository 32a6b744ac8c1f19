package sharepanel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func apiKeyActions() []*ActionSpec {
	keyID := Param{Name: "key_id", Type: TypeInt, Required: true, Min: 1, Description: "API key ID"}
	return []*ActionSpec{
		{Mode: "api_keys", Action: "list", List: true, Summary: "List the caller's API keys (prefix only, never the key)", run: (*call).listKeys},
		{
			Mode: "api_keys", Action: "create", Mutating: true, Additive: true,
			Params: []Param{
				{Name: "name", Type: TypeString, MaxLen: domain.MaxKeyNameLen, Description: "Name for the key"},
				{Name: "permissions", Type: TypeString, MaxLen: 32, Description: "read, write or read,write (default)"},
				{Name: "expires_at", Type: TypeTime, MaxLen: 64, Description: "Expiry, ISO 8601, in the future (default: the calling key's expiry, if it has one)"},
			},
			Summary: "Create an API key with at most the permissions and lifetime of the calling key; the full key is shown only in this response",
			run:     (*call).createKeyAction,
		},
		{Mode: "api_keys", Action: "delete", Mutating: true, Destructive: true, Params: []Param{keyID}, Summary: "Delete an API key", run: (*call).deleteKey},
		{Mode: "api_keys", Action: "usage", Params: []Param{keyID}, Summary: "Show an API key's request counts per day and last use", run: (*call).keyUsage},
	}
}

// keyItem describes a key in lists and on creation. It never holds the
// full key.
type keyItem struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Prefix      string  `json:"prefix"`
	Permissions string  `json:"permissions"`
	CreatedAt   string  `json:"created_at"`
	LastUsedAt  *string `json:"last_used_at"`
	ExpiresAt   *string `json:"expires_at"`
}

func newKeyItem(k *domain.APIKey) keyItem {
	return keyItem{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Permissions: k.Permissions(),
		CreatedAt: formatListTime(k.CreatedAt), LastUsedAt: formatOptTime(k.LastUsedAt), ExpiresAt: formatOptTime(k.ExpiresAt),
	}
}

func (c *call) listKeys() (result, error) {
	keys, total, err := c.tx.FindAPIKeys(c.ctx, c.userID, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]keyItem, 0, len(keys))
	for i := range keys {
		item := newKeyItem(&keys[i])

		// Uses not yet flushed to storage are newer than the stored one.
		if _, last := c.e.usage.pendingFor(keys[i].ID); !last.IsZero() {
			item.LastUsedAt = formatOptTime(&last)
		}
		rows = append(rows, item)
	}
	return c.listResult(domain.MsgKeysListed, rows, total), nil
}

// parsePermissions reads "read", "write" or "read,write" in either order.
func parsePermissions(s string) (read, write bool, err error) {
	if s == "" {
		return true, true, nil
	}
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case domain.PermRead:
			read = true
		case domain.PermWrite:
			write = true
		default:
			return false, false, domain.Errorf(domain.CodeInvalidParameter, "Invalid permissions: use read, write or read,write")
		}
	}
	return read, write, nil
}

// keyCreated is the data of api_keys create. A replay of the request with
// its Idempotency-Key returns the same key's details without APIKey, which
// is never stored.
type keyCreated struct {
	keyItem
	APIKey string `json:"api_key,omitempty"`
}

func (c *call) createKeyAction() (result, error) {
	name := strings.TrimSpace(c.req.Params["name"])
	if name == "" {
		name = "API key"
	}
	read, write, err := parsePermissions(c.req.Params["permissions"])
	if err != nil {
		return result{}, err
	}
	var expires *time.Time
	if v := c.req.Params["expires_at"]; v != "" {
		t, err := parseTime(v)
		if err != nil {
			return result{}, domain.Errorf(domain.CodeInvalidParameter, "Invalid expires_at: use ISO 8601, such as 2030-01-31T00:00:00Z")
		}
		if !t.After(c.now) {
			return result{}, domain.Errorf(domain.CodeInvalidParameter, "Invalid expires_at: must be in the future")
		}
		t = t.Truncate(time.Microsecond)
		expires = &t
	}

	// A key cannot mint a key that outlives it or may do more than it
	// may, or a limited key would be a way around its own limits.
	if (read && !c.key.CanRead) || (write && !c.key.CanWrite) {
		return result{}, &domain.Error{Code: domain.CodePermissionDenied, Message: domain.MsgKeyWiderPermissions}
	}
	if limit := c.key.ExpiresAt; limit != nil {
		if expires == nil {
			expires = limit
		} else if expires.After(*limit) {
			return result{}, &domain.Error{Code: domain.CodePermissionDenied, Message: domain.MsgKeyOutlivesCaller}
		}
	}

	raw, key, err := c.e.createKey(c.ctx, c.tx, c.userID, name, read, write, expires, c.now)
	if err != nil {
		return result{}, err
	}
	if err := c.log("api_keys.create", fmt.Sprintf("api key %d", key.ID)); err != nil {
		return result{}, err
	}
	item := newKeyItem(key)
	return result{
		message:    domain.MsgKeyCreated,
		data:       keyCreated{keyItem: item, APIKey: raw},
		replayData: keyCreated{keyItem: item},
	}, nil
}

// createKey generates a key, stores its hash and returns the full key,
// which is never stored.
func (e *Engine) createKey(ctx context.Context, tx storage.Tx, userID int64, name string, read, write bool, expires *time.Time, now time.Time) (string, *domain.APIKey, error) {
	raw := domain.NewAPIKey()
	key := &domain.APIKey{
		UserID: userID, Name: name, Prefix: domain.APIKeyDisplayPrefix(raw), Hash: domain.HashAPIKey(raw),
		CanRead: read, CanWrite: write, CreatedAt: now, ExpiresAt: expires,
	}
	if err := tx.CreateAPIKey(ctx, key); err != nil {
		return "", nil, err
	}
	return raw, key, nil
}

func (c *call) ownedKey() (*domain.APIKey, error) {
	id, err := c.idParam("key_id", domain.MsgKeyIDRequired)
	if err != nil {
		return nil, err
	}
	key, err := c.tx.FindAPIKeyByID(c.ctx, c.userID, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgKeyNotFound}
	}
	return key, err
}

func (c *call) deleteKey() (result, error) {
	key, err := c.ownedKey()
	if err != nil {
		return result{}, err
	}
	if err := c.tx.DeleteAPIKey(c.ctx, c.userID, key.ID); err != nil {
		return result{}, err
	}
	if err := c.log("api_keys.delete", fmt.Sprintf("api key %d", key.ID)); err != nil {
		return result{}, err
	}

	// The key must stop working at once in this process. A lookup between
	// this drop and the commit still reads the stored key, so the key is
	// dropped again after the commit, which also keeps lookups under way
	// from caching it.
	c.e.auth.dropKey(key.ID)
	c.afterCommit(func() { c.e.auth.dropKey(key.ID) })
	return result{message: domain.MsgKeyDeleted, data: map[string]int64{"key_id": key.ID}}, nil
}

// usageDay is one day of a key's usage.
type usageDay struct {
	Date  string `json:"date"`
	Count int64  `json:"count"`
}

// keyUsage is the data of api_keys usage.
type keyUsage struct {
	KeyID         int64      `json:"key_id"`
	Name          string     `json:"name"`
	Prefix        string     `json:"prefix"`
	TotalRequests int64      `json:"total_requests"`
	Today         int64      `json:"requests_today"`
	LastUsedAt    *string    `json:"last_used_at"`
	Daily         []usageDay `json:"daily"`
}

func (c *call) keyUsage() (result, error) {
	key, err := c.ownedKey()
	if err != nil {
		return result{}, err
	}
	stored, err := c.tx.FindKeyUsage(c.ctx, key.ID, "")
	if err != nil {
		return result{}, err
	}

	// Stored counts plus those still in memory.
	// NOTE: while a flush is writing, its counts are in neither place, so a
	// report made in that moment can fall short by one flush interval.
	byDay := map[string]int64{}
	for _, u := range stored {
		byDay[u.Day] += u.Count
	}
	pending, last := c.e.usage.pendingFor(key.ID)
	for day, n := range pending {
		byDay[day] += n
	}
	lastUsed := key.LastUsedAt
	if !last.IsZero() && (lastUsed == nil || last.After(*lastUsed)) {
		lastUsed = &last
	}

	out := keyUsage{KeyID: key.ID, Name: key.Name, Prefix: key.Prefix, LastUsedAt: formatOptTime(lastUsed), Daily: []usageDay{}}
	for day, n := range byDay {
		out.Daily = append(out.Daily, usageDay{Date: day, Count: n})
		out.TotalRequests += n
	}
	sort.Slice(out.Daily, func(i, j int) bool { return out.Daily[i].Date < out.Daily[j].Date })
	out.Today = byDay[dayOf(c.now)]
	return result{message: domain.MsgKeyUsage, data: out}, nil
}
