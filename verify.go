package sharepanel

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// verifyBatch is how many rows Verify reads at a time.
const verifyBatch = 500

// VerifyReport is the outcome of Verify: the number of records checked
// and, in Broken, the first broken record. Broken is nil when every check
// passed. Otherwise the counts end at the record where Verify stopped.
type VerifyReport struct {
	Users        int
	Transactions int
	Purchases    int
	Invoices     int
	InvoiceItems int
	Activities   int
	Broken       *Broken
}

// Broken is a record that fails an integrity check.
type Broken struct {
	// Kind is the kind of record: "balance" (RecordID is the user's id),
	// "transaction", "purchase", "invoice" or "activity".
	Kind     string
	UserID   int64
	RecordID int64
	Reason   string
}

func (b *Broken) String() string {
	return fmt.Sprintf("%s %d of user %d: %s", b.Kind, b.RecordID, b.UserID, b.Reason)
}

// Verify checks the integrity of every user's records. Each transaction's
// balance_after must be the running sum of the amounts, and the balance
// their sum. Each purchase must be paid by its own purchase transaction of
// the same amount, and each purchase transaction pay for one purchase.
// Each invoice's total must equal the sum of its items, and each item's
// amount its quantity times its unit price. The activity log's hash chain
// must be unbroken.
//
// Verify reads everything in one read-only transaction, so it checks one
// consistent state while writers go on. It stops at the first broken
// record and reports it in VerifyReport.Broken. The error is for storage
// failures only.
//
// Verify finds records that disagree with each other, not a consistent
// rewrite. Deleting the newest activity entries leaves a shorter chain
// that is still whole, and transactions and invoices carry no hashes, so
// a balance rewritten together with its transactions passes. Compare the
// newest entry's hash (analytics activity shows it) with one kept
// elsewhere to detect the first.
func (e *Engine) Verify(ctx context.Context) (*VerifyReport, error) {
	r := &VerifyReport{}
	err := storage.WithTx(ctx, e.store, false, func(tx storage.Tx) error {
		var after int64
		for {
			users, err := tx.ScanUsers(ctx, after, verifyBatch)
			if err != nil {
				return err
			}
			for i := range users {
				r.Users++
				if err := verifyUser(ctx, tx, &users[i], r); err != nil || r.Broken != nil {
					return err
				}
			}
			if len(users) < verifyBatch {
				return nil
			}
			after = users[len(users)-1].ID
		}
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// checkTransaction returns why t is broken, or "" if it is not. sum is
// the running sum of the user's amounts up to and including t.
func checkTransaction(t *domain.Transaction, sum domain.Money) string {
	switch {
	case t.Type == domain.TxCredit && t.Amount <= 0:
		return fmt.Sprintf("a credit of %s is not positive", t.Amount)
	case (t.Type == domain.TxDebit || t.Type == domain.TxPurchase) && t.Amount >= 0:
		return fmt.Sprintf("a %s of %s is not negative", t.Type, t.Amount)
	case t.Type != domain.TxCredit && t.Type != domain.TxDebit && t.Type != domain.TxPurchase:
		return fmt.Sprintf("unknown type %q", t.Type)
	case t.BalanceAfter != sum:
		return fmt.Sprintf("balance after is %s, but the transactions up to it add up to %s", t.BalanceAfter, sum)
	case sum < 0:
		return fmt.Sprintf("the balance after it is %s, below zero", sum)
	}
	return ""
}

func verifyUser(ctx context.Context, tx storage.Tx, u *domain.User, r *VerifyReport) error {
	broken := func(kind string, id int64, format string, args ...any) {
		r.Broken = &Broken{Kind: kind, UserID: u.ID, RecordID: id, Reason: fmt.Sprintf(format, args...)}
	}

	var sum domain.Money
	unpaid := map[int64]domain.Money{} // purchase transactions not yet matched, by id
	for after := int64(0); ; {
		list, err := tx.ScanTransactions(ctx, u.ID, after, verifyBatch)
		if err != nil {
			return err
		}
		for _, t := range list {
			r.Transactions++
			sum += t.Amount
			if reason := checkTransaction(&t, sum); reason != "" {
				broken("transaction", t.ID, "%s", reason)
				return nil
			}
			if t.Type == domain.TxPurchase {
				unpaid[t.ID] = -t.Amount
			}
		}
		if len(list) < verifyBatch {
			break
		}
		after = list[len(list)-1].ID
	}
	if u.Balance != sum {
		broken("balance", u.ID, "balance is %s, but the transactions add up to %s", u.Balance, sum)
		return nil
	}

	for after := int64(0); ; {
		list, err := tx.ScanPurchases(ctx, u.ID, after, verifyBatch)
		if err != nil {
			return err
		}
		for _, p := range list {
			r.Purchases++
			amount, ok := unpaid[p.TransactionID]
			switch {
			case !ok:
				broken("purchase", p.ID, "transaction %d is not an unmatched purchase transaction of the user", p.TransactionID)
				return nil
			case amount != p.Amount:
				broken("purchase", p.ID, "amount is %s, but transaction %d paid %s", p.Amount, p.TransactionID, amount)
				return nil
			}
			delete(unpaid, p.TransactionID)
		}
		if len(list) < verifyBatch {
			break
		}
		after = list[len(list)-1].ID
	}
	if len(unpaid) > 0 {
		ids := make([]int64, 0, len(unpaid))
		for id := range unpaid {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		broken("transaction", ids[0], "a purchase transaction without a purchase")
		return nil
	}

	for after := int64(0); ; {
		list, err := tx.ScanInvoices(ctx, u.ID, after, verifyBatch)
		if err != nil {
			return err
		}
		for _, inv := range list {
			r.Invoices++
			var total domain.Money
			for _, it := range inv.Items {
				r.InvoiceItems++
				if it.Amount != it.UnitPrice*domain.Money(it.Quantity) {
					broken("invoice", inv.ID, "item %d amounts to %s, but %d × %s is %s", it.ID, it.Amount, it.Quantity, it.UnitPrice, it.UnitPrice*domain.Money(it.Quantity))
					return nil
				}
				total += it.Amount
			}
			if inv.Total != total {
				broken("invoice", inv.ID, "total is %s, but its items add up to %s", inv.Total, total)
				return nil
			}
		}
		if len(list) < verifyBatch {
			break
		}
		after = list[len(list)-1].ID
	}

	var prev []byte
	for after := int64(0); ; {
		list, err := tx.ScanActivities(ctx, u.ID, after, verifyBatch)
		if err != nil {
			return err
		}
		for i := range list {
			a := &list[i]
			r.Activities++
			if !bytes.Equal(a.PrevHash, prev) {
				broken("activity", a.ID, "prev_hash does not match the hash of the entry before it")
				return nil
			}
			if !bytes.Equal(a.Hash, domain.ActivityHash(a.PrevHash, a)) {
				broken("activity", a.ID, "hash does not match the entry's contents")
				return nil
			}
			prev = a.Hash
		}
		if len(list) < verifyBatch {
			break
		}
		after = list[len(list)-1].ID
	}
	return nil
}
