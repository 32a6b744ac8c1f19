package sharepanel

import (
	"encoding/hex"
	"sort"
	"strconv"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// Bounds of the analytics windows.
const (
	defaultUsageDays  = 30
	maxUsageDays      = 366
	defaultSpendMonth = 12
	maxSpendMonths    = 120
)

func analyticsActions() []*ActionSpec {
	return []*ActionSpec{
		{Mode: "analytics", Action: "overview", Summary: "Summarize the caller's account: balance, spending, orgs, instances, invoices, notifications and API requests", run: (*call).analyticsOverview},
		{
			Mode: "analytics", Action: "usage",
			Params:  []Param{{Name: "period", Type: TypeInt, Min: 1, Max: maxUsageDays, Description: "Number of days, today included (default 30, at most 366)"}},
			Summary: "Count the caller's API requests per day, in total and per key",
			run:     (*call).analyticsUsage,
		},
		{Mode: "analytics", Action: "activity", List: true, Summary: "List the caller's activity log, newest first, with each entry's chain hash", run: (*call).analyticsActivity},
		{
			Mode: "analytics", Action: "spending",
			Params:  []Param{{Name: "months", Type: TypeInt, Min: 1, Max: maxSpendMonths, Description: "Number of months, this one included (default 12, at most 120)"}},
			Summary: "Total the caller's spending and credits per month",
			run:     (*call).analyticsSpending,
		},
	}
}

// intParam reads an optional integer parameter whose range checkParams
// has checked, and returns def when it is absent. Present but empty is an
// error, as it is for limit.
func (c *call) intParam(name string, def int) (int, error) {
	v, ok := c.req.Params[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p, _ := findParam(c.spec.Params, name)
		return 0, domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be an integer from %d to %d", name, p.Min, p.Max)
	}
	return n, nil
}

// overview is the data of analytics overview.
type overview struct {
	Balance             domain.Money `json:"balance"`
	Currency            string       `json:"currency"`
	Plan                string       `json:"plan"`
	TotalSpent          domain.Money `json:"total_spent"`
	SpentThisMonth      domain.Money `json:"spent_this_month"`
	OrgCount            int          `json:"org_count"`
	InstanceCount       int          `json:"instance_count"`
	ActiveInstances     int          `json:"active_instances"`
	InvoiceCount        int          `json:"invoice_count"`
	UnpaidInvoices      int          `json:"unpaid_invoices"`
	UnreadNotifications int          `json:"unread_notifications"`
	APIKeyCount         int          `json:"api_key_count"`
	RequestsToday       int64        `json:"requests_today"`
	Requests30Days      int64        `json:"requests_30_days"`
}

func (c *call) analyticsOverview() (result, error) {
	s, err := c.accountSummary()
	if err != nil {
		return result{}, err
	}
	spent, err := c.spending(time.Time{})
	if err != nil {
		return result{}, err
	}

	var total, thisMonth domain.Money
	current := monthStart(c.now).Format("2006-01")
	for _, m := range spent {
		total += m.Debits
		if m.Month == current {
			thisMonth = m.Debits
		}
	}

	pending, err := c.tx.CountInvoices(c.ctx, storage.InvoiceFilter{UserID: c.userID, Status: domain.InvoicePending})
	if err != nil {
		return result{}, err
	}
	overdue, err := c.tx.CountInvoices(c.ctx, storage.InvoiceFilter{UserID: c.userID, Status: domain.InvoiceOverdue})
	if err != nil {
		return result{}, err
	}

	u, err := c.usageReport(defaultUsageDays, false)
	if err != nil {
		return result{}, err
	}
	var today int64
	if n := len(u.Daily); n > 0 {
		today = u.Daily[n-1].Requests
	}
	return result{message: domain.MsgOverview, data: overview{
		Balance: s.balance, Currency: currency, Plan: c.plan.Name,
		TotalSpent: total, SpentThisMonth: thisMonth,
		OrgCount: s.orgs, InstanceCount: s.instances, ActiveInstances: s.byStatus[domain.StatusActive],
		InvoiceCount: s.invoices, UnpaidInvoices: pending + overdue, UnreadNotifications: s.unread,
		APIKeyCount: s.keys, RequestsToday: today, Requests30Days: u.TotalRequests,
	}}, nil
}

// usageDayCount is one day of analytics usage.
type usageDayCount struct {
	Date     string `json:"date"`
	Requests int64  `json:"requests"`
}

// keyUsageTotal is one key's requests in analytics usage.
type keyUsageTotal struct {
	KeyID    int64  `json:"key_id"`
	Name     string `json:"name"`
	Prefix   string `json:"prefix"`
	Requests int64  `json:"requests"`
}

// usageReport is the data of analytics usage. Daily has one row for every
// day of the period, oldest first, zeros included; TotalRequests counts
// keys deleted since, which Keys no longer lists.
type usageReport struct {
	Period        int             `json:"period"`
	StartDate     string          `json:"start_date"`
	EndDate       string          `json:"end_date"`
	TotalRequests int64           `json:"total_requests"`
	Daily         []usageDayCount `json:"daily"`
	Keys          []keyUsageTotal `json:"keys"`
}

func (c *call) analyticsUsage() (result, error) {
	days, err := c.intParam("period", defaultUsageDays)
	if err != nil {
		return result{}, err
	}
	u, err := c.usageReport(days, true)
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgUsage, data: u}, nil
}

// usageReport counts the caller's requests over the last days days, today
// included. It adds the counts still in memory to the stored ones. Keys
// lists the keys only if withKeys is set.
func (c *call) usageReport(days int, withKeys bool) (*usageReport, error) {
	end := c.now.UTC()
	start := end.AddDate(0, 0, -(days - 1))
	since := dayOf(start)

	// NOTE: as in api_keys usage, counts being flushed at this moment are
	// in neither place, so a report can fall short by one flush interval.
	totals, err := c.tx.FindUserUsage(c.ctx, c.userID, since)
	if err != nil {
		return nil, err
	}
	perKey, err := c.tx.FindUserKeyUsage(c.ctx, c.userID, since)
	if err != nil {
		return nil, err
	}
	byDay := map[string]int64{}
	for _, r := range totals {
		byDay[r.Day] += r.Count
	}
	byKey := map[int64]int64{}
	for _, r := range perKey {
		byKey[r.KeyID] += r.Count
	}
	for keyID, pending := range c.e.usage.pendingForUser(c.userID) {
		for day, n := range pending {
			if day >= since {
				byDay[day] += n
				byKey[keyID] += n
			}
		}
	}

	out := &usageReport{Period: days, StartDate: since, EndDate: dayOf(end), Daily: make([]usageDayCount, 0, days), Keys: []keyUsageTotal{}}
	for d := range days {
		day := dayOf(start.AddDate(0, 0, d))
		out.Daily = append(out.Daily, usageDayCount{Date: day, Requests: byDay[day]})
		out.TotalRequests += byDay[day]
	}

	if withKeys && len(byKey) > 0 {
		if err := c.nameKeys(out, byKey); err != nil {
			return nil, err
		}
	}
	sort.Slice(out.Keys, func(i, j int) bool { return out.Keys[i].KeyID < out.Keys[j].KeyID })
	return out, nil
}

// nameKeys adds a row to r.Keys for each key of byKey that still exists.
// A key deleted since its requests were counted shows only in the totals.
// It reads the caller's keys a page at a time, because every login
// creates a key and a user may have many.
func (c *call) nameKeys(r *usageReport, byKey map[int64]int64) error {
	page := domain.Page{Limit: domain.MaxLimit}
	for {
		keys, total, err := c.tx.FindAPIKeys(c.ctx, c.userID, page)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if n, ok := byKey[k.ID]; ok {
				r.Keys = append(r.Keys, keyUsageTotal{KeyID: k.ID, Name: k.Name, Prefix: k.Prefix, Requests: n})
			}
		}
		page.Offset += page.Limit
		if page.Offset >= total || len(keys) == 0 {
			return nil
		}
	}
}

// activityRow is one row of analytics activity. Hash and PrevHash are hex;
// each entry's prev_hash is the hash of the entry before it.
type activityRow struct {
	ID        int64  `json:"id"`
	Action    string `json:"action"`
	Subject   string `json:"subject"`
	IPAddress string `json:"ip_address"`
	CreatedAt string `json:"created_at"`
	Hash      string `json:"hash"`
	PrevHash  string `json:"prev_hash"`
}

func (c *call) analyticsActivity() (result, error) {
	list, total, err := c.tx.FindActivities(c.ctx, c.userID, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]activityRow, 0, len(list))
	for _, a := range list {
		rows = append(rows, activityRow{
			ID: a.ID, Action: a.Action, Subject: a.Subject, IPAddress: a.ClientIP,
			CreatedAt: formatListTime(a.CreatedAt), Hash: hex.EncodeToString(a.Hash), PrevHash: hex.EncodeToString(a.PrevHash),
		})
	}
	return c.listResult(domain.MsgActivity, rows, total), nil
}

// monthSpending is one month of analytics spending.
type monthSpending struct {
	Month        string       `json:"month"`
	Spent        domain.Money `json:"spent"`
	Credited     domain.Money `json:"credited"`
	Transactions int          `json:"transactions"`
}

// spendingReport is the data of analytics spending: one row for every
// month of the window, oldest first, zeros included.
type spendingReport struct {
	Currency      string          `json:"currency"`
	TotalSpent    domain.Money    `json:"total_spent"`
	TotalCredited domain.Money    `json:"total_credited"`
	Months        []monthSpending `json:"months"`
}

func (c *call) analyticsSpending() (result, error) {
	n, err := c.intParam("months", defaultSpendMonth)
	if err != nil {
		return result{}, err
	}
	first := monthStart(c.now).AddDate(0, -(n - 1), 0)
	totals, err := c.spending(first)
	if err != nil {
		return result{}, err
	}
	byMonth := make(map[string]domain.MonthTotal, len(totals))
	for _, m := range totals {
		byMonth[m.Month] = m
	}
	out := spendingReport{Currency: currency, Months: make([]monthSpending, 0, n)}
	for i := range n {
		month := first.AddDate(0, i, 0).Format("2006-01")
		m := byMonth[month]
		out.Months = append(out.Months, monthSpending{Month: month, Spent: m.Debits, Credited: m.Credits, Transactions: m.Transactions})
		out.TotalSpent += m.Debits
		out.TotalCredited += m.Credits
	}
	return result{message: domain.MsgSpending, data: out}, nil
}

// spending totals the caller's transactions per month from since on.
//
// NOTE: profile stats and analytics overview pass the zero time for the
// all-time total, which reads every transaction of the user (an index
// range in SQLite). That is fine for thousands of transactions; a running
// total on the user would be needed for millions.
func (c *call) spending(since time.Time) ([]domain.MonthTotal, error) {
	return c.tx.SumTransactionsByMonth(c.ctx, c.userID, since)
}
