package sharepanel

import (
	"strings"

	"github.com/sharepanel/sharepanel/domain"
)

// Search bounds: the query's length in characters and the default rows
// per kind. The largest limit is domain.MaxLimit, as for lists.
const (
	maxSearchQuery     = 100
	defaultSearchLimit = 20
)

var searchTypes = []string{"orgs", "instances", "invoices", "notifications"}

func searchActions() []*ActionSpec {
	return []*ActionSpec{{
		Mode: "search", Action: "",
		Params: []Param{
			{Name: "q", Type: TypeString, Required: true, MaxLen: maxSearchQuery, Description: "Text to find, case-insensitively, in the caller's own data"},
			{Name: "type", Type: TypeString, Enum: searchTypes, Description: "Search only one kind: orgs, instances, invoices or notifications"},
			{Name: "limit", Type: TypeInt, Description: "Results per kind, 1 to 100 (default 20; larger values are capped at 100)"},
		},
		Summary: "Find the caller's orgs, instances, invoices and notifications whose text contains q, grouped by kind",
		run:     (*call).search,
	}}
}

// searchData is the data of mode search. Results and Totals have one
// entry per kind searched: every kind, or the one named by type. Each
// kind lists at most limit matches in the order of its list action (orgs
// and instances oldest first, invoices and notifications newest first),
// and Totals counts all of them.
type searchData struct {
	Query   string         `json:"query"`
	Total   int            `json:"total"`
	Totals  map[string]int `json:"totals"`
	Results map[string]any `json:"results"`
}

func (c *call) search() (result, error) {
	q := strings.TrimSpace(c.req.Params["q"])
	if q == "" {
		return result{}, &domain.Error{Code: domain.CodeMissingParameter, Message: domain.MsgSearchQueryRequired}
	}
	limit, err := limitFrom(c.req.Params, defaultSearchLimit)
	if err != nil {
		return result{}, err
	}
	kinds := searchTypes
	if t := c.req.Params["type"]; t != "" {
		kinds = []string{t}
	}

	out := searchData{Query: q, Totals: map[string]int{}, Results: map[string]any{}}
	for _, kind := range kinds {
		rows, total, err := c.searchKind(kind, q, limit)
		if err != nil {
			return result{}, err
		}
		out.Results[kind] = rows
		out.Totals[kind] = total
		out.Total += total
	}
	return result{message: domain.MsgSearchResults, data: out}, nil
}

// searchKind runs one kind's search and returns its rows in the shape of
// that kind's list action.
func (c *call) searchKind(kind, q string, limit int) (any, int, error) {
	switch kind {
	case "orgs":
		list, total, err := c.tx.SearchOrgs(c.ctx, c.userID, q, limit)
		rows := make([]orgItem, 0, len(list))
		for i := range list {
			rows = append(rows, newOrgItem(&list[i]))
		}
		return rows, total, err
	case "instances":
		list, total, err := c.tx.SearchInstances(c.ctx, c.userID, q, limit)
		rows := make([]instanceItem, 0, len(list))
		for i := range list {
			rows = append(rows, newInstanceItem(&list[i]))
		}
		return rows, total, err
	case "invoices":
		list, total, err := c.tx.SearchInvoices(c.ctx, c.userID, q, limit)
		rows := make([]invoiceRow, 0, len(list))
		for i := range list {
			rows = append(rows, newInvoiceRow(&list[i]))
		}
		return rows, total, err
	default:
		list, total, err := c.tx.SearchNotifications(c.ctx, c.userID, q, limit)
		rows := make([]notificationRow, 0, len(list))
		for i := range list {
			rows = append(rows, newNotificationRow(&list[i]))
		}
		return rows, total, err
	}
}
