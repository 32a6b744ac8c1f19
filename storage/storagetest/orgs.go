package storagetest

import (
	"context"
	"testing"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func testOrgs(t *testing.T, open func(t *testing.T) storage.Store) {
	findOrg := func(t *testing.T, s storage.Store, id int64) (*domain.Org, error) {
		t.Helper()
		var o *domain.Org
		err := tryRead(s, func(ctx context.Context, tx storage.Tx) (err error) {
			o, err = tx.FindOrgByID(ctx, id)
			return err
		})
		return o, err
	}
	pathTaken := func(t *testing.T, s storage.Store, path string) bool {
		t.Helper()
		var taken bool
		view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			taken, err = tx.OrgPathTaken(ctx, path)
			return err
		})
		return taken
	}

	t.Run("create and find", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		o := createOrg(t, s, a.ID, "acme")
		equal(t, "first org id", o.ID, int64(1))

		got, err := findOrg(t, s, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "org", *got, o)
		equal(t, "acme taken", pathTaken(t, s, "acme"), true)
		equal(t, "ACME taken", pathTaken(t, s, "ACME"), false)
		equal(t, "other taken", pathTaken(t, s, "other"), false)

		_, err = findOrg(t, s, o.ID+1)
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("list totals on every page", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		for _, path := range []string{"a", "b", "c", "d", "e"} {
			o := createOrg(t, s, a.ID, path)
			update(t, s, func(ctx context.Context, tx storage.Tx) error {
				return tx.AddMember(ctx, domain.Member{OrgID: o.ID, UserID: a.ID, Role: domain.RoleAdmin, JoinedAt: o.CreatedAt})
			})
		}
		tests := []struct {
			name        string
			page        domain.Page
			rows, total int
		}{
			{name: "first full page", page: domain.Page{Limit: 2}, rows: 2, total: 5},
			{name: "middle page", page: domain.Page{Limit: 2, Offset: 2}, rows: 2, total: 5},
			{name: "last partial page", page: domain.Page{Limit: 2, Offset: 4}, rows: 1, total: 5},
			{name: "page exactly full", page: domain.Page{Limit: 5}, rows: 5, total: 5},
			{name: "page larger than list", page: domain.Page{Limit: 50}, rows: 5, total: 5},
			{name: "past the end", page: domain.Page{Limit: 2, Offset: 10}, rows: 0, total: 5},
			{name: "negative offset", page: domain.Page{Limit: 50, Offset: -5}, rows: 5, total: 5},
			{name: "limit zero", page: domain.Page{Limit: 0}, rows: 0, total: 5},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					orgs, total, err := tx.FindOrgsByMember(ctx, a.ID, tt.page)
					if err != nil {
						return err
					}
					equal(t, "rows", len(orgs), tt.rows)
					equal(t, "total", total, tt.total)
					return nil
				})
			})
		}
	})

	t.Run("paths derived from a base", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		for _, path := range []string{"acme-2", "acme", "acm", "acme2", "acme-10", "acme-corp", "acmf", "acme-x-2", "zeta"} {
			createOrg(t, s, a.ID, path)
		}
		var paths []string
		view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			paths, err = tx.FindOrgPaths(ctx, "acme")
			return err
		})
		equal(t, "paths", paths, []string{"acme", "acme-10", "acme-2", "acme-corp", "acme-x-2"})

		view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			paths, err = tx.FindOrgPaths(ctx, "nothing")
			return err
		})
		equal(t, "no paths", paths, []string{})
	})

	t.Run("create errors", func(t *testing.T) {
		tests := []struct {
			name    string
			org     func(adminID int64) domain.Org
			wantErr error
		}{
			{
				name:    "path taken",
				org:     func(adminID int64) domain.Org { return newOrg(adminID, "acme") },
				wantErr: domain.ErrConflict,
			},
			{
				name:    "missing admin",
				org:     func(adminID int64) domain.Org { return newOrg(adminID+100, "new") },
				wantErr: domain.ErrNotFound,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				a := createUser(t, s, "ada@example.com")
				createOrg(t, s, a.ID, "acme")
				o := tt.org(a.ID)
				err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateOrg(ctx, &o) })
				wantErr(t, err, tt.wantErr)
			})
		}
	})

	t.Run("update", func(t *testing.T) {
		tests := []struct {
			name    string
			id      func(acme, beta domain.Org) int64
			update  domain.OrgUpdate
			wantErr error
			want    func(o *domain.Org)
		}{
			{
				name:   "title only",
				update: domain.OrgUpdate{Title: ptr("New title")},
				want:   func(o *domain.Org) { o.Title = "New title" },
			},
			{
				name:   "new path and contact",
				update: domain.OrgUpdate{Path: ptr("acme2"), Contact: ptr("c@example.com")},
				want: func(o *domain.Org) {
					o.Path = "acme2"
					o.Contact = "c@example.com"
				},
			},
			{
				name:   "own path",
				update: domain.OrgUpdate{Path: ptr("acme")},
				want:   func(o *domain.Org) {},
			},
			{
				name:    "path of other org",
				update:  domain.OrgUpdate{Path: ptr("beta"), Title: ptr("ignored")},
				wantErr: domain.ErrConflict,
				want:    func(o *domain.Org) {},
			},
			{
				name:    "missing org",
				id:      func(acme, beta domain.Org) int64 { return beta.ID + 10 },
				update:  domain.OrgUpdate{Title: ptr("x")},
				wantErr: domain.ErrNotFound,
				want:    func(o *domain.Org) {},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				a := createUser(t, s, "ada@example.com")
				acme := createOrg(t, s, a.ID, "acme")
				beta := createOrg(t, s, a.ID, "beta")
				id := acme.ID
				if tt.id != nil {
					id = tt.id(acme, beta)
				}

				err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateOrg(ctx, id, tt.update) })
				if tt.wantErr != nil {
					wantErr(t, err, tt.wantErr)
				} else if err != nil {
					t.Fatalf("update org: %v", err)
				}

				want := acme
				tt.want(&want)
				got, err := findOrg(t, s, acme.ID)
				if err != nil {
					t.Fatal(err)
				}
				equal(t, "org", *got, want)
				equal(t, "old path taken", pathTaken(t, s, "acme"), want.Path == "acme")
				equal(t, "new path taken", pathTaken(t, s, want.Path), true)
			})
		}
	})

	t.Run("delete detaches instances and removes members", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		acme := createOrg(t, s, a.ID, "acme")
		beta := createOrg(t, s, a.ID, "beta")
		addMember(t, s, acme.ID, a.ID)
		addMember(t, s, acme.ID, b.ID)
		addMember(t, s, beta.ID, b.ID)
		inAcme := createInstance(t, s, a.ID, acme.ID, domain.StatusActive)
		inBeta := createInstance(t, s, b.ID, beta.ID, domain.StatusActive)

		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteOrg(ctx, acme.ID) })

		_, err := findOrg(t, s, acme.ID)
		wantErr(t, err, domain.ErrNotFound)
		equal(t, "detached instance org", findInstance(t, s, a.ID, inAcme.ID).OrgID, int64(0))
		equal(t, "other instance org", findInstance(t, s, b.ID, inBeta.ID).OrgID, beta.ID)
		equal(t, "acme path taken", pathTaken(t, s, "acme"), false)
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			n, err := tx.CountMembers(ctx, acme.ID)
			if err != nil {
				return err
			}
			equal(t, "members of deleted org", n, 0)
			_, err = tx.FindMember(ctx, acme.ID, b.ID)
			wantErr(t, err, domain.ErrNotFound)
			orgs, total, err := tx.FindOrgsByMember(ctx, b.ID, domain.Page{Limit: 10})
			if err != nil {
				return err
			}
			equal(t, "orgs of member", ids(orgs, func(o domain.Org) int64 { return o.ID }), []int64{beta.ID})
			equal(t, "org total of member", total, 1)
			n, err = tx.CountInstances(ctx, storage.InstanceFilter{OrgID: acme.ID})
			if err != nil {
				return err
			}
			equal(t, "instances of deleted org", n, 0)
			n, err = tx.CountOrgsByAdmin(ctx, a.ID)
			if err != nil {
				return err
			}
			equal(t, "orgs of admin", n, 1)
			return nil
		})

		err = tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteOrg(ctx, acme.ID) })
		wantErr(t, err, domain.ErrNotFound)

		again := createOrg(t, s, a.ID, "acme")
		if again.ID <= beta.ID {
			t.Fatalf("org id after delete = %d, want more than %d", again.ID, beta.ID)
		}
	})

	t.Run("orgs by member with pagination", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		var orgIDs []int64
		for _, path := range []string{"o1", "o2", "o3", "o4"} {
			o := createOrg(t, s, a.ID, path)
			orgIDs = append(orgIDs, o.ID)
		}
		// Join in reverse order: the list is ordered by org id, not by
		// when the user joined.
		for i := len(orgIDs) - 1; i >= 0; i-- {
			if i != 1 {
				addMember(t, s, orgIDs[i], b.ID)
			}
		}
		member := []int64{orgIDs[0], orgIDs[2], orgIDs[3]}

		tests := []struct {
			name string
			page domain.Page
			want []int64
		}{
			{name: "first page", page: domain.Page{Limit: 2}, want: member[:2]},
			{name: "second page", page: domain.Page{Limit: 2, Offset: 2}, want: member[2:]},
			{name: "past the end", page: domain.Page{Limit: 2, Offset: 3}, want: []int64{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					orgs, total, err := tx.FindOrgsByMember(ctx, b.ID, tt.page)
					if err != nil {
						return err
					}
					equal(t, "org ids of "+label(tt.page), ids(orgs, func(o domain.Org) int64 { return o.ID }), tt.want)
					equal(t, "total", total, 3)
					return nil
				})
			})
		}

		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			orgs, total, err := tx.FindOrgsByMember(ctx, a.ID, domain.Page{Limit: 10})
			if err != nil {
				return err
			}
			equal(t, "orgs of non-member", len(orgs), 0)
			equal(t, "total of non-member", total, 0)
			n, err := tx.CountOrgsByAdmin(ctx, a.ID)
			if err != nil {
				return err
			}
			equal(t, "orgs of admin", n, 4)
			n, err = tx.CountOrgsByAdmin(ctx, b.ID)
			if err != nil {
				return err
			}
			equal(t, "orgs of non-admin", n, 0)
			return nil
		})
	})
}

func testMembers(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("add errors", func(t *testing.T) {
		tests := []struct {
			name    string
			member  func(orgID, userID int64) domain.Member
			wantErr error
		}{
			{
				name: "already a member",
				member: func(orgID, userID int64) domain.Member {
					return domain.Member{OrgID: orgID, UserID: userID, Role: domain.RoleAdmin}
				},
				wantErr: domain.ErrConflict,
			},
			{
				name:    "missing org",
				member:  func(orgID, userID int64) domain.Member { return domain.Member{OrgID: orgID + 50, UserID: userID} },
				wantErr: domain.ErrNotFound,
			},
			{
				name:    "missing user",
				member:  func(orgID, userID int64) domain.Member { return domain.Member{OrgID: orgID, UserID: userID + 50} },
				wantErr: domain.ErrNotFound,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				a := createUser(t, s, "ada@example.com")
				o := createOrg(t, s, a.ID, "acme")
				addMember(t, s, o.ID, a.ID)
				m := tt.member(o.ID, a.ID)
				m.JoinedAt = t0
				err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.AddMember(ctx, m) })
				wantErr(t, err, tt.wantErr)
			})
		}
	})

	t.Run("list with usernames", func(t *testing.T) {
		s := open(t)
		var users []domain.User
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
			users = append(users, createUser(t, s, email))
		}
		o := createOrg(t, s, users[0].ID, "acme")
		other := createOrg(t, s, users[0].ID, "other")
		// Join in reverse order: members are listed by user id.
		for i := len(users) - 1; i >= 1; i-- {
			addMember(t, s, o.ID, users[i].ID)
		}
		addMember(t, s, other.ID, users[0].ID)
		admin := domain.Member{OrgID: o.ID, UserID: users[0].ID, Role: domain.RoleAdmin, JoinedAt: t0}
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddMember(ctx, admin) })

		wantMember := func(u domain.User, role string) domain.Member {
			return domain.Member{OrgID: o.ID, UserID: u.ID, Username: u.Username, Role: role, JoinedAt: t0}
		}
		all := []domain.Member{
			wantMember(users[0], domain.RoleAdmin),
			wantMember(users[1], domain.RoleMember),
			wantMember(users[2], domain.RoleMember),
			wantMember(users[3], domain.RoleMember),
		}
		tests := []struct {
			name string
			page domain.Page
			want []domain.Member
		}{
			{name: "all", page: domain.Page{Limit: 10}, want: all},
			{name: "first page", page: domain.Page{Limit: 3}, want: all[:3]},
			{name: "second page", page: domain.Page{Limit: 3, Offset: 3}, want: all[3:]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					got, total, err := tx.FindMembers(ctx, o.ID, tt.page)
					if err != nil {
						return err
					}
					equal(t, "members of "+label(tt.page), got, tt.want)
					equal(t, "total", total, 4)
					return nil
				})
			})
		}

		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			m, err := tx.FindMember(ctx, o.ID, users[2].ID)
			if err != nil {
				return err
			}
			equal(t, "member", *m, all[2])
			n, err := tx.CountMembers(ctx, o.ID)
			if err != nil {
				return err
			}
			equal(t, "member count", n, 4)
			_, err = tx.FindMember(ctx, other.ID, users[2].ID)
			wantErr(t, err, domain.ErrNotFound)
			return nil
		})
	})
}

func testInstances(t *testing.T, open func(t *testing.T) storage.Store) {
	s := open(t)
	a := createUser(t, s, "ada@example.com")
	b := createUser(t, s, "bob@example.com")
	org := createOrg(t, s, a.ID, "acme")
	other := createOrg(t, s, b.ID, "other")
	a1 := createInstance(t, s, a.ID, 0, domain.StatusActive)
	a2 := createInstance(t, s, a.ID, org.ID, domain.StatusSleep)
	b1 := createInstance(t, s, b.ID, org.ID, domain.StatusActive)
	a3 := createInstance(t, s, a.ID, org.ID, domain.StatusActive)
	b2 := createInstance(t, s, b.ID, other.ID, domain.StatusDead)

	t.Run("ids start at 1", func(t *testing.T) {
		equal(t, "first instance id", a1.ID, int64(1))
	})

	t.Run("find by id", func(t *testing.T) {
		equal(t, "instance without org", findInstance(t, s, a.ID, a1.ID), a1)
		equal(t, "instance in org", findInstance(t, s, a.ID, a2.ID), a2)
		err := tryRead(s, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.FindInstanceByID(ctx, b.ID, a1.ID)
			return err
		})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name   string
			filter storage.InstanceFilter
			want   []int64
		}{
			{name: "user", filter: storage.InstanceFilter{UserID: a.ID}, want: []int64{a1.ID, a2.ID, a3.ID}},
			{name: "user and status", filter: storage.InstanceFilter{UserID: a.ID, Status: domain.StatusActive}, want: []int64{a1.ID, a3.ID}},
			{name: "user and org", filter: storage.InstanceFilter{UserID: a.ID, OrgID: org.ID}, want: []int64{a2.ID, a3.ID}},
			{name: "user, org and status", filter: storage.InstanceFilter{UserID: a.ID, OrgID: org.ID, Status: domain.StatusSleep}, want: []int64{a2.ID}},
			{name: "org", filter: storage.InstanceFilter{OrgID: org.ID}, want: []int64{a2.ID, b1.ID, a3.ID}},
			{name: "org and status", filter: storage.InstanceFilter{OrgID: org.ID, Status: domain.StatusActive}, want: []int64{b1.ID, a3.ID}},
			{name: "other user", filter: storage.InstanceFilter{UserID: b.ID}, want: []int64{b1.ID, b2.ID}},
			{name: "no match", filter: storage.InstanceFilter{UserID: a.ID, Status: domain.StatusDead}, want: []int64{}},
			{name: "everything", filter: storage.InstanceFilter{}, want: []int64{a1.ID, a2.ID, b1.ID, a3.ID, b2.ID}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					list, total, err := tx.FindInstances(ctx, tt.filter, domain.Page{Limit: 10})
					if err != nil {
						return err
					}
					equal(t, "listed ids", ids(list, func(in domain.Instance) int64 { return in.ID }), tt.want)
					equal(t, "total", total, len(tt.want))

					got, err := tx.FindInstanceIDs(ctx, tt.filter)
					if err != nil {
						return err
					}
					equal(t, "ids", got, tt.want)

					n, err := tx.CountInstances(ctx, tt.filter)
					if err != nil {
						return err
					}
					equal(t, "count", n, len(tt.want))
					return nil
				})
			})
		}
	})

	t.Run("pagination", func(t *testing.T) {
		tests := []struct {
			name string
			page domain.Page
			want []int64
		}{
			{name: "first page", page: domain.Page{Limit: 2}, want: []int64{a1.ID, a2.ID}},
			{name: "second page", page: domain.Page{Limit: 2, Offset: 2}, want: []int64{a3.ID}},
			{name: "past the end", page: domain.Page{Limit: 2, Offset: 3}, want: []int64{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				view(t, s, func(ctx context.Context, tx storage.Tx) error {
					list, total, err := tx.FindInstances(ctx, storage.InstanceFilter{UserID: a.ID}, tt.page)
					if err != nil {
						return err
					}
					equal(t, "ids of "+label(tt.page), ids(list, func(in domain.Instance) int64 { return in.ID }), tt.want)
					equal(t, "total", total, 3)
					return nil
				})
			})
		}
	})

	t.Run("missing references", func(t *testing.T) {
		tests := []struct {
			name     string
			instance domain.Instance
		}{
			{name: "missing org", instance: newInstance(a.ID, other.ID+10, domain.StatusActive)},
			{name: "missing user", instance: newInstance(b.ID+10, 0, domain.StatusActive)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := tt.instance
				err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInstance(ctx, &in) })
				wantErr(t, err, domain.ErrNotFound)
			})
		}
	})

	t.Run("set status ignores other users", func(t *testing.T) {
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.SetInstanceStatus(ctx, a.ID, []int64{a1.ID, b1.ID, 999}, domain.StatusDead)
		})
		equal(t, "own instance status", findInstance(t, s, a.ID, a1.ID).Status, domain.StatusDead)
		equal(t, "other user's status", findInstance(t, s, b.ID, b1.ID).Status, domain.StatusActive)
		equal(t, "unlisted status", findInstance(t, s, a.ID, a3.ID).Status, domain.StatusActive)
	})

	t.Run("delete ignores other users", func(t *testing.T) {
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.DeleteInstances(ctx, a.ID, []int64{a2.ID, b1.ID, 999})
		})
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.FindInstanceByID(ctx, a.ID, a2.ID)
			wantErr(t, err, domain.ErrNotFound)
			got, err := tx.FindInstanceIDs(ctx, storage.InstanceFilter{OrgID: org.ID})
			if err != nil {
				return err
			}
			equal(t, "instances left in org", got, []int64{b1.ID, a3.ID})
			return nil
		})
	})

	t.Run("ids are not reused after delete", func(t *testing.T) {
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.DeleteInstances(ctx, b.ID, []int64{b2.ID})
		})
		in := createInstance(t, s, b.ID, 0, domain.StatusActive)
		if in.ID <= b2.ID {
			t.Fatalf("instance id after delete = %d, want more than the deleted %d", in.ID, b2.ID)
		}
	})
}

func testActivities(t *testing.T, open func(t *testing.T) storage.Store) {
	s := open(t)
	a := createUser(t, s, "ada@example.com")
	b := createUser(t, s, "bob@example.com")
	var aIDs []int64
	for i := range 5 {
		act := domain.Activity{UserID: a.ID, Action: "login", Subject: "web", ClientIP: "127.0.0.1", CreatedAt: t0}
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddActivity(ctx, &act) })
		aIDs = append(aIDs, act.ID)
		if i == 2 {
			other := domain.Activity{UserID: b.ID, Action: "login", CreatedAt: t0}
			update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.AddActivity(ctx, &other) })
		}
	}
	equal(t, "first activity id", aIDs[0], int64(1))

	tests := []struct {
		name string
		page domain.Page
		want []int64
	}{
		{name: "newest first", page: domain.Page{Limit: 2}, want: []int64{aIDs[4], aIDs[3]}},
		{name: "middle page", page: domain.Page{Limit: 2, Offset: 2}, want: []int64{aIDs[2], aIDs[1]}},
		{name: "oldest last", page: domain.Page{Limit: 2, Offset: 4}, want: []int64{aIDs[0]}},
		{name: "past the end", page: domain.Page{Limit: 2, Offset: 5}, want: []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, total, err := tx.FindActivities(ctx, a.ID, tt.page)
				if err != nil {
					return err
				}
				equal(t, "ids of "+label(tt.page), ids(got, func(a domain.Activity) int64 { return a.ID }), tt.want)
				equal(t, "total", total, 5)
				return nil
			})
		})
	}

	t.Run("fields", func(t *testing.T) {
		view(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, _, err := tx.FindActivities(ctx, a.ID, domain.Page{Limit: 1})
			if err != nil {
				return err
			}
			want := domain.Activity{ID: aIDs[4], UserID: a.ID, Action: "login", Subject: "web", ClientIP: "127.0.0.1", CreatedAt: t0}
			equalActivities(t, "activity", got, []domain.Activity{want})
			return nil
		})
	})

	t.Run("missing user", func(t *testing.T) {
		act := domain.Activity{UserID: b.ID + 10, Action: "login", CreatedAt: t0}
		err := tryWrite(s, func(ctx context.Context, tx storage.Tx) error { return tx.AddActivity(ctx, &act) })
		wantErr(t, err, domain.ErrNotFound)
	})
}
