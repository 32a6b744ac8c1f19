package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// CreateOrg inserts o and sets o.ID. It returns domain.ErrConflict if the
// path is taken and domain.ErrNotFound if the admin or the creator does not
// exist.
func (t *Tx) CreateOrg(_ context.Context, o *domain.Org) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create org %q: %w", o.Path, err)
	}
	if d.orgByPath.has(o.Path) {
		return fmt.Errorf("create org %q: %w", o.Path, domain.ErrConflict)
	}
	if !d.users.has(o.AdminID) || !d.users.has(o.CreatedBy) {
		return fmt.Errorf("create org %q: %w", o.Path, domain.ErrNotFound)
	}

	d.lastOrgID++
	stored := *o
	stored.ID = d.lastOrgID
	stored.CreatedAt = utc(o.CreatedAt)
	d.orgs.set(stored.ID, stored)
	d.orgByPath.set(stored.Path, stored.ID)
	d.orgsByAdmin.set(pair{stored.AdminID, stored.ID}, struct{}{})
	o.ID = stored.ID
	return nil
}

// FindOrgByID returns the org, or domain.ErrNotFound.
func (t *Tx) FindOrgByID(_ context.Context, id int64) (*domain.Org, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find org %d: %w", id, err)
	}
	o, ok := d.orgs.get(id)
	if !ok {
		return nil, fmt.Errorf("find org %d: %w", id, domain.ErrNotFound)
	}
	return &o, nil
}

// OrgPathTaken reports whether an org has the path, compared exactly.
func (t *Tx) OrgPathTaken(_ context.Context, path string) (bool, error) {
	d, err := t.read()
	if err != nil {
		return false, fmt.Errorf("check org path %q: %w", path, err)
	}
	return d.orgByPath.has(path), nil
}

// FindOrgPaths returns the paths equal to base or starting with base and a
// hyphen, in ascending order.
func (t *Tx) FindOrgPaths(_ context.Context, base string) ([]string, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find org paths like %q: %w", base, err)
	}
	paths := []string{}
	// Every match sorts in [base, base+"."), because '.' follows '-'.
	end := base + "."
	for path := range d.orgByPath.ascend(base) {
		if path >= end {
			break
		}
		if path == base || strings.HasPrefix(path, base+"-") {
			paths = append(paths, path)
		}
	}
	return paths, nil
}

// UpdateOrg sets the non-nil fields of u. It returns domain.ErrConflict if
// another org has the new path and domain.ErrNotFound if there is no such
// org.
func (t *Tx) UpdateOrg(_ context.Context, id int64, u domain.OrgUpdate) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("update org %d: %w", id, err)
	}
	o, ok := d.orgs.get(id)
	if !ok {
		return fmt.Errorf("update org %d: %w", id, domain.ErrNotFound)
	}
	if u.Path != nil && *u.Path != o.Path {
		if d.orgByPath.has(*u.Path) {
			return fmt.Errorf("update org %d: %w", id, domain.ErrConflict)
		}
		d.orgByPath.delete(o.Path)
		d.orgByPath.set(*u.Path, id)
		o.Path = *u.Path
	}
	setIfGiven(&o.Title, u.Title)
	setIfGiven(&o.Contact, u.Contact)
	d.orgs.set(id, o)
	return nil
}

// DeleteOrg removes the org and its memberships and sets its instances'
// OrgID to 0. It returns domain.ErrNotFound if there is no such org.
func (t *Tx) DeleteOrg(_ context.Context, id int64) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("delete org %d: %w", id, err)
	}
	o, ok := d.orgs.get(id)
	if !ok {
		return fmt.Errorf("delete org %d: %w", id, domain.ErrNotFound)
	}

	d.orgs.delete(id)
	d.orgByPath.delete(o.Path)
	d.orgsByAdmin.delete(pair{o.AdminID, id})

	// Ranging while deleting is safe: a range walks the root it started
	// from, and writes never change existing nodes.
	for k := range d.members.ascend(pair{id, minID}) {
		if k.a != id {
			break
		}
		d.members.delete(k)
		d.orgsByMember.delete(pair{k.b, id})
	}
	for k := range d.instByOrg.ascend(pair{id, minID}) {
		if k.a != id {
			break
		}
		d.instByOrg.delete(k)
		in, _ := d.instances.get(k.b)
		in.OrgID = 0
		d.instances.set(in.ID, in)
	}
	return nil
}

// FindOrgsByMember lists the orgs userID is a member of by id and returns
// how many there are.
func (t *Tx) FindOrgsByMember(_ context.Context, userID int64, p domain.Page) ([]domain.Org, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find orgs of user %d: %w", userID, err)
	}
	ids := idsWithPrefix(&d.orgsByMember, userID)
	orgs := []domain.Org{}
	for _, id := range page(ids, p) {
		o, _ := d.orgs.get(id)
		orgs = append(orgs, o)
	}
	return orgs, len(ids), nil
}

// CountOrgsByAdmin returns the number of orgs whose admin is userID.
func (t *Tx) CountOrgsByAdmin(_ context.Context, userID int64) (int, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("count orgs of admin %d: %w", userID, err)
	}
	return len(idsWithPrefix(&d.orgsByAdmin, userID)), nil
}

// AddMember inserts a membership and ignores m.Username. It returns
// domain.ErrConflict if the user already is a member and
// domain.ErrNotFound if the org or the user does not exist.
func (t *Tx) AddMember(_ context.Context, m domain.Member) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("add user %d to org %d: %w", m.UserID, m.OrgID, err)
	}
	key := pair{m.OrgID, m.UserID}
	if d.members.has(key) {
		return fmt.Errorf("add user %d to org %d: %w", m.UserID, m.OrgID, domain.ErrConflict)
	}
	if !d.orgs.has(m.OrgID) || !d.users.has(m.UserID) {
		return fmt.Errorf("add user %d to org %d: %w", m.UserID, m.OrgID, domain.ErrNotFound)
	}
	d.members.set(key, member{role: m.Role, joinedAt: utc(m.JoinedAt)})
	d.orgsByMember.set(pair{m.UserID, m.OrgID}, struct{}{})
	return nil
}

// FindMember returns userID's membership of orgID with the user's name, or
// domain.ErrNotFound.
func (t *Tx) FindMember(_ context.Context, orgID, userID int64) (*domain.Member, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find member %d of org %d: %w", userID, orgID, err)
	}
	m, ok := d.members.get(pair{orgID, userID})
	if !ok {
		return nil, fmt.Errorf("find member %d of org %d: %w", userID, orgID, domain.ErrNotFound)
	}
	out := d.member(orgID, userID, m)
	return &out, nil
}

// member returns the domain form of a stored membership.
func (d *data) member(orgID, userID int64, m member) domain.Member {
	u, _ := d.users.get(userID)
	return domain.Member{OrgID: orgID, UserID: userID, Username: u.Username, Role: m.role, JoinedAt: m.joinedAt}
}

// FindMembers lists an org's members by user id with their names and
// returns how many there are.
func (t *Tx) FindMembers(_ context.Context, orgID int64, p domain.Page) ([]domain.Member, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find members of org %d: %w", orgID, err)
	}
	var keys []pair
	for k := range d.members.ascend(pair{orgID, minID}) {
		if k.a != orgID {
			break
		}
		keys = append(keys, k)
	}
	members := []domain.Member{}
	for _, k := range page(keys, p) {
		m, _ := d.members.get(k)
		members = append(members, d.member(orgID, k.b, m))
	}
	return members, len(keys), nil
}

// CountMembers returns the number of an org's members.
func (t *Tx) CountMembers(_ context.Context, orgID int64) (int, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("count members of org %d: %w", orgID, err)
	}
	n := 0
	for k := range d.members.ascend(pair{orgID, minID}) {
		if k.a != orgID {
			break
		}
		n++
	}
	return n, nil
}

// CreateInstance inserts in and sets in.ID. It returns domain.ErrNotFound
// if the user, or the org when OrgID is not 0, does not exist.
func (t *Tx) CreateInstance(_ context.Context, in *domain.Instance) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create instance %q of user %d: %w", in.Name, in.UserID, err)
	}
	if !d.users.has(in.UserID) || (in.OrgID != 0 && !d.orgs.has(in.OrgID)) {
		return fmt.Errorf("create instance %q of user %d: %w", in.Name, in.UserID, domain.ErrNotFound)
	}

	d.lastInstanceID++
	stored := *in
	stored.ID = d.lastInstanceID
	stored.CreatedAt = utc(in.CreatedAt)
	d.instances.set(stored.ID, stored)
	d.instByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	if stored.OrgID != 0 {
		d.instByOrg.set(pair{stored.OrgID, stored.ID}, struct{}{})
	}
	in.ID = stored.ID
	return nil
}

// FindInstanceByID returns the instance if userID owns it, or
// domain.ErrNotFound.
func (t *Tx) FindInstanceByID(_ context.Context, userID, id int64) (*domain.Instance, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find instance %d of user %d: %w", id, userID, err)
	}
	in, ok := d.instances.get(id)
	if !ok || in.UserID != userID {
		return nil, fmt.Errorf("find instance %d of user %d: %w", id, userID, domain.ErrNotFound)
	}
	return &in, nil
}

// matchInstances returns the ids of the instances that match f, ascending.
// It walks the user's or the org's index when f sets one.
func (d *data) matchInstances(f storage.InstanceFilter) []int64 {
	var candidates []int64
	switch {
	case f.UserID != 0:
		candidates = idsWithPrefix(&d.instByUser, f.UserID)
	case f.OrgID != 0:
		candidates = idsWithPrefix(&d.instByOrg, f.OrgID)
	default:
		for id := range d.instances.all() {
			candidates = append(candidates, id)
		}
	}

	ids := []int64{}
	for _, id := range candidates {
		in, _ := d.instances.get(id)
		if f.OrgID != 0 && in.OrgID != f.OrgID {
			continue
		}
		if f.Status != "" && in.Status != f.Status {
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// FindInstances lists the instances that match f by id and returns how
// many match.
func (t *Tx) FindInstances(_ context.Context, f storage.InstanceFilter, p domain.Page) ([]domain.Instance, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find instances %+v: %w", f, err)
	}
	ids := d.matchInstances(f)
	instances := []domain.Instance{}
	for _, id := range page(ids, p) {
		in, _ := d.instances.get(id)
		instances = append(instances, in)
	}
	return instances, len(ids), nil
}

// FindInstanceIDs returns the ids of the instances that match f,
// ascending.
func (t *Tx) FindInstanceIDs(_ context.Context, f storage.InstanceFilter) ([]int64, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find instance ids %+v: %w", f, err)
	}
	return d.matchInstances(f), nil
}

// CountInstances returns the number of instances that match f.
func (t *Tx) CountInstances(_ context.Context, f storage.InstanceFilter) (int, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("count instances %+v: %w", f, err)
	}
	return len(d.matchInstances(f)), nil
}

// SetInstanceStatus sets the status of the listed instances that userID
// owns and ignores the other ids.
func (t *Tx) SetInstanceStatus(_ context.Context, userID int64, ids []int64, status string) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("set status of instances of user %d: %w", userID, err)
	}
	for _, id := range ids {
		in, ok := d.instances.get(id)
		if !ok || in.UserID != userID {
			continue
		}
		in.Status = status
		d.instances.set(id, in)
	}
	return nil
}

// DeleteInstances removes the listed instances that userID owns and
// ignores the other ids.
func (t *Tx) DeleteInstances(_ context.Context, userID int64, ids []int64) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("delete instances of user %d: %w", userID, err)
	}
	for _, id := range ids {
		in, ok := d.instances.get(id)
		if !ok || in.UserID != userID {
			continue
		}
		d.instances.delete(id)
		d.instByUser.delete(pair{in.UserID, id})
		if in.OrgID != 0 {
			d.instByOrg.delete(pair{in.OrgID, id})
		}
	}
	return nil
}

// CountInstanceGroups counts userID's instances per status and type, one
// row per pair that has instances, ordered by status, then type, as
// strings compare bytewise.
func (t *Tx) CountInstanceGroups(_ context.Context, userID int64) ([]storage.InstanceGroup, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("count instance groups of user %d: %w", userID, err)
	}
	type group struct{ status, typ string }
	counts := map[group]int{}
	for _, id := range idsWithPrefix(&d.instByUser, userID) {
		in, _ := d.instances.get(id)
		counts[group{in.Status, in.Type}]++
	}

	groups := make([]storage.InstanceGroup, 0, len(counts))
	for g, n := range counts {
		groups = append(groups, storage.InstanceGroup{Status: g.status, Type: g.typ, Count: n})
	}
	slices.SortFunc(groups, func(a, b storage.InstanceGroup) int {
		return cmp.Or(strings.Compare(a.Status, b.Status), strings.Compare(a.Type, b.Type))
	})
	return groups, nil
}
