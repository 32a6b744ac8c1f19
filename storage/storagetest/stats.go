package storagetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func testScanUsers(t *testing.T, open func(t *testing.T) storage.Store) {
	s := open(t)
	var all []domain.User
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
		all = append(all, createUser(t, s, email))
	}

	tests := []struct {
		name    string
		afterID int64
		limit   int
		want    []domain.User
	}{
		{name: "from the start", afterID: 0, limit: 2, want: all[:2]},
		{name: "after an id", afterID: all[1].ID, limit: 10, want: all[2:]},
		{name: "limit of one", afterID: all[0].ID, limit: 1, want: all[1:2]},
		{name: "after the last", afterID: all[3].ID, limit: 10, want: []domain.User{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, err := tx.ScanUsers(ctx, tt.afterID, tt.limit)
				if err != nil {
					return err
				}
				if len(tt.want) == 0 {
					equal(t, "users", len(got), 0)
					return nil
				}
				equal(t, "users", got, tt.want)
				return nil
			})
		})
	}
}

func testInstanceGroups(t *testing.T, open func(t *testing.T) storage.Store) {
	s := open(t)
	a := createUser(t, s, "ada@example.com")
	b := createUser(t, s, "bob@example.com")
	c := createUser(t, s, "cy@example.com")
	instance := func(userID int64, status, typ string) {
		in := newInstance(userID, 0, status)
		in.Type = typ
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInstance(ctx, &in) })
	}
	instance(a.ID, domain.StatusSleep, "wordpress")
	instance(a.ID, domain.StatusActive, "wordpress")
	instance(a.ID, domain.StatusActive, "ghost")
	instance(a.ID, domain.StatusActive, "wordpress")
	instance(a.ID, domain.StatusDead, "static")
	instance(b.ID, domain.StatusActive, "wordpress")
	instance(a.ID, domain.StatusActive, "Zope")

	tests := []struct {
		name   string
		userID int64
		want   []storage.InstanceGroup
	}{
		{name: "several groups", userID: a.ID, want: []storage.InstanceGroup{
			{Status: domain.StatusActive, Type: "Zope", Count: 1},
			{Status: domain.StatusActive, Type: "ghost", Count: 1},
			{Status: domain.StatusActive, Type: "wordpress", Count: 2},
			{Status: domain.StatusDead, Type: "static", Count: 1},
			{Status: domain.StatusSleep, Type: "wordpress", Count: 1},
		}},
		{name: "other user", userID: b.ID, want: []storage.InstanceGroup{
			{Status: domain.StatusActive, Type: "wordpress", Count: 1},
		}},
		{name: "no instances", userID: c.ID, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, err := tx.CountInstanceGroups(ctx, tt.userID)
				if err != nil {
					return err
				}
				if len(tt.want) == 0 {
					equal(t, "groups", len(got), 0)
					return nil
				}
				equal(t, "groups", got, tt.want)
				return nil
			})
		})
	}
}

// equalActivities fails the test unless got and want hold the same
// entries, treating a nil and an empty PrevHash or Hash as the same.
func equalActivities(tb testing.TB, label string, got, want []domain.Activity) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d entries, want %d: %+v", label, len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.PrevHash, w.PrevHash) {
			tb.Fatalf("%s[%d] prev hash = %x, want %x", label, i, g.PrevHash, w.PrevHash)
		}
		if !bytes.Equal(g.Hash, w.Hash) {
			tb.Fatalf("%s[%d] hash = %x, want %x", label, i, g.Hash, w.Hash)
		}
		g.PrevHash, g.Hash, w.PrevHash, w.Hash = nil, nil, nil, nil
		equal(tb, label, g, w)
	}
}

func testActivityChain(t *testing.T, open func(t *testing.T) storage.Store) {
	s := open(t)
	a := createUser(t, s, "ada@example.com")
	b := createUser(t, s, "bob@example.com")
	c := createUser(t, s, "cy@example.com")

	// Each entry is chained to the user's previous one, as the Engine does.
	prev := map[int64][]byte{}
	add := func(userID int64, action string, at time.Time) domain.Activity {
		act := domain.Activity{UserID: userID, Action: action, Subject: "subject of " + action, ClientIP: "192.0.2.1", CreatedAt: at}
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			domain.ChainActivity(prev[userID], &act)
			return tx.AddActivity(ctx, &act)
		})
		prev[userID] = act.Hash
		return act
	}
	var chain []domain.Activity
	for i := range 5 {
		chain = append(chain, add(a.ID, "login", t0.Add(time.Duration(i)*time.Minute)))
		if i == 1 {
			add(b.ID, "login", t0)
		}
	}

	t.Run("last", func(t *testing.T) {
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.LastActivity(ctx, a.ID)
			if err != nil {
				return err
			}
			equalActivities(t, "last activity", []domain.Activity{*got}, chain[4:])
			return nil
		})
	})

	t.Run("last of user without entries", func(t *testing.T) {
		for _, userID := range []int64{c.ID, c.ID + 10} {
			err := tryRead(s, func(ctx context.Context, tx storage.Tx) error {
				_, err := tx.LastActivity(ctx, userID)
				return err
			})
			wantErr(t, err, domain.ErrNotFound)
		}
	})

	t.Run("scan", func(t *testing.T) {
		tests := []struct {
			name    string
			afterID int64
			limit   int
			want    []domain.Activity
		}{
			{name: "from the start", afterID: 0, limit: 2, want: chain[:2]},
			{name: "after another user's id", afterID: chain[1].ID + 1, limit: 2, want: chain[2:4]},
			{name: "to the end", afterID: chain[2].ID, limit: 10, want: chain[3:]},
			{name: "after the last", afterID: chain[4].ID, limit: 10, want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.ScanActivities(ctx, a.ID, tt.afterID, tt.limit)
					if err != nil {
						return err
					}
					equalActivities(t, "scanned activities", got, tt.want)
					return nil
				})
			})
		}
	})

	t.Run("chain verifies after round-trip", func(t *testing.T) {
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.ScanActivities(ctx, a.ID, 0, 100)
			if err != nil {
				return err
			}
			equal(t, "entries", len(got), 5)
			var prev []byte
			for i := range got {
				if !bytes.Equal(got[i].PrevHash, prev) {
					t.Fatalf("entry %d prev hash = %x, want %x", i, got[i].PrevHash, prev)
				}
				if want := domain.ActivityHash(prev, &got[i]); !bytes.Equal(got[i].Hash, want) {
					t.Fatalf("entry %d hash = %x, want %x", i, got[i].Hash, want)
				}
				prev = got[i].Hash
			}
			return nil
		})
	})

	t.Run("list keeps hashes", func(t *testing.T) {
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, total, err := tx.FindActivities(ctx, a.ID, domain.Page{Limit: 2})
			if err != nil {
				return err
			}
			equalActivities(t, "listed activities", got, []domain.Activity{chain[4], chain[3]})
			equal(t, "total", total, 5)
			return nil
		})
	})

	t.Run("caller cannot change stored hash", func(t *testing.T) {
		var got *domain.Activity
		view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			got, err = tx.LastActivity(ctx, a.ID)
			return err
		})
		got.Hash[0] ^= 0xff
		got.PrevHash[0] ^= 0xff
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			again, err := tx.LastActivity(ctx, a.ID)
			if err != nil {
				return err
			}
			equalActivities(t, "last activity", []domain.Activity{*again}, chain[4:])
			return nil
		})
	})
}

func testUserUsage(t *testing.T, open func(t *testing.T) storage.Store) {
	const day1, day2, day3 = "2024-05-06", "2024-05-07", "2024-05-08"
	s := open(t)
	a := createUser(t, s, "ada@example.com")
	b := createUser(t, s, "bob@example.com")
	c := createUser(t, s, "cy@example.com")
	k1 := createAPIKey(t, s, a.ID, "k1")
	k2 := createAPIKey(t, s, a.ID, "k2")
	k3 := createAPIKey(t, s, b.ID, "k3")
	k4 := createAPIKey(t, s, a.ID, "k4")
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.AddUsage(ctx, []domain.Usage{
			{KeyID: k1.ID, UserID: a.ID, Day: day3, Count: 1},
			{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 2},
			{KeyID: k2.ID, UserID: a.ID, Day: day1, Count: 4},
			{KeyID: k2.ID, UserID: a.ID, Day: day2, Count: 8},
			{KeyID: k3.ID, UserID: b.ID, Day: day1, Count: 16},
			{KeyID: k4.ID, UserID: a.ID, Day: day2, Count: 32},
		}, nil)
	})
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, a.ID, k2.ID) })

	t.Run("user totals", func(t *testing.T) {
		tests := []struct {
			name   string
			userID int64
			since  string
			want   []domain.Usage
		}{
			{name: "all days", userID: a.ID, since: "", want: []domain.Usage{
				{UserID: a.ID, Day: day1, Count: 6},
				{UserID: a.ID, Day: day2, Count: 40},
				{UserID: a.ID, Day: day3, Count: 1},
			}},
			{name: "since a day", userID: a.ID, since: day2, want: []domain.Usage{
				{UserID: a.ID, Day: day2, Count: 40},
				{UserID: a.ID, Day: day3, Count: 1},
			}},
			{name: "since a later day", userID: a.ID, since: "2024-06-01", want: nil},
			{name: "other user", userID: b.ID, since: "", want: []domain.Usage{
				{UserID: b.ID, Day: day1, Count: 16},
			}},
			{name: "no usage", userID: c.ID, since: "", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.FindUserUsage(ctx, tt.userID, tt.since)
					if err != nil {
						return err
					}
					if len(tt.want) == 0 {
						equal(t, "user usage", len(got), 0)
						return nil
					}
					equal(t, "user usage", got, tt.want)
					return nil
				})
			})
		}
	})

	t.Run("key rows", func(t *testing.T) {
		tests := []struct {
			name   string
			userID int64
			since  string
			want   []domain.Usage
		}{
			{name: "all days", userID: a.ID, since: "", want: []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 2},
				{KeyID: k1.ID, UserID: a.ID, Day: day3, Count: 1},
				{KeyID: k4.ID, UserID: a.ID, Day: day2, Count: 32},
			}},
			{name: "since a day", userID: a.ID, since: day2, want: []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day3, Count: 1},
				{KeyID: k4.ID, UserID: a.ID, Day: day2, Count: 32},
			}},
			{name: "since a later day", userID: a.ID, since: "2024-06-01", want: nil},
			{name: "other user", userID: b.ID, since: "", want: []domain.Usage{
				{KeyID: k3.ID, UserID: b.ID, Day: day1, Count: 16},
			}},
			{name: "no keys", userID: c.ID, since: "", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.FindUserKeyUsage(ctx, tt.userID, tt.since)
					if err != nil {
						return err
					}
					if len(tt.want) == 0 {
						equal(t, "key usage", len(got), 0)
						return nil
					}
					equal(t, "key usage", got, tt.want)
					return nil
				})
			})
		}
	})
}
