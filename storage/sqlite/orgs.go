package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// CreateOrg inserts o and sets o.ID. It returns domain.ErrConflict if the
// path is taken and domain.ErrNotFound if the admin or the creator does not
// exist.
func (t *Tx) CreateOrg(ctx context.Context, o *domain.Org) error {
	id, err := t.insert(ctx, qCreateOrg, o.Title, o.Path, o.AdminID, o.Contact, o.CreatedBy, micros(o.CreatedAt))
	if err != nil {
		return fmt.Errorf("create org %q: %w", o.Path, err)
	}
	o.ID = id
	return nil
}

// FindOrgByID returns the org, or domain.ErrNotFound.
func (t *Tx) FindOrgByID(ctx context.Context, id int64) (*domain.Org, error) {
	o, err := scanOrg(t.stmt(ctx, qFindOrgByID).QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("find org %d: %w", id, err)
	}
	return o, nil
}

func scanOrg(row rowScanner) (*domain.Org, error) {
	var (
		o         domain.Org
		createdAt int64
	)
	if err := row.Scan(&o.ID, &o.Title, &o.Path, &o.AdminID, &o.Contact, &o.CreatedBy, &createdAt); err != nil {
		return nil, mapError(err)
	}
	o.CreatedAt = fromMicros(createdAt)
	return &o, nil
}

// OrgPathTaken reports whether an org has the path, compared exactly.
func (t *Tx) OrgPathTaken(ctx context.Context, path string) (bool, error) {
	var taken bool
	if err := t.stmt(ctx, qOrgPathTaken).QueryRowContext(ctx, path).Scan(&taken); err != nil {
		return false, fmt.Errorf("check org path %q: %w", path, mapError(err))
	}
	return taken, nil
}

// FindOrgPaths returns the paths equal to base or starting with base and a
// hyphen, in ascending order.
func (t *Tx) FindOrgPaths(ctx context.Context, base string) ([]string, error) {
	rows, err := t.stmt(ctx, qFindOrgPaths).QueryContext(ctx, base, base+"-", base+".")
	if err != nil {
		return nil, fmt.Errorf("find org paths like %q: %w", base, mapError(err))
	}
	defer rows.Close()
	paths := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("find org paths like %q: %w", base, mapError(err))
		}
		paths = append(paths, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find org paths like %q: %w", base, mapError(err))
	}
	return paths, nil
}

// UpdateOrg sets the non-nil fields of u. It returns domain.ErrConflict if
// another org has the new path and domain.ErrNotFound if there is no such
// org.
func (t *Tx) UpdateOrg(ctx context.Context, id int64, u domain.OrgUpdate) error {
	n, err := t.exec(ctx, qUpdateOrg, u.Title, u.Path, u.Contact, id)
	if err != nil {
		return fmt.Errorf("update org %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("update org %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// DeleteOrg removes the org. The foreign keys delete its memberships and
// set its instances' org_id to NULL. It returns domain.ErrNotFound if there
// is no such org.
func (t *Tx) DeleteOrg(ctx context.Context, id int64) error {
	n, err := t.exec(ctx, qDeleteOrg, id)
	if err != nil {
		return fmt.Errorf("delete org %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete org %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// FindOrgsByMember lists the orgs userID is a member of by id and returns
// how many there are.
func (t *Tx) FindOrgsByMember(ctx context.Context, userID int64, p domain.Page) ([]domain.Org, int, error) {
	rows, err := t.stmt(ctx, qFindOrgsByMember).QueryContext(ctx, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find orgs of user %d: %w", userID, mapError(err))
	}
	defer rows.Close()
	orgs := []domain.Org{}
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find orgs of user %d: %w", userID, err)
		}
		orgs = append(orgs, *o)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find orgs of user %d: %w", userID, mapError(err))
	}
	total, err := pageTotal(p, len(orgs), func() (int, error) { return t.count(ctx, qCountOrgsByMember, userID) })
	if err != nil {
		return nil, 0, fmt.Errorf("count orgs of user %d: %w", userID, err)
	}
	return orgs, total, nil
}

// CountOrgsByAdmin returns the number of orgs whose admin is userID.
func (t *Tx) CountOrgsByAdmin(ctx context.Context, userID int64) (int, error) {
	n, err := t.count(ctx, qCountOrgsByAdmin, userID)
	if err != nil {
		return 0, fmt.Errorf("count orgs of admin %d: %w", userID, err)
	}
	return n, nil
}

// AddMember inserts a membership and ignores m.Username. It returns
// domain.ErrConflict if the user already is a member and
// domain.ErrNotFound if the org or the user does not exist.
func (t *Tx) AddMember(ctx context.Context, m domain.Member) error {
	if _, err := t.exec(ctx, qAddMember, m.OrgID, m.UserID, m.Role, micros(m.JoinedAt)); err != nil {
		return fmt.Errorf("add user %d to org %d: %w", m.UserID, m.OrgID, err)
	}
	return nil
}

// FindMember returns userID's membership of orgID with the user's name, or
// domain.ErrNotFound.
func (t *Tx) FindMember(ctx context.Context, orgID, userID int64) (*domain.Member, error) {
	m, err := scanMember(t.stmt(ctx, qFindMember).QueryRowContext(ctx, orgID, userID))
	if err != nil {
		return nil, fmt.Errorf("find member %d of org %d: %w", userID, orgID, err)
	}
	return m, nil
}

// FindMembers lists an org's members by user id with their names and
// returns how many there are.
func (t *Tx) FindMembers(ctx context.Context, orgID int64, p domain.Page) ([]domain.Member, int, error) {
	rows, err := t.stmt(ctx, qFindMembers).QueryContext(ctx, orgID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find members of org %d: %w", orgID, mapError(err))
	}
	defer rows.Close()
	members := []domain.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find members of org %d: %w", orgID, err)
		}
		members = append(members, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find members of org %d: %w", orgID, mapError(err))
	}
	total, err := pageTotal(p, len(members), func() (int, error) { return t.count(ctx, qCountMembers, orgID) })
	if err != nil {
		return nil, 0, fmt.Errorf("count members of org %d: %w", orgID, err)
	}
	return members, total, nil
}

func scanMember(row rowScanner) (*domain.Member, error) {
	var (
		m        domain.Member
		joinedAt int64
	)
	if err := row.Scan(&m.OrgID, &m.UserID, &m.Username, &m.Role, &joinedAt); err != nil {
		return nil, mapError(err)
	}
	m.JoinedAt = fromMicros(joinedAt)
	return &m, nil
}

// CountMembers returns the number of an org's members.
func (t *Tx) CountMembers(ctx context.Context, orgID int64) (int, error) {
	n, err := t.count(ctx, qCountMembers, orgID)
	if err != nil {
		return 0, fmt.Errorf("count members of org %d: %w", orgID, err)
	}
	return n, nil
}

// CreateInstance inserts in and sets in.ID. It returns domain.ErrNotFound
// if the user, or the org when OrgID is not 0, does not exist.
func (t *Tx) CreateInstance(ctx context.Context, in *domain.Instance) error {
	id, err := t.insert(ctx, qCreateInstance,
		in.UserID, nullID(in.OrgID), in.Name, in.Path, in.Status, in.InstanceType, in.Type, micros(in.CreatedAt))
	if err != nil {
		return fmt.Errorf("create instance %q of user %d: %w", in.Name, in.UserID, err)
	}
	in.ID = id
	return nil
}

// FindInstanceByID returns the instance if userID owns it, or
// domain.ErrNotFound.
func (t *Tx) FindInstanceByID(ctx context.Context, userID, id int64) (*domain.Instance, error) {
	in, err := scanInstance(t.stmt(ctx, qFindInstanceByID).QueryRowContext(ctx, id, userID))
	if err != nil {
		return nil, fmt.Errorf("find instance %d of user %d: %w", id, userID, err)
	}
	return in, nil
}

// FindInstances lists the instances that match f by id and returns how
// many match.
func (t *Tx) FindInstances(ctx context.Context, f storage.InstanceFilter, p domain.Page) ([]domain.Instance, int, error) {
	args := append(instanceArgs(f), p.Limit, p.Offset)
	rows, err := t.stmt(ctx, instanceQuery(instanceSelect, f)).QueryContext(ctx, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find instances %+v: %w", f, mapError(err))
	}
	defer rows.Close()
	instances := []domain.Instance{}
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find instances %+v: %w", f, err)
		}
		instances = append(instances, *in)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find instances %+v: %w", f, mapError(err))
	}
	total, err := pageTotal(p, len(instances), func() (int, error) { return t.CountInstances(ctx, f) })
	if err != nil {
		return nil, 0, err
	}
	return instances, total, nil
}

// FindInstanceIDs returns the ids of the instances that match f,
// ascending.
func (t *Tx) FindInstanceIDs(ctx context.Context, f storage.InstanceFilter) ([]int64, error) {
	rows, err := t.stmt(ctx, instanceQuery(instanceIDs, f)).QueryContext(ctx, instanceArgs(f)...)
	if err != nil {
		return nil, fmt.Errorf("find instance ids %+v: %w", f, mapError(err))
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find instance ids %+v: %w", f, mapError(err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find instance ids %+v: %w", f, mapError(err))
	}
	return ids, nil
}

// CountInstances returns the number of instances that match f.
func (t *Tx) CountInstances(ctx context.Context, f storage.InstanceFilter) (int, error) {
	n, err := t.count(ctx, instanceQuery(instanceCount, f), instanceArgs(f)...)
	if err != nil {
		return 0, fmt.Errorf("count instances %+v: %w", f, err)
	}
	return n, nil
}

func scanInstance(row rowScanner) (*domain.Instance, error) {
	var (
		in        domain.Instance
		orgID     sql.NullInt64
		createdAt int64
	)
	err := row.Scan(&in.ID, &in.UserID, &orgID, &in.Name, &in.Path, &in.Status, &in.InstanceType, &in.Type, &createdAt)
	if err != nil {
		return nil, mapError(err)
	}
	in.OrgID = orgID.Int64
	in.CreatedAt = fromMicros(createdAt)
	return &in, nil
}

// SetInstanceStatus sets the status of the listed instances that userID
// owns and ignores the other ids.
func (t *Tx) SetInstanceStatus(ctx context.Context, userID int64, ids []int64, status string) error {
	if len(ids) == 0 {
		return nil
	}
	stmt := t.stmt(ctx, qSetInstanceStatus)
	for _, id := range ids {
		if _, err := stmt.ExecContext(ctx, status, id, userID); err != nil {
			return fmt.Errorf("set status of instance %d of user %d: %w", id, userID, mapError(err))
		}
	}
	return nil
}

// DeleteInstances removes the listed instances that userID owns and
// ignores the other ids.
func (t *Tx) DeleteInstances(ctx context.Context, userID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	stmt := t.stmt(ctx, qDeleteInstance)
	for _, id := range ids {
		if _, err := stmt.ExecContext(ctx, id, userID); err != nil {
			return fmt.Errorf("delete instance %d of user %d: %w", id, userID, mapError(err))
		}
	}
	return nil
}

// CountInstanceGroups counts userID's instances per status and type, one
// row per pair that has instances, ordered by status, then type.
func (t *Tx) CountInstanceGroups(ctx context.Context, userID int64) ([]storage.InstanceGroup, error) {
	rows, err := t.stmt(ctx, qCountInstanceGroups).QueryContext(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("count instance groups of user %d: %w", userID, mapError(err))
	}
	defer rows.Close()
	groups := []storage.InstanceGroup{}
	for rows.Next() {
		var g storage.InstanceGroup
		if err := rows.Scan(&g.Status, &g.Type, &g.Count); err != nil {
			return nil, fmt.Errorf("count instance groups of user %d: %w", userID, mapError(err))
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count instance groups of user %d: %w", userID, mapError(err))
	}
	return groups, nil
}
