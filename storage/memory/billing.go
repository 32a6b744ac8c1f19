package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// errOverflow is returned when a balance or a monthly sum would not fit in
// an int64.
var errOverflow = errors.New("memory: amount overflows int64")

// addMoney returns a+b, or false if the sum overflows int64.
func addMoney(a, b domain.Money) (domain.Money, bool) {
	sum := a + b
	if (b > 0 && sum < a) || (b < 0 && sum > a) {
		return 0, false
	}
	return sum, true
}

// AddTransaction adds tr.Amount to the user's balance, stores tr with the
// new balance in BalanceAfter, and sets tr.ID and tr.BalanceAfter. It
// returns domain.ErrNotFound if there is no such user, domain.ErrConflict
// if tr.Reference is not empty and the user already has a transaction
// with that reference, and an error if the new balance would overflow
// int64. It checks all three before changing anything.
func (t *Tx) AddTransaction(_ context.Context, tr *domain.Transaction) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("add transaction of user %d: %w", tr.UserID, err)
	}
	u, ok := d.users.get(tr.UserID)
	if !ok {
		return fmt.Errorf("add transaction of user %d: %w", tr.UserID, domain.ErrNotFound)
	}
	balance, ok := addMoney(u.Balance, tr.Amount)
	if !ok {
		return fmt.Errorf("add transaction of %d cents to balance %d of user %d: %w", tr.Amount, u.Balance, tr.UserID, errOverflow)
	}
	ref := referenceKey{tr.UserID, tr.Reference}
	if tr.Reference != "" && d.txByReference.has(ref) {
		return fmt.Errorf("add transaction of user %d with reference %q: %w", tr.UserID, tr.Reference, domain.ErrConflict)
	}

	d.lastTransactionID++
	stored := *tr
	stored.ID = d.lastTransactionID
	stored.BalanceAfter = balance
	stored.CreatedAt = utc(tr.CreatedAt)
	d.transactions.set(stored.ID, stored)
	d.txByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	d.txByUserTime.set(timeKey{stored.UserID, stored.CreatedAt.UnixMicro(), stored.ID}, struct{}{})
	if stored.Reference != "" {
		d.txByReference.set(ref, stored.ID)
	}

	u.Balance = balance
	d.users.set(u.ID, u)

	tr.ID = stored.ID
	tr.BalanceAfter = balance
	return nil
}

// FindTransactionByReference returns the user's transaction with the given
// reference, or domain.ErrNotFound. An empty reference finds nothing.
func (t *Tx) FindTransactionByReference(_ context.Context, userID int64, reference string) (*domain.Transaction, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find transaction of user %d with reference %q: %w", userID, reference, err)
	}
	id, ok := d.txByReference.get(referenceKey{userID, reference})
	if !ok {
		return nil, fmt.Errorf("find transaction of user %d with reference %q: %w", userID, reference, domain.ErrNotFound)
	}
	tr, _ := d.transactions.get(id)
	return &tr, nil
}

// FindTransactions lists a user's transactions newest first (by id
// descending) and returns how many the user has.
func (t *Tx) FindTransactions(_ context.Context, userID int64, p domain.Page) ([]domain.Transaction, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find transactions of user %d: %w", userID, err)
	}
	ids, total := pageUser(&d.txByUser, userID, p)
	transactions := []domain.Transaction{}
	for _, id := range ids {
		tr, _ := d.transactions.get(id)
		transactions = append(transactions, tr)
	}
	return transactions, total, nil
}

// ScanTransactions returns up to limit of the user's transactions with an
// id above afterID, by id ascending. A negative limit means no limit.
func (t *Tx) ScanTransactions(_ context.Context, userID, afterID int64, limit int) ([]domain.Transaction, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("scan transactions of user %d after %d: %w", userID, afterID, err)
	}
	transactions := []domain.Transaction{}
	for _, id := range scanUser(&d.txByUser, userID, afterID, limit) {
		tr, _ := d.transactions.get(id)
		transactions = append(transactions, tr)
	}
	return transactions, nil
}

// SumTransactionsByMonth totals a user's transactions created at or after
// since (compared at microsecond precision) per UTC month, oldest month
// first. It returns an error if a month's credits or debits overflow
// int64.
func (t *Tx) SumTransactionsByMonth(_ context.Context, userID int64, since time.Time) ([]domain.MonthTotal, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("sum transactions of user %d by month: %w", userID, err)
	}

	// The time index visits the transactions in time order, so each month
	// is one run of rows and the months come out ascending.
	totals := []domain.MonthTotal{}
	for k := range d.txByUserTime.ascend(timeKey{userID, since.UnixMicro(), minID}) {
		if k.userID != userID {
			break
		}
		tr, _ := d.transactions.get(k.id)
		month := tr.CreatedAt.Format("2006-01")
		if len(totals) == 0 || totals[len(totals)-1].Month != month {
			totals = append(totals, domain.MonthTotal{Month: month})
		}
		mt := &totals[len(totals)-1]

		ok := true
		switch {
		case tr.Amount > 0:
			mt.Credits, ok = addMoney(mt.Credits, tr.Amount)
		case tr.Amount == math.MinInt64:
			ok = false
		case tr.Amount < 0:
			mt.Debits, ok = addMoney(mt.Debits, -tr.Amount)
		}
		if !ok {
			return nil, fmt.Errorf("sum transactions of user %d in %s: %w", userID, month, errOverflow)
		}
		mt.Transactions++
	}
	return totals, nil
}

// CreateInvoice inserts inv and its items and sets inv.ID and each item's
// ID and InvoiceID. It returns domain.ErrNotFound if there is no such user.
func (t *Tx) CreateInvoice(_ context.Context, inv *domain.Invoice) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create invoice for user %d: %w", inv.UserID, err)
	}
	if !d.users.has(inv.UserID) {
		return fmt.Errorf("create invoice for user %d: %w", inv.UserID, domain.ErrNotFound)
	}

	d.lastInvoiceID++
	stored := *inv
	stored.ID = d.lastInvoiceID
	stored.CreatedAt = utc(inv.CreatedAt)
	stored.DueAt = utc(inv.DueAt)
	stored.Items = nil
	d.invoices.set(stored.ID, stored)
	d.invByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	d.invByStatus.set(statusKey{stored.UserID, stored.Status, stored.ID}, struct{}{})

	for i := range inv.Items {
		d.lastItemID++
		item := inv.Items[i]
		item.ID = d.lastItemID
		item.InvoiceID = stored.ID
		d.invoiceItems.set(pair{stored.ID, item.ID}, item)
		inv.Items[i].ID = item.ID
		inv.Items[i].InvoiceID = item.InvoiceID
	}
	inv.ID = stored.ID
	return nil
}

// withItems returns inv with its items attached, by item id ascending.
func (d *data) withItems(inv domain.Invoice) domain.Invoice {
	inv.Items = []domain.InvoiceItem{}
	for k, item := range d.invoiceItems.ascend(pair{inv.ID, minID}) {
		if k.a != inv.ID {
			break
		}
		inv.Items = append(inv.Items, item)
	}
	return inv
}

// FindInvoice returns the invoice with its items if userID owns it, or
// domain.ErrNotFound.
func (t *Tx) FindInvoice(_ context.Context, userID, id int64) (*domain.Invoice, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find invoice %d of user %d: %w", id, userID, err)
	}
	inv, ok := d.invoices.get(id)
	if !ok || inv.UserID != userID {
		return nil, fmt.Errorf("find invoice %d of user %d: %w", id, userID, domain.ErrNotFound)
	}
	inv = d.withItems(inv)
	return &inv, nil
}

// invoiceRange returns the first and last keys of the invoices that f
// selects in invByStatus, for a filter with a status.
func invoiceRange(f storage.InvoiceFilter) (lo, hi statusKey) {
	return statusKey{f.UserID, f.Status, minID}, statusKey{f.UserID, f.Status, maxID}
}

// FindInvoices lists the invoices that f selects, without items, newest
// first (by id descending), and returns how many match.
func (t *Tx) FindInvoices(_ context.Context, f storage.InvoiceFilter, p domain.Page) ([]domain.Invoice, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find invoices %+v: %w", f, err)
	}

	var ids []int64
	var total int
	if f.Status == "" {
		ids, total = pageUser(&d.invByUser, f.UserID, p)
	} else {
		lo, hi := invoiceRange(f)
		var keys []statusKey
		keys, total = pageRange(&d.invByStatus, lo, hi, true, p)
		for _, k := range keys {
			ids = append(ids, k.id)
		}
	}

	invoices := []domain.Invoice{}
	for _, id := range ids {
		inv, _ := d.invoices.get(id)
		invoices = append(invoices, inv)
	}
	return invoices, total, nil
}

// CountInvoices returns the number of invoices that f selects.
func (t *Tx) CountInvoices(_ context.Context, f storage.InvoiceFilter) (int, error) {
	d, err := t.read()
	if err != nil {
		return 0, fmt.Errorf("count invoices %+v: %w", f, err)
	}
	if f.Status == "" {
		return countUser(&d.invByUser, f.UserID), nil
	}
	lo, hi := invoiceRange(f)
	return d.invByStatus.countRange(lo, hi), nil
}

// ScanInvoices returns up to limit of the user's invoices with an id above
// afterID, by id ascending, each with its items. A negative limit means
// no limit.
func (t *Tx) ScanInvoices(_ context.Context, userID, afterID int64, limit int) ([]domain.Invoice, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("scan invoices of user %d after %d: %w", userID, afterID, err)
	}
	invoices := []domain.Invoice{}
	for _, id := range scanUser(&d.invByUser, userID, afterID, limit) {
		inv, _ := d.invoices.get(id)
		invoices = append(invoices, d.withItems(inv))
	}
	return invoices, nil
}

// CreatePurchase inserts p and sets p.ID. It returns domain.ErrNotFound if
// there is no such user or the user has no transaction p.TransactionID.
func (t *Tx) CreatePurchase(_ context.Context, p *domain.Purchase) error {
	d, err := t.write()
	if err != nil {
		return fmt.Errorf("create purchase for user %d: %w", p.UserID, err)
	}
	// Every transaction belongs to an existing user, so a transaction of
	// p.UserID also proves that the user exists.
	tr, ok := d.transactions.get(p.TransactionID)
	if !ok || tr.UserID != p.UserID {
		return fmt.Errorf("create purchase for user %d with transaction %d: %w", p.UserID, p.TransactionID, domain.ErrNotFound)
	}

	d.lastPurchaseID++
	stored := *p
	stored.ID = d.lastPurchaseID
	stored.CreatedAt = utc(p.CreatedAt)
	d.purchases.set(stored.ID, stored)
	d.purchByUser.set(pair{stored.UserID, stored.ID}, struct{}{})
	d.purchByTx.set(pair{stored.TransactionID, stored.ID}, struct{}{})
	p.ID = stored.ID
	return nil
}

// FindPurchases lists a user's purchases newest first (by id descending)
// and returns how many the user has.
func (t *Tx) FindPurchases(_ context.Context, userID int64, p domain.Page) ([]domain.Purchase, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("find purchases of user %d: %w", userID, err)
	}
	ids, total := pageUser(&d.purchByUser, userID, p)
	purchases := []domain.Purchase{}
	for _, id := range ids {
		pu, _ := d.purchases.get(id)
		purchases = append(purchases, pu)
	}
	return purchases, total, nil
}

// FindPurchaseByTransaction returns the user's purchase paid by the given
// transaction, or domain.ErrNotFound. If several purchases name the
// transaction, it returns the one with the lowest id.
func (t *Tx) FindPurchaseByTransaction(_ context.Context, userID, transactionID int64) (*domain.Purchase, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("find purchase of user %d by transaction %d: %w", userID, transactionID, err)
	}
	for k := range d.purchByTx.ascend(pair{transactionID, minID}) {
		if k.a != transactionID {
			break
		}
		if pu, _ := d.purchases.get(k.b); pu.UserID == userID {
			return &pu, nil
		}
	}
	return nil, fmt.Errorf("find purchase of user %d by transaction %d: %w", userID, transactionID, domain.ErrNotFound)
}

// ScanPurchases returns up to limit of the user's purchases with an id
// above afterID, by id ascending. A negative limit means no limit.
func (t *Tx) ScanPurchases(_ context.Context, userID, afterID int64, limit int) ([]domain.Purchase, error) {
	d, err := t.read()
	if err != nil {
		return nil, fmt.Errorf("scan purchases of user %d after %d: %w", userID, afterID, err)
	}
	purchases := []domain.Purchase{}
	for _, id := range scanUser(&d.purchByUser, userID, afterID, limit) {
		pu, _ := d.purchases.get(id)
		purchases = append(purchases, pu)
	}
	return purchases, nil
}
