package sharepanel

import (
	"time"

	"github.com/sharepanel/sharepanel/domain"
)

func profileActions() []*ActionSpec {
	return []*ActionSpec{
		{Mode: "profile", Action: "view", Summary: "Show the caller's profile", run: (*call).viewProfile},
		{
			Mode: "profile", Action: "update", Mutating: true,
			Summary: "Change profile fields; at least one is required",
			Params: []Param{
				{Name: "bio", Type: TypeString, MaxLen: 1000, Description: "Short biography"},
				{Name: "pfp", Type: TypeString, MaxLen: 2048, Description: "Profile picture URL (http or https)"},
				{Name: "first_name", Type: TypeString, MaxLen: domain.MaxNameLen, Description: "First name"},
				{Name: "last_name", Type: TypeString, MaxLen: domain.MaxNameLen, Description: "Last name"},
				{Name: "phone", Type: TypeString, MaxLen: 32, Description: "Phone number: digits, spaces, +, -, ( and )"},
				{Name: "address", Type: TypeString, MaxLen: 500, Description: "Postal address"},
			},
			run: (*call).updateProfile,
		},
		{Mode: "profile", Action: "stats", Summary: "Count the caller's orgs, instances and invoices", run: (*call).profileStats},
	}
}

// profileView is the data of profile view, in the reference's field order.
type profileView struct {
	ID            int64        `json:"id"`
	Username      string       `json:"username"`
	Email         string       `json:"email"`
	Bio           string       `json:"bio"`
	PFP           string       `json:"pfp"`
	Plan          string       `json:"plan"`
	OrgLimit      int          `json:"org_limit"`
	InstanceLimit int          `json:"instance_limit"`
	Verified      int          `json:"verified"`
	Balance       domain.Money `json:"balance"`
	FirstName     string       `json:"first_name"`
	LastName      string       `json:"last_name"`
	Phone         string       `json:"phone"`
	Address       string       `json:"address"`
}

func (c *call) viewProfile() (result, error) {
	u, err := c.tx.FindUserByID(c.ctx, c.userID)
	if err != nil {
		return result{}, err
	}
	plan := c.e.planOf(u.Plan)
	verified := 0
	if u.Verified {
		verified = 1
	}
	return result{message: domain.MsgProfileViewed, data: profileView{
		ID: u.ID, Username: u.Username, Email: u.Email, Bio: u.Bio, PFP: u.PFP,
		Plan: u.Plan, OrgLimit: plan.OrgLimit, InstanceLimit: plan.InstanceLimit,
		Verified: verified, Balance: u.Balance,
		FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone, Address: u.Address,
	}}, nil
}

func (c *call) updateProfile() (result, error) {
	upd := domain.ProfileUpdate{
		Bio:       c.optString("bio"),
		PFP:       c.optString("pfp"),
		FirstName: c.optString("first_name"),
		LastName:  c.optString("last_name"),
		Phone:     c.optString("phone"),
		Address:   c.optString("address"),
	}
	if upd.Empty() {
		return result{}, &domain.Error{Code: domain.CodeMissingParameter, Message: domain.MsgNoProfileFields}
	}
	if err := domain.Validate(upd.Nonempty()); err != nil {
		return result{}, err
	}
	if err := c.tx.UpdateProfile(c.ctx, c.userID, upd); err != nil {
		return result{}, err
	}
	if err := c.log("profile.update", "profile"); err != nil {
		return result{}, err
	}
	return result{message: domain.MsgProfileUpdated}, nil
}

// profileStats is the data of profile stats.
type profileStats struct {
	OrgCount        int          `json:"org_count"`
	InstanceCount   int          `json:"instance_count"`
	ActiveInstances int          `json:"active_instances"`
	InvoiceCount    int          `json:"invoice_count"`
	TotalSpent      domain.Money `json:"total_spent"`
}

// profileStats counts with the same queries as stats and analytics, so
// the numbers agree; total_spent sums every debit and purchase.
func (c *call) profileStats() (result, error) {
	s, err := c.accountSummary()
	if err != nil {
		return result{}, err
	}
	months, err := c.spending(time.Time{})
	if err != nil {
		return result{}, err
	}
	var spent domain.Money
	for _, m := range months {
		spent += m.Debits
	}
	return result{message: domain.MsgStatsRetrieved, data: profileStats{
		OrgCount: s.orgs, InstanceCount: s.instances, ActiveInstances: s.byStatus[domain.StatusActive],
		InvoiceCount: s.invoices, TotalSpent: spent,
	}}, nil
}
