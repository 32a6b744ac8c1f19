package sharepanel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func orgActions() []*ActionSpec {
	orgID := Param{Name: "org_id", Type: TypeInt, Required: true, Min: 1, Description: "Organization ID"}
	fields := []Param{
		{Name: "title", Type: TypeString, MaxLen: domain.MaxTitleLen, Description: "Organization title"},
		{Name: "path", Type: TypeString, MaxLen: domain.MaxPathLen, Description: "URL path: lowercase letters, digits and single hyphens"},
		{Name: "contact", Type: TypeString, MaxLen: domain.MaxEmailLen, Description: "Contact email"},
	}
	return []*ActionSpec{
		{Mode: "orgs", Action: "list", List: true, Summary: "List the organizations the caller is a member of", run: (*call).listOrgs},
		{
			Mode: "orgs", Action: "new", Mutating: true, Additive: true, Params: fields,
			Summary: "Create an organization; the caller becomes its admin (title defaults to \"New Organization\", path to the title's slug)",
			run:     (*call).newOrg,
		},
		{Mode: "orgs", Action: "view", Params: []Param{orgID}, Summary: "Show an organization the caller is a member of", run: (*call).viewOrg},
		{
			Mode: "orgs", Action: "update", Mutating: true, Params: append([]Param{orgID}, fields...),
			Summary: "Change an organization's title, path or contact (admins only)",
			run:     (*call).updateOrg,
		},
		{
			Mode: "orgs", Action: "delete", Mutating: true, DryRun: true, Destructive: true, Params: []Param{orgID},
			Summary: "Delete an organization (admins only); its instances are kept and leave the org",
			run:     (*call).deleteOrg,
		},
		{Mode: "orgs", Action: "members", List: true, Params: []Param{orgID}, Summary: "List an organization's members", run: (*call).listMembers},
	}
}

// orgItem is one row of orgs list.
type orgItem struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Path      string `json:"path"`
	AdminID   int64  `json:"admin_id"`
	Contact   string `json:"contact"`
	CreatedBy int64  `json:"created_by"`
	CreatedAt string `json:"created_at"`
}

func newOrgItem(o *domain.Org) orgItem {
	return orgItem{ID: o.ID, Title: o.Title, Path: o.Path, AdminID: o.AdminID, Contact: o.Contact, CreatedBy: o.CreatedBy, CreatedAt: formatListTime(o.CreatedAt)}
}

func (c *call) listOrgs() (result, error) {
	orgs, total, err := c.tx.FindOrgsByMember(c.ctx, c.userID, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]orgItem, 0, len(orgs))
	for i := range orgs {
		rows = append(rows, newOrgItem(&orgs[i]))
	}
	return c.listResult(domain.MsgOrgsListed, rows, total), nil
}

// defaultOrgTitle is the title of an org created without one.
const defaultOrgTitle = "New Organization"

func (c *call) newOrg() (result, error) {
	n := domain.NewOrg{Title: defaultOrgTitle}
	if t := strings.TrimSpace(c.req.Params["title"]); t != "" {
		n.Title = t
	}
	n.Contact = strings.TrimSpace(c.req.Params["contact"])
	explicitPath := c.req.Params["path"]
	n.Path = explicitPath
	if n.Path == "" {
		n.Path = domain.Slug(n.Title)
	}
	if err := domain.Validate(n); err != nil {
		return result{}, err
	}

	plan, err := c.currentPlan()
	if err != nil {
		return result{}, err
	}
	owned, err := c.tx.CountOrgsByAdmin(c.ctx, c.userID)
	if err != nil {
		return result{}, err
	}
	if owned >= plan.OrgLimit {
		return result{}, &domain.Error{Code: domain.CodeLimitReached, Message: domain.MsgOrgLimitReached}
	}

	if explicitPath == "" {
		if n.Path, err = c.freePath(n.Path); err != nil {
			return result{}, err
		}
	}
	org := &domain.Org{Title: n.Title, Path: n.Path, AdminID: c.userID, Contact: n.Contact, CreatedBy: c.userID, CreatedAt: c.now}
	if err := c.tx.CreateOrg(c.ctx, org); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return result{}, &domain.Error{Code: domain.CodeConflict, Message: domain.MsgOrgPathTaken}
		}
		return result{}, err
	}
	if err := c.tx.AddMember(c.ctx, domain.Member{OrgID: org.ID, UserID: c.userID, Role: domain.RoleAdmin, JoinedAt: c.now}); err != nil {
		return result{}, err
	}
	if err := c.log("orgs.new", fmt.Sprintf("org %d", org.ID)); err != nil {
		return result{}, err
	}
	return result{message: domain.MsgOrgCreated, data: map[string]int64{"org_id": org.ID}}, nil
}

// freePath returns base, or base with the smallest free suffix -2, -3, ...
// One query finds every taken path of the chain, so the cost does not grow
// with a query per taken suffix. A suffix that would make the path longer
// than domain.MaxPathLen shortens the base instead, and such a candidate is
// checked on its own, since it belongs to another chain.
func (c *call) freePath(base string) (string, error) {
	paths, err := c.tx.FindOrgPaths(c.ctx, base)
	if err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(paths))
	for _, p := range paths {
		taken[p] = true
	}
	if !taken[base] {
		return base, nil
	}
	for i := 2; ; i++ {
		suffix := "-" + strconv.Itoa(i)
		stem := base
		if len(stem)+len(suffix) > domain.MaxPathLen {
			stem = strings.TrimRight(stem[:domain.MaxPathLen-len(suffix)], "-")
		}
		path := stem + suffix
		if stem == base {
			if !taken[path] {
				return path, nil
			}
			continue
		}
		other, err := c.tx.OrgPathTaken(c.ctx, path)
		if err != nil || !other {
			return path, err
		}
	}
}

// currentPlan reads the caller's plan from storage, so limits use the
// plan as of this transaction rather than the cached one.
func (c *call) currentPlan() (domain.Plan, error) {
	u, err := c.tx.FindUserByID(c.ctx, c.userID)
	if err != nil {
		return domain.Plan{}, err
	}
	return c.e.planOf(u.Plan), nil
}

// memberOrg returns the org named by org_id if the caller is a member. An
// org the caller cannot see is reported as not found, so its existence is
// not revealed.
func (c *call) memberOrg() (*domain.Org, *domain.Member, error) {
	id, err := c.idParam("org_id", domain.MsgOrgIDRequired)
	if err != nil {
		return nil, nil, err
	}
	notFound := &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgOrgNotFound}
	m, err := c.tx.FindMember(c.ctx, id, c.userID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	org, err := c.tx.FindOrgByID(c.ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil, notFound
	}
	return org, m, err
}

// orgView is the data of orgs view.
type orgView struct {
	ID            int64  `json:"id"`
	Title         string `json:"title"`
	MemberCount   int    `json:"member_count"`
	InstanceCount int    `json:"instance_count"`
	Path          string `json:"path"`
	AdminID       int64  `json:"admin_id"`
	Contact       string `json:"contact"`
	CreatedBy     int64  `json:"created_by"`
	CreatedAt     string `json:"created_at"`
	Role          string `json:"role"`
}

func (c *call) viewOrg() (result, error) {
	org, m, err := c.memberOrg()
	if err != nil {
		return result{}, err
	}
	members, err := c.tx.CountMembers(c.ctx, org.ID)
	if err != nil {
		return result{}, err
	}
	instances, err := c.tx.CountInstances(c.ctx, storage.InstanceFilter{OrgID: org.ID})
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgOrgViewed, data: orgView{
		ID: org.ID, Title: org.Title, MemberCount: members, InstanceCount: instances,
		Path: org.Path, AdminID: org.AdminID, Contact: org.Contact, CreatedBy: org.CreatedBy,
		CreatedAt: formatListTime(org.CreatedAt), Role: m.Role,
	}}, nil
}

// isOrgAdmin reports whether a member may update and delete the org: its
// admin (the creator, unless changed) or a member added with role admin.
func (c *call) isOrgAdmin(org *domain.Org, m *domain.Member) bool {
	return org.AdminID == c.userID || m.Role == domain.RoleAdmin
}

func (c *call) updateOrg() (result, error) {
	org, m, err := c.memberOrg()
	if err != nil {
		return result{}, err
	}
	if !c.isOrgAdmin(org, m) {
		return result{}, &domain.Error{Code: domain.CodePermissionDenied, Message: domain.MsgOrgUpdateDenied}
	}

	upd := domain.OrgUpdate{Title: c.optString("title"), Path: c.optString("path"), Contact: c.optString("contact")}
	if upd.Title == nil && upd.Path == nil && upd.Contact == nil {
		return result{}, domain.Errorf(domain.CodeMissingParameter, "No organization fields to update: give title, path or contact")
	}

	// Validate the org as it will be after the update.
	next := domain.NewOrg{Title: org.Title, Path: org.Path, Contact: org.Contact}
	if upd.Title != nil {
		title := strings.TrimSpace(*upd.Title)
		upd.Title, next.Title = &title, title
	}
	if upd.Path != nil {
		next.Path = *upd.Path
	}
	if upd.Contact != nil {
		contact := strings.TrimSpace(*upd.Contact)
		upd.Contact, next.Contact = &contact, contact
	}
	if err := domain.Validate(next); err != nil {
		return result{}, err
	}

	if err := c.tx.UpdateOrg(c.ctx, org.ID, upd); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return result{}, &domain.Error{Code: domain.CodeConflict, Message: domain.MsgOrgPathTaken}
		}
		return result{}, err
	}
	if err := c.log("orgs.update", fmt.Sprintf("org %d", org.ID)); err != nil {
		return result{}, err
	}
	return result{message: domain.MsgOrgUpdated, data: map[string]int64{"org_id": org.ID}}, nil
}

func (c *call) deleteOrg() (result, error) {
	org, m, err := c.memberOrg()
	if err != nil {
		return result{}, err
	}
	if !c.isOrgAdmin(org, m) {
		return result{}, &domain.Error{Code: domain.CodePermissionDenied, Message: domain.MsgOrgDeleteDenied}
	}
	ids := []int64{org.ID}
	if c.dryRun {
		return result{message: domain.MsgOrgWouldDelete, data: ids}, nil
	}
	if err := c.tx.DeleteOrg(c.ctx, org.ID); err != nil {
		return result{}, err
	}
	if err := c.log("orgs.delete", fmt.Sprintf("org %d", org.ID)); err != nil {
		return result{}, err
	}
	return result{message: domain.MsgOrgDeleted, data: ids}, nil
}

// memberItem is one row of orgs members.
type memberItem struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Role     string `json:"role"`
	JoinedAt string `json:"joined_at"`
}

func (c *call) listMembers() (result, error) {
	org, _, err := c.memberOrg()
	if err != nil {
		return result{}, err
	}
	members, total, err := c.tx.FindMembers(c.ctx, org.ID, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]memberItem, 0, len(members))
	for _, m := range members {
		rows = append(rows, memberItem{UserID: m.UserID, Username: m.Username, Role: m.Role, JoinedAt: formatListTime(m.JoinedAt)})
	}
	return c.listResult(domain.MsgMembersListed, rows, total), nil
}
