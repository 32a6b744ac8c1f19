package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// errBalanceOverflow is returned, wrapped, when a transaction would move a
// balance outside the range of int64.
var errBalanceOverflow = errors.New("balance would overflow int64")

// AddTransaction adds t.Amount to the user's balance, stores t with the
// new balance in t.BalanceAfter, and sets t.ID. It returns
// domain.ErrNotFound if there is no such user, and domain.ErrConflict if
// t.Reference is not empty and the user already has a transaction with
// that reference. On those errors, and if the new balance would overflow
// int64, it changes nothing, so the transaction stays usable.
func (t *Tx) AddTransaction(ctx context.Context, tr *domain.Transaction) error {
	// The balance read here cannot change before the update, because a
	// writable transaction holds SQLite's write lock from BEGIN IMMEDIATE.
	var balance int64
	if err := t.stmt(ctx, qUserBalance).QueryRowContext(ctx, tr.UserID).Scan(&balance); err != nil {
		return fmt.Errorf("add transaction of user %d: %w", tr.UserID, mapError(err))
	}
	amount := int64(tr.Amount)
	after := balance + amount
	if (amount > 0 && after < balance) || (amount < 0 && after > balance) {
		return fmt.Errorf("add transaction of %s to user %d with balance %s: %w",
			tr.Amount, tr.UserID, domain.Money(balance), errBalanceOverflow)
	}

	// A duplicate reference fails this INSERT on the unique index before
	// the balance changes. SQLite undoes only the failed statement, so
	// the transaction stays usable.
	id, err := t.insert(ctx, qAddTransaction,
		tr.UserID, tr.Type, amount, after, tr.Description, micros(tr.CreatedAt), nullText(tr.Reference))
	if err != nil {
		return fmt.Errorf("add transaction of user %d with reference %q: %w", tr.UserID, tr.Reference, err)
	}
	if _, err := t.exec(ctx, qAddBalance, amount, tr.UserID); err != nil {
		return fmt.Errorf("update balance of user %d: %w", tr.UserID, err)
	}
	tr.ID = id
	tr.BalanceAfter = domain.Money(after)
	return nil
}

// nullText encodes an optional string, with "" as NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// FindTransactionByReference returns the user's transaction with the given
// reference, or domain.ErrNotFound. An empty reference finds nothing,
// because transactions without one store NULL.
func (t *Tx) FindTransactionByReference(ctx context.Context, userID int64, reference string) (*domain.Transaction, error) {
	tr, err := scanTransaction(t.stmt(ctx, qFindTransactionByReference).QueryRowContext(ctx, userID, reference))
	if err != nil {
		return nil, fmt.Errorf("find transaction of user %d with reference %q: %w", userID, reference, err)
	}
	return tr, nil
}

// FindTransactions lists a user's transactions newest first and returns
// how many the user has.
func (t *Tx) FindTransactions(ctx context.Context, userID int64, p domain.Page) ([]domain.Transaction, int, error) {
	transactions, err := t.queryTransactions(ctx, qFindTransactions, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find transactions of user %d: %w", userID, err)
	}
	total, err := pageTotal(p, len(transactions), func() (int, error) { return t.count(ctx, qCountTransactions, userID) })
	if err != nil {
		return nil, 0, fmt.Errorf("count transactions of user %d: %w", userID, err)
	}
	return transactions, total, nil
}

// ScanTransactions returns up to limit of the user's transactions with an
// id above afterID, by id ascending.
func (t *Tx) ScanTransactions(ctx context.Context, userID, afterID int64, limit int) ([]domain.Transaction, error) {
	transactions, err := t.queryTransactions(ctx, qScanTransactions, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan transactions of user %d after %d: %w", userID, afterID, err)
	}
	return transactions, nil
}

// queryTransactions runs a query that selects transactionColumns.
func (t *Tx) queryTransactions(ctx context.Context, query string, args ...any) ([]domain.Transaction, error) {
	rows, err := t.stmt(ctx, query).QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	transactions := []domain.Transaction{}
	for rows.Next() {
		tr, err := scanTransaction(rows)
		if err != nil {
			return nil, err
		}
		transactions = append(transactions, *tr)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return transactions, nil
}

func scanTransaction(row rowScanner) (*domain.Transaction, error) {
	var (
		tr                   domain.Transaction
		amount, balanceAfter int64
		createdAt            int64
	)
	err := row.Scan(&tr.ID, &tr.UserID, &tr.Type, &amount, &balanceAfter, &tr.Description, &createdAt, &tr.Reference)
	if err != nil {
		return nil, mapError(err)
	}
	tr.Amount = domain.Money(amount)
	tr.BalanceAfter = domain.Money(balanceAfter)
	tr.CreatedAt = fromMicros(createdAt)
	return &tr, nil
}

// SumTransactionsByMonth totals a user's transactions created at or after
// since, per UTC month, oldest month first.
func (t *Tx) SumTransactionsByMonth(ctx context.Context, userID int64, since time.Time) ([]domain.MonthTotal, error) {
	rows, err := t.stmt(ctx, qSumTransactionsByMonth).QueryContext(ctx, userID, micros(since))
	if err != nil {
		return nil, fmt.Errorf("sum transactions of user %d by month: %w", userID, mapError(err))
	}
	defer rows.Close()
	totals := []domain.MonthTotal{}
	for rows.Next() {
		var (
			m               domain.MonthTotal
			credits, debits int64
		)
		if err := rows.Scan(&m.Month, &credits, &debits, &m.Transactions); err != nil {
			return nil, fmt.Errorf("sum transactions of user %d by month: %w", userID, mapError(err))
		}
		m.Credits = domain.Money(credits)
		m.Debits = domain.Money(debits)
		totals = append(totals, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sum transactions of user %d by month: %w", userID, mapError(err))
	}
	return totals, nil
}

// CreateInvoice inserts inv and its items and sets their ids and each
// item's InvoiceID. It returns domain.ErrNotFound if the user does not
// exist.
func (t *Tx) CreateInvoice(ctx context.Context, inv *domain.Invoice) error {
	id, err := t.insert(ctx, qCreateInvoice,
		inv.UserID, inv.Status, inv.Description, int64(inv.Total), micros(inv.CreatedAt), micros(inv.DueAt))
	if err != nil {
		return fmt.Errorf("create invoice of user %d: %w", inv.UserID, err)
	}
	itemIDs := make([]int64, len(inv.Items))
	for i, item := range inv.Items {
		itemIDs[i], err = t.insert(ctx, qCreateInvoiceItem,
			id, item.Description, item.Quantity, int64(item.UnitPrice), int64(item.Amount))
		if err != nil {
			return fmt.Errorf("create item %d of invoice %d: %w", i, id, err)
		}
	}

	inv.ID = id
	for i := range inv.Items {
		inv.Items[i].ID = itemIDs[i]
		inv.Items[i].InvoiceID = id
	}
	return nil
}

// FindInvoice returns the invoice with its items by item id if userID
// owns it, or domain.ErrNotFound.
func (t *Tx) FindInvoice(ctx context.Context, userID, id int64) (*domain.Invoice, error) {
	inv, err := scanInvoice(t.stmt(ctx, qFindInvoice).QueryRowContext(ctx, id, userID))
	if err != nil {
		return nil, fmt.Errorf("find invoice %d of user %d: %w", id, userID, err)
	}
	items, err := t.queryItems(ctx, qFindInvoiceItems, id)
	if err != nil {
		return nil, fmt.Errorf("find items of invoice %d: %w", id, err)
	}
	inv.Items = items[id]
	if inv.Items == nil {
		inv.Items = []domain.InvoiceItem{}
	}
	return inv, nil
}

// FindInvoices lists the invoices that match f newest first, without
// their items, and returns how many match.
func (t *Tx) FindInvoices(ctx context.Context, f storage.InvoiceFilter, p domain.Page) ([]domain.Invoice, int, error) {
	query, args := qFindInvoices, []any{f.UserID, p.Limit, p.Offset}
	if f.Status != "" {
		query, args = qFindInvoicesByStatus, []any{f.UserID, f.Status, p.Limit, p.Offset}
	}
	invoices, err := t.queryInvoices(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find invoices %+v: %w", f, err)
	}
	total, err := pageTotal(p, len(invoices), func() (int, error) { return t.CountInvoices(ctx, f) })
	if err != nil {
		return nil, 0, err
	}
	return invoices, total, nil
}

// CountInvoices returns the number of invoices that match f.
func (t *Tx) CountInvoices(ctx context.Context, f storage.InvoiceFilter) (int, error) {
	query, args := qCountInvoices, []any{f.UserID}
	if f.Status != "" {
		query, args = qCountInvoicesByStatus, []any{f.UserID, f.Status}
	}
	n, err := t.count(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("count invoices %+v: %w", f, err)
	}
	return n, nil
}

// ScanInvoices returns up to limit of the user's invoices with an id above
// afterID, by id ascending, each with its items.
func (t *Tx) ScanInvoices(ctx context.Context, userID, afterID int64, limit int) ([]domain.Invoice, error) {
	invoices, err := t.queryInvoices(ctx, qScanInvoices, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan invoices of user %d after %d: %w", userID, afterID, err)
	}
	items, err := t.queryItems(ctx, qScanInvoiceItems, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan invoice items of user %d after %d: %w", userID, afterID, err)
	}
	for i := range invoices {
		invoices[i].Items = items[invoices[i].ID]
		if invoices[i].Items == nil {
			invoices[i].Items = []domain.InvoiceItem{}
		}
	}
	return invoices, nil
}

// queryInvoices runs a query that selects invoiceColumns.
func (t *Tx) queryInvoices(ctx context.Context, query string, args ...any) ([]domain.Invoice, error) {
	rows, err := t.stmt(ctx, query).QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	invoices := []domain.Invoice{}
	for rows.Next() {
		inv, err := scanInvoice(rows)
		if err != nil {
			return nil, err
		}
		invoices = append(invoices, *inv)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return invoices, nil
}

func scanInvoice(row rowScanner) (*domain.Invoice, error) {
	var (
		inv              domain.Invoice
		total            int64
		createdAt, dueAt int64
	)
	if err := row.Scan(&inv.ID, &inv.UserID, &inv.Status, &inv.Description, &total, &createdAt, &dueAt); err != nil {
		return nil, mapError(err)
	}
	inv.Total = domain.Money(total)
	inv.CreatedAt = fromMicros(createdAt)
	inv.DueAt = fromMicros(dueAt)
	return &inv, nil
}

// queryItems runs a query that selects itemColumns and groups the items
// by invoice id, each group in the query's order.
func (t *Tx) queryItems(ctx context.Context, query string, args ...any) (map[int64][]domain.InvoiceItem, error) {
	rows, err := t.stmt(ctx, query).QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	items := map[int64][]domain.InvoiceItem{}
	for rows.Next() {
		var (
			item              domain.InvoiceItem
			unitPrice, amount int64
		)
		err := rows.Scan(&item.ID, &item.InvoiceID, &item.Description, &item.Quantity, &unitPrice, &amount)
		if err != nil {
			return nil, mapError(err)
		}
		item.UnitPrice = domain.Money(unitPrice)
		item.Amount = domain.Money(amount)
		items[item.InvoiceID] = append(items[item.InvoiceID], item)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return items, nil
}

// CreatePurchase inserts p and sets p.ID. It returns domain.ErrNotFound if
// there is no such user or the user has no transaction p.TransactionID.
func (t *Tx) CreatePurchase(ctx context.Context, p *domain.Purchase) error {
	res, err := t.stmt(ctx, qCreatePurchase).ExecContext(ctx,
		p.UserID, p.TransactionID, p.Description, int64(p.Amount), micros(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("create purchase of user %d: %w", p.UserID, mapError(err))
	}
	// The INSERT selects its row from the user's transactions, so it adds
	// nothing when the transaction is missing or another user's.
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("create purchase of user %d: %w", p.UserID, err)
	}
	if n == 0 {
		return fmt.Errorf("create purchase of user %d with transaction %d: %w", p.UserID, p.TransactionID, domain.ErrNotFound)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create purchase of user %d: %w", p.UserID, err)
	}
	p.ID = id
	return nil
}

// FindPurchases lists a user's purchases newest first and returns how many
// the user has.
func (t *Tx) FindPurchases(ctx context.Context, userID int64, p domain.Page) ([]domain.Purchase, int, error) {
	purchases, err := t.queryPurchases(ctx, qFindPurchases, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find purchases of user %d: %w", userID, err)
	}
	total, err := pageTotal(p, len(purchases), func() (int, error) { return t.count(ctx, qCountPurchases, userID) })
	if err != nil {
		return nil, 0, fmt.Errorf("count purchases of user %d: %w", userID, err)
	}
	return purchases, total, nil
}

// FindPurchaseByTransaction returns the user's purchase paid by the given
// transaction, or domain.ErrNotFound. If several purchases name the
// transaction, it returns the one with the lowest id.
func (t *Tx) FindPurchaseByTransaction(ctx context.Context, userID, transactionID int64) (*domain.Purchase, error) {
	p, err := scanPurchase(t.stmt(ctx, qFindPurchaseByTransaction).QueryRowContext(ctx, transactionID, userID))
	if err != nil {
		return nil, fmt.Errorf("find purchase of user %d by transaction %d: %w", userID, transactionID, err)
	}
	return p, nil
}

// ScanPurchases returns up to limit of the user's purchases with an id
// above afterID, by id ascending.
func (t *Tx) ScanPurchases(ctx context.Context, userID, afterID int64, limit int) ([]domain.Purchase, error) {
	purchases, err := t.queryPurchases(ctx, qScanPurchases, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan purchases of user %d after %d: %w", userID, afterID, err)
	}
	return purchases, nil
}

// queryPurchases runs a query that selects purchaseColumns.
func (t *Tx) queryPurchases(ctx context.Context, query string, args ...any) ([]domain.Purchase, error) {
	rows, err := t.stmt(ctx, query).QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	purchases := []domain.Purchase{}
	for rows.Next() {
		p, err := scanPurchase(rows)
		if err != nil {
			return nil, err
		}
		purchases = append(purchases, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return purchases, nil
}

func scanPurchase(row rowScanner) (*domain.Purchase, error) {
	var (
		p         domain.Purchase
		amount    int64
		createdAt int64
	)
	if err := row.Scan(&p.ID, &p.UserID, &p.TransactionID, &p.Description, &amount, &createdAt); err != nil {
		return nil, mapError(err)
	}
	p.Amount = domain.Money(amount)
	p.CreatedAt = fromMicros(createdAt)
	return &p, nil
}
