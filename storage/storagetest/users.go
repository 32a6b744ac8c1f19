package storagetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func testUsers(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("create and find", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")

		equal(t, "first user id", a.ID, int64(1))
		equal(t, "second user id", b.ID, int64(2))
		want := newUser("ada@example.com")
		want.ID = a.ID
		equal(t, "user by id", findUser(t, s, a.ID), want)
		equal(t, "user count", countUsers(t, s), 2)
	})

	t.Run("duplicate email", func(t *testing.T) {
		tests := []struct {
			name  string
			email string
		}{
			{name: "same case", email: "ada@example.com"},
			{name: "upper case", email: "ADA@EXAMPLE.COM"},
			{name: "mixed case", email: "Ada@Example.Com"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				createUser(t, s, "ada@example.com")
				u := newUser(tt.email)
				err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateUser(ctx, &u) })
				wantErr(t, err, domain.ErrConflict)
				equal(t, "user count", countUsers(t, s), 1)
			})
		}
	})

	t.Run("find by email ignores case", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "Ada@Example.com")
		tests := []struct {
			name  string
			email string
		}{
			{name: "as stored", email: "Ada@Example.com"},
			{name: "lower case", email: "ada@example.com"},
			{name: "upper case", email: "ADA@EXAMPLE.COM"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					u, err := tx.FindUserByEmail(ctx, tt.email)
					if err != nil {
						return err
					}
					equal(t, "user id", u.ID, a.ID)
					equal(t, "stored email", u.Email, "Ada@Example.com")
					return nil
				})
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := open(t)
		createUser(t, s, "ada@example.com")
		err := tryRead(s, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.FindUserByID(ctx, 99)
			return err
		})
		wantErr(t, err, domain.ErrNotFound)
		err = tryRead(s, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.FindUserByEmail(ctx, "nobody@example.com")
			return err
		})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("update profile", func(t *testing.T) {
		tests := []struct {
			name   string
			update domain.ProfileUpdate
			want   func(u *domain.User)
		}{
			{
				name:   "no fields",
				update: domain.ProfileUpdate{},
				want:   func(u *domain.User) {},
			},
			{
				name:   "bio and phone",
				update: domain.ProfileUpdate{Bio: ptr("new bio"), Phone: ptr("+15550199")},
				want: func(u *domain.User) {
					u.Bio = "new bio"
					u.Phone = "+15550199"
				},
			},
			{
				name:   "clear address",
				update: domain.ProfileUpdate{Address: ptr("")},
				want:   func(u *domain.User) { u.Address = "" },
			},
			{
				name: "every field",
				update: domain.ProfileUpdate{
					Bio: ptr("b"), PFP: ptr("https://example.com/p"), FirstName: ptr("f"),
					LastName: ptr("l"), Phone: ptr("+1"), Address: ptr("a"),
				},
				want: func(u *domain.User) {
					u.Bio, u.PFP, u.FirstName, u.LastName, u.Phone, u.Address = "b", "https://example.com/p", "f", "l", "+1", "a"
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				u := createUser(t, s, "ada@example.com")
				update(t, s, func(ctx context.Context, tx storage.Tx) error {
					return tx.UpdateProfile(ctx, u.ID, tt.update)
				})
				want := u
				tt.want(&want)
				equal(t, "user", findUser(t, s, u.ID), want)
			})
		}
	})

	t.Run("update profile of missing user", func(t *testing.T) {
		s := open(t)
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error {
			return tx.UpdateProfile(ctx, 42, domain.ProfileUpdate{Bio: ptr("x")})
		})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("caller cannot change stored user", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, "ada@example.com")
		u.Email = "changed@example.com"
		got := findUser(t, s, u.ID)
		got.Bio = "changed"
		equal(t, "stored email", findUser(t, s, u.ID).Email, "ada@example.com")
		equal(t, "stored bio", findUser(t, s, u.ID).Bio, "bio")
	})
}

func testAPIKeys(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("create and find by hash", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, "ada@example.com")
		k := newAPIKey(u.ID, "h1")
		k.CanWrite = true
		k.ExpiresAt = ptr(t0.Add(24 * time.Hour))
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateAPIKey(ctx, &k) })
		equal(t, "first key id", k.ID, int64(1))

		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.FindAPIKeyByHash(ctx, []byte("h1"))
			if err != nil {
				return err
			}
			equal(t, "key by hash", *got, k)
			return nil
		})
	})

	t.Run("duplicate hash", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, "ada@example.com")
		createAPIKey(t, s, u.ID, "h1")
		k := newAPIKey(u.ID, "h1")
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateAPIKey(ctx, &k) })
		wantErr(t, err, domain.ErrConflict)
	})

	t.Run("key of missing user", func(t *testing.T) {
		s := open(t)
		k := newAPIKey(7, "h1")
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateAPIKey(ctx, &k) })
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("find by id checks owner", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		k := createAPIKey(t, s, a.ID, "h1")

		equal(t, "own key", findAPIKey(t, s, a.ID, k.ID).Name, k.Name)
		tests := []struct {
			name   string
			userID int64
			id     int64
		}{
			{name: "other user", userID: b.ID, id: k.ID},
			{name: "missing key", userID: a.ID, id: k.ID + 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tryRead(s, func(ctx context.Context, tx storage.Tx) error {
					_, err := tx.FindAPIKeyByID(ctx, tt.userID, tt.id)
					return err
				})
				wantErr(t, err, domain.ErrNotFound)
			})
		}
		err := tryRead(s, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.FindAPIKeyByHash(ctx, []byte("missing"))
			return err
		})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("list with pagination", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var aIDs []int64
		for i, hash := range []string{"a1", "a2", "a3", "a4", "a5"} {
			aIDs = append(aIDs, createAPIKey(t, s, a.ID, hash).ID)
			if i == 1 {
				createAPIKey(t, s, b.ID, "b1")
			}
		}

		tests := []struct {
			name string
			page domain.Page
			want []int64
		}{
			{name: "first page", page: domain.Page{Limit: 2}, want: aIDs[:2]},
			{name: "middle page", page: domain.Page{Limit: 2, Offset: 2}, want: aIDs[2:4]},
			{name: "last page", page: domain.Page{Limit: 2, Offset: 4}, want: aIDs[4:]},
			{name: "past the end", page: domain.Page{Limit: 2, Offset: 9}, want: []int64{}},
			{name: "all", page: domain.Page{Limit: domain.MaxLimit}, want: aIDs},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					keys, total, err := tx.FindAPIKeys(ctx, a.ID, tt.page)
					if err != nil {
						return err
					}
					equal(t, "ids of "+label(tt.page), ids(keys, func(k domain.APIKey) int64 { return k.ID }), tt.want)
					equal(t, "total", total, 5)
					return nil
				})
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		k1 := createAPIKey(t, s, a.ID, "h1")
		k2 := createAPIKey(t, s, a.ID, "h2")
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: "2024-05-06", Count: 3},
				{KeyID: k1.ID, UserID: a.ID, Day: "2024-05-07", Count: 1},
				{KeyID: k2.ID, UserID: a.ID, Day: "2024-05-06", Count: 2},
			}, nil)
		})

		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, b.ID, k1.ID) })
		wantErr(t, err, domain.ErrNotFound)

		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, a.ID, k1.ID) })
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.FindAPIKeyByHash(ctx, []byte("h1"))
			wantErr(t, err, domain.ErrNotFound)
			usage, err := tx.FindKeyUsage(ctx, k1.ID, "")
			if err != nil {
				return err
			}
			equal(t, "usage of deleted key", usage, []domain.Usage{})
			sum, err := tx.UserUsageOnDay(ctx, a.ID, "2024-05-06")
			if err != nil {
				return err
			}
			// The user's total keeps the deleted key's count, so deleting a
			// key cannot lower it against the daily limit.
			equal(t, "user total after key delete", sum, int64(5))
			return nil
		})

		err = tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, a.ID, k1.ID) })
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("ids are not reused after delete", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		k1 := createAPIKey(t, s, a.ID, "h1")
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, a.ID, k1.ID) })
		k2 := createAPIKey(t, s, a.ID, "h2")
		if k2.ID <= k1.ID {
			t.Fatalf("key id after delete = %d, want more than the deleted %d", k2.ID, k1.ID)
		}
	})

	t.Run("caller cannot change stored hash", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		k := createAPIKey(t, s, a.ID, "h1")
		k.Hash[0] = 'X'
		got := findAPIKey(t, s, a.ID, k.ID)
		got.Hash[0] = 'Y'
		equal(t, "stored hash", string(findAPIKey(t, s, a.ID, k.ID).Hash), "h1")
	})
}

func testUsage(t *testing.T, open func(t *testing.T) storage.Store) {
	const day1, day2, day3 = "2024-05-06", "2024-05-07", "2024-05-08"

	setup := func(t *testing.T) (s storage.Store, a, b domain.User, k1, k2, k3 domain.APIKey) {
		t.Helper()
		s = open(t)
		a = createUser(t, s, "ada@example.com")
		b = createUser(t, s, "bob@example.com")
		k1 = createAPIKey(t, s, a.ID, "k1")
		k2 = createAPIKey(t, s, a.ID, "k2")
		k3 = createAPIKey(t, s, b.ID, "k3")
		return s, a, b, k1, k2, k3
	}

	t.Run("accumulates across batches", func(t *testing.T) {
		s, a, b, k1, k2, k3 := setup(t)
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 3},
				{KeyID: k2.ID, UserID: a.ID, Day: day1, Count: 2},
				{KeyID: k1.ID, UserID: a.ID, Day: day2, Count: 1},
			}, nil)
		})
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 4},
				{KeyID: k3.ID, UserID: b.ID, Day: day1, Count: 10},
			}, nil)
		})

		keyTests := []struct {
			name  string
			keyID int64
			since string
			want  []domain.Usage
		}{
			{name: "all days", keyID: k1.ID, since: "", want: []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 7},
				{KeyID: k1.ID, UserID: a.ID, Day: day2, Count: 1},
			}},
			{name: "since first day", keyID: k1.ID, since: day1, want: []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 7},
				{KeyID: k1.ID, UserID: a.ID, Day: day2, Count: 1},
			}},
			{name: "since second day", keyID: k1.ID, since: day2, want: []domain.Usage{
				{KeyID: k1.ID, UserID: a.ID, Day: day2, Count: 1},
			}},
			{name: "since later day", keyID: k1.ID, since: day3, want: []domain.Usage{}},
			{name: "other key", keyID: k3.ID, since: "", want: []domain.Usage{
				{KeyID: k3.ID, UserID: b.ID, Day: day1, Count: 10},
			}},
		}
		for _, tt := range keyTests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.FindKeyUsage(ctx, tt.keyID, tt.since)
					if err != nil {
						return err
					}
					equal(t, "key usage", got, tt.want)
					return nil
				})
			})
		}

		dayTests := []struct {
			name   string
			userID int64
			day    string
			want   int64
		}{
			{name: "sum over keys", userID: a.ID, day: day1, want: 9},
			{name: "one key", userID: a.ID, day: day2, want: 1},
			{name: "other user", userID: b.ID, day: day1, want: 10},
			{name: "day without usage", userID: a.ID, day: day3, want: 0},
		}
		for _, tt := range dayTests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, err := tx.UserUsageOnDay(ctx, tt.userID, tt.day)
					if err != nil {
						return err
					}
					equal(t, "usage on "+tt.day, got, tt.want)
					return nil
				})
			})
		}
	})

	t.Run("last used never moves backward", func(t *testing.T) {
		s, _, _, k1, k2, _ := setup(t)
		later, earlier := t0.Add(time.Hour), t0.Add(-time.Hour)
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, nil, map[int64]time.Time{k1.ID: later})
		})
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, nil, map[int64]time.Time{k1.ID: earlier, k2.ID: t0})
		})
		equal(t, "k1 last used", findAPIKey(t, s, k1.UserID, k1.ID).LastUsedAt, &later)
		equal(t, "k2 last used", findAPIKey(t, s, k2.UserID, k2.ID).LastUsedAt, &t0)

		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, nil, map[int64]time.Time{k2.ID: later})
		})
		equal(t, "k2 last used after later use", findAPIKey(t, s, k2.UserID, k2.ID).LastUsedAt, &later)
	})

	t.Run("deleted keys still count for their user", func(t *testing.T) {
		s, a, _, k1, k2, _ := setup(t)
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, a.ID, k2.ID) })
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.AddUsage(ctx, []domain.Usage{
				{KeyID: k2.ID, UserID: a.ID, Day: day1, Count: 5},
				{KeyID: 999, UserID: a.ID, Day: day1, Count: 5},
				{KeyID: k1.ID, UserID: a.ID, Day: day1, Count: 1},
				{KeyID: 998, UserID: 999, Day: day1, Count: 7},
			}, map[int64]time.Time{k2.ID: t0, 999: t0, k1.ID: t0})
		})
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.FindKeyUsage(ctx, k2.ID, "")
			if err != nil {
				return err
			}
			equal(t, "usage of deleted key", got, []domain.Usage{})
			sum, err := tx.UserUsageOnDay(ctx, a.ID, day1)
			if err != nil {
				return err
			}
			equal(t, "user total", sum, int64(11))
			sum, err = tx.UserUsageOnDay(ctx, 999, day1)
			if err != nil {
				return err
			}
			equal(t, "total of a missing user", sum, int64(0))
			return nil
		})
		equal(t, "k1 last used", findAPIKey(t, s, a.ID, k1.ID).LastUsedAt, &t0)
	})
}

func testIdempotency(t *testing.T, open func(t *testing.T) storage.Store) {
	find := func(t *testing.T, s storage.Store, userID int64, key string) (*storage.IdempotentResponse, error) {
		t.Helper()
		var r *storage.IdempotentResponse
		err := tryRead(s, func(ctx context.Context, tx storage.Tx) (err error) {
			r, err = tx.FindIdempotent(ctx, userID, key)
			return err
		})
		return r, err
	}
	save := func(t *testing.T, s storage.Store, r storage.IdempotentResponse) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SaveIdempotent(ctx, r) })
	}

	t.Run("save and find", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		_, err := find(t, s, a.ID, "k")
		wantErr(t, err, domain.ErrNotFound)

		want := storage.IdempotentResponse{
			UserID: a.ID, Key: "k", RequestHash: []byte{1, 2, 3}, Status: 201,
			Body: []byte(`{"ok":true}`), CreatedAt: t0,
		}
		save(t, s, want)
		got, err := find(t, s, a.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "response", *got, want)

		got.Body[0] = 'X'
		again, err := find(t, s, a.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "stored body", string(again.Body), `{"ok":true}`)
	})

	t.Run("replace", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		save(t, s, storage.IdempotentResponse{UserID: a.ID, Key: "k", RequestHash: []byte{1}, Status: 200, Body: []byte("a1"), CreatedAt: t0})
		save(t, s, storage.IdempotentResponse{UserID: b.ID, Key: "k", RequestHash: []byte{9}, Status: 200, Body: []byte("b1"), CreatedAt: t0})
		replaced := storage.IdempotentResponse{UserID: a.ID, Key: "k", RequestHash: []byte{2}, Status: 409, Body: []byte("a2"), CreatedAt: t0.Add(time.Second)}
		save(t, s, replaced)

		got, err := find(t, s, a.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "replaced response", *got, replaced)
		other, err := find(t, s, b.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "other user's body", string(other.Body), "b1")
	})

	t.Run("missing user", func(t *testing.T) {
		s := open(t)
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error {
			return tx.SaveIdempotent(ctx, storage.IdempotentResponse{UserID: 5, Key: "k", CreatedAt: t0})
		})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("delete before", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		for i, key := range []string{"old", "boundary", "new"} {
			at := t0.Add(time.Duration(i) * time.Minute)
			save(t, s, storage.IdempotentResponse{UserID: a.ID, Key: key, Body: []byte(key), CreatedAt: at})
		}
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.DeleteIdempotentBefore(ctx, t0.Add(time.Minute))
		})

		tests := []struct {
			name    string
			key     string
			wantErr error
		}{
			{name: "older row deleted", key: "old", wantErr: domain.ErrNotFound},
			{name: "row at cutoff kept", key: "boundary"},
			{name: "newer row kept", key: "new"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := find(t, s, a.ID, tt.key)
				if tt.wantErr != nil {
					wantErr(t, err, tt.wantErr)
					return
				}
				if err != nil {
					t.Fatalf("find %q: %v", tt.key, err)
				}
			})
		}
	})

	t.Run("empty body", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		save(t, s, storage.IdempotentResponse{UserID: a.ID, Key: "k", Status: 204, CreatedAt: t0})
		got, err := find(t, s, a.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, nil) || !bytes.Equal(got.RequestHash, nil) {
			t.Fatalf("body %q and hash %q, want both empty", got.Body, got.RequestHash)
		}
		equal(t, "status", got.Status, 204)
	})
}
