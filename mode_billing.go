package sharepanel

import (
	"errors"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// currency is the only currency of the API. Amounts are in its cents.
const currency = "USD"

var invoiceStatuses = []string{domain.InvoicePending, domain.InvoicePaid, domain.InvoiceOverdue}

func billingActions() []*ActionSpec {
	return []*ActionSpec{
		{Mode: "billing", Action: "balance", Summary: "Show the caller's balance", run: (*call).balance},
		{
			Mode: "billing", Action: "invoices", List: true,
			Params:  []Param{{Name: "status", Type: TypeString, Enum: invoiceStatuses, Description: "Only invoices with this status: pending, paid or overdue"}},
			Summary: "List the caller's invoices, newest first",
			run:     (*call).listInvoices,
		},
		{
			Mode: "billing", Action: "invoice",
			Params:  []Param{{Name: "invoice_id", Type: TypeInt, Required: true, Min: 1, Description: "Invoice ID"}},
			Summary: "Show one of the caller's invoices with its line items",
			run:     (*call).viewInvoice,
		},
		{Mode: "billing", Action: "transactions", List: true, Summary: "List every change of the caller's balance, newest first, with the balance after it", run: (*call).listTransactions},
		{Mode: "billing", Action: "purchases", List: true, Summary: "List the caller's purchases, newest first", run: (*call).listPurchases},
		{Mode: "billing", Action: "plans", List: true, Summary: "List the plans with their prices and limits, in catalog order", run: (*call).listPlans},
	}
}

type balanceData struct {
	Balance  domain.Money `json:"balance"`
	Currency string       `json:"currency"`
}

func (c *call) balance() (result, error) {
	u, err := c.tx.FindUserByID(c.ctx, c.userID)
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgBalance, data: balanceData{Balance: u.Balance, Currency: currency}}, nil
}

// invoiceRow is one row of billing invoices.
type invoiceRow struct {
	ID          int64        `json:"id"`
	Description string       `json:"description"`
	Status      string       `json:"status"`
	Total       domain.Money `json:"total"`
	Currency    string       `json:"currency"`
	CreatedAt   string       `json:"created_at"`
	DueAt       string       `json:"due_at"`
}

func newInvoiceRow(inv *domain.Invoice) invoiceRow {
	return invoiceRow{
		ID: inv.ID, Description: inv.Description, Status: inv.Status, Total: inv.Total,
		Currency: currency, CreatedAt: formatListTime(inv.CreatedAt), DueAt: formatListTime(inv.DueAt),
	}
}

func (c *call) listInvoices() (result, error) {
	f := storage.InvoiceFilter{UserID: c.userID, Status: c.req.Params["status"]}
	list, total, err := c.tx.FindInvoices(c.ctx, f, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]invoiceRow, 0, len(list))
	for i := range list {
		rows = append(rows, newInvoiceRow(&list[i]))
	}
	return c.listResult(domain.MsgInvoicesListed, rows, total), nil
}

// invoiceLine is one item of billing invoice.
type invoiceLine struct {
	ID          int64        `json:"id"`
	Description string       `json:"description"`
	Quantity    int64        `json:"quantity"`
	UnitPrice   domain.Money `json:"unit_price"`
	Amount      domain.Money `json:"amount"`
}

type invoiceDetail struct {
	invoiceRow
	Items []invoiceLine `json:"items"`
}

func (c *call) viewInvoice() (result, error) {
	id, err := c.idParam("invoice_id", domain.MsgInvoiceIDRequired)
	if err != nil {
		return result{}, err
	}
	inv, err := c.tx.FindInvoice(c.ctx, c.userID, id)
	if err != nil {
		return result{}, notFoundAs(err, domain.MsgInvoiceNotFound)
	}
	out := invoiceDetail{invoiceRow: newInvoiceRow(inv), Items: make([]invoiceLine, 0, len(inv.Items))}
	for _, it := range inv.Items {
		out.Items = append(out.Items, invoiceLine{ID: it.ID, Description: it.Description, Quantity: it.Quantity, UnitPrice: it.UnitPrice, Amount: it.Amount})
	}
	return result{message: domain.MsgInvoiceViewed, data: out}, nil
}

// transactionRow is one row of billing transactions.
type transactionRow struct {
	ID           int64        `json:"id"`
	Type         string       `json:"type"`
	Amount       domain.Money `json:"amount"`
	BalanceAfter domain.Money `json:"balance_after"`
	Description  string       `json:"description"`
	CreatedAt    string       `json:"created_at"`
}

func (c *call) listTransactions() (result, error) {
	list, total, err := c.tx.FindTransactions(c.ctx, c.userID, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]transactionRow, 0, len(list))
	for _, t := range list {
		rows = append(rows, transactionRow{
			ID: t.ID, Type: t.Type, Amount: t.Amount, BalanceAfter: t.BalanceAfter,
			Description: t.Description, CreatedAt: formatListTime(t.CreatedAt),
		})
	}
	return c.listResult(domain.MsgTransactions, rows, total), nil
}

// purchaseRow is one row of billing purchases.
type purchaseRow struct {
	ID            int64        `json:"id"`
	Description   string       `json:"description"`
	Amount        domain.Money `json:"amount"`
	TransactionID int64        `json:"transaction_id"`
	CreatedAt     string       `json:"created_at"`
}

func (c *call) listPurchases() (result, error) {
	list, total, err := c.tx.FindPurchases(c.ctx, c.userID, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]purchaseRow, 0, len(list))
	for _, p := range list {
		rows = append(rows, purchaseRow{
			ID: p.ID, Description: p.Description, Amount: p.Amount,
			TransactionID: p.TransactionID, CreatedAt: formatListTime(p.CreatedAt),
		})
	}
	return c.listResult(domain.MsgPurchases, rows, total), nil
}

// planRow is one row of billing plans. Current marks the caller's plan.
type planRow struct {
	Name            string       `json:"name"`
	Price           domain.Money `json:"price"`
	Currency        string       `json:"currency"`
	DailyRequests   int          `json:"daily_requests"`
	PerMinute       int          `json:"per_minute"`
	MaxPayloadBytes int64        `json:"max_payload_bytes"`
	OrgLimit        int          `json:"org_limit"`
	InstanceLimit   int          `json:"instance_limit"`
	Current         bool         `json:"current"`
}

// listPlans pages the catalog like any other list, so that clients read
// every list the same way.
func (c *call) listPlans() (result, error) {
	plans := c.e.cfg.Plans
	first := min(c.page.Offset, len(plans))
	last := min(first+c.page.Limit, len(plans))
	rows := make([]planRow, 0, last-first)
	for _, p := range plans[first:last] {
		rows = append(rows, planRow{
			Name: p.Name, Price: p.Price, Currency: currency,
			DailyRequests: p.DailyRequests, PerMinute: p.PerMinute, MaxPayloadBytes: p.MaxPayloadBytes,
			OrgLimit: p.OrgLimit, InstanceLimit: p.InstanceLimit, Current: p.Name == c.plan.Name,
		})
	}
	return c.listResult(domain.MsgPlans, rows, len(plans)), nil
}

// notFoundAs turns a storage not-found error into the API's error with
// message. It returns other errors unchanged.
func notFoundAs(err error, message string) error {
	if errors.Is(err, domain.ErrNotFound) {
		return &domain.Error{Code: domain.CodeNotFound, Message: message}
	}
	return err
}

// monthStart returns the first instant of t's UTC month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
