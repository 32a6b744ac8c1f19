package sharepanel

import (
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// statsTypes are the values of the type parameter of mode stats, which
// transports pass as the action.
var statsTypes = []string{"overview", "instances", "organizations"}

func statsActions() []*ActionSpec {
	return []*ActionSpec{
		{Mode: "stats", Action: "overview", Summary: "Count the caller's orgs, instances, invoices, notifications and keys", run: (*call).statsOverview},
		{Mode: "stats", Action: "instances", Summary: "Count the caller's instances per status and per type", run: (*call).statsInstances},
		{Mode: "stats", Action: "organizations", Summary: "Count the caller's organizations and how many more the plan allows", run: (*call).statsOrgs},
	}
}

// summary holds the counts that profile stats, analytics overview and
// stats share, read in one transaction so they agree with each other.
type summary struct {
	balance      domain.Money
	orgs         int
	administered int
	instances    int
	byStatus     map[string]int
	byType       map[string]int
	invoices     int
	unread       int
	keys         int
}

func (c *call) accountSummary() (*summary, error) {
	u, err := c.tx.FindUserByID(c.ctx, c.userID)
	if err != nil {
		return nil, err
	}

	s := &summary{balance: u.Balance, byStatus: map[string]int{}, byType: map[string]int{}}
	if _, s.orgs, err = c.tx.FindOrgsByMember(c.ctx, c.userID, domain.Page{Limit: 1}); err != nil {
		return nil, err
	}
	if s.administered, err = c.tx.CountOrgsByAdmin(c.ctx, c.userID); err != nil {
		return nil, err
	}

	groups, err := c.tx.CountInstanceGroups(c.ctx, c.userID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		s.instances += g.Count
		s.byStatus[g.Status] += g.Count
		s.byType[g.Type] += g.Count
	}

	if s.invoices, err = c.tx.CountInvoices(c.ctx, storage.InvoiceFilter{UserID: c.userID}); err != nil {
		return nil, err
	}
	if s.unread, err = c.tx.CountNotifications(c.ctx, storage.NotificationFilter{UserID: c.userID, UnreadOnly: true}); err != nil {
		return nil, err
	}
	if _, s.keys, err = c.tx.FindAPIKeys(c.ctx, c.userID, domain.Page{Limit: 1}); err != nil {
		return nil, err
	}
	return s, nil
}

// statsOverview is the data of stats type=overview.
type statsOverview struct {
	OrgCount            int          `json:"org_count"`
	InstanceCount       int          `json:"instance_count"`
	ActiveInstances     int          `json:"active_instances"`
	SleepingInstances   int          `json:"sleeping_instances"`
	DeadInstances       int          `json:"dead_instances"`
	InvoiceCount        int          `json:"invoice_count"`
	UnreadNotifications int          `json:"unread_notifications"`
	APIKeyCount         int          `json:"api_key_count"`
	Balance             domain.Money `json:"balance"`
}

func (c *call) statsOverview() (result, error) {
	s, err := c.accountSummary()
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgStatsRetrieved, data: statsOverview{
		OrgCount: s.orgs, InstanceCount: s.instances,
		ActiveInstances: s.byStatus[domain.StatusActive], SleepingInstances: s.byStatus[domain.StatusSleep], DeadInstances: s.byStatus[domain.StatusDead],
		InvoiceCount: s.invoices, UnreadNotifications: s.unread, APIKeyCount: s.keys, Balance: s.balance,
	}}, nil
}

// statsInstances is the data of stats type=instances. ByStatus always has
// the three statuses; ByType has the types in use.
type statsInstances struct {
	Total         int            `json:"total"`
	ByStatus      map[string]int `json:"by_status"`
	ByType        map[string]int `json:"by_type"`
	InstanceLimit int            `json:"instance_limit"`
}

func (c *call) statsInstances() (result, error) {
	groups, err := c.tx.CountInstanceGroups(c.ctx, c.userID)
	if err != nil {
		return result{}, err
	}
	out := statsInstances{
		ByStatus:      map[string]int{domain.StatusActive: 0, domain.StatusSleep: 0, domain.StatusDead: 0},
		ByType:        map[string]int{},
		InstanceLimit: c.plan.InstanceLimit,
	}
	for _, g := range groups {
		out.Total += g.Count
		out.ByStatus[g.Status] += g.Count
		out.ByType[g.Type] += g.Count
	}
	return result{message: domain.MsgStatsRetrieved, data: out}, nil
}

// statsOrgs is the data of stats type=organizations. Total counts the
// orgs the caller is a member of; the plan's limit counts only the
// administered ones.
type statsOrgs struct {
	Total        int `json:"total"`
	Administered int `json:"administered"`
	MemberOnly   int `json:"member_only"`
	OrgLimit     int `json:"org_limit"`
	Remaining    int `json:"remaining"`
}

func (c *call) statsOrgs() (result, error) {
	_, total, err := c.tx.FindOrgsByMember(c.ctx, c.userID, domain.Page{Limit: 1})
	if err != nil {
		return result{}, err
	}
	admin, err := c.tx.CountOrgsByAdmin(c.ctx, c.userID)
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgStatsRetrieved, data: statsOrgs{
		Total: total, Administered: admin, MemberOnly: total - admin,
		OrgLimit: c.plan.OrgLimit, Remaining: max(c.plan.OrgLimit-admin, 0),
	}}, nil
}
