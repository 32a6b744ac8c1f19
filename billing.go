package sharepanel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// This file contains the typed methods that change balances and create
// invoices and notifications. The public API only reads these records, and
// the embedding application (or the CLI's admin verbs) writes them. Each
// method writes its records and any balance change in one transaction,
// with an activity entry for every balance change and invoice.

// Limits on the amounts and texts of billing records.
const (
	// MaxAmount is the largest amount of one transaction, purchase or
	// invoice: one billion dollars, in cents.
	MaxAmount domain.Money = 100_000_000_000
	// MaxInvoiceItems is the largest number of items on one invoice.
	MaxInvoiceItems = 100
	// MaxItemQuantity is the largest quantity of one invoice item.
	MaxItemQuantity = 1_000_000

	maxDescriptionLen = 500
	maxTitleLen       = 200
	maxMessageLen     = 2000

	// defaultInvoiceTerm is how long after its creation an invoice is due
	// when NewInvoice gives no due date.
	defaultInvoiceTerm = 30 * 24 * time.Hour
)

// BalanceChange is the input of Credit, Debit and RecordPurchase.
type BalanceChange struct {
	UserID int64
	// Amount is positive, at most MaxAmount; a debit or purchase takes it
	// from the balance.
	Amount      domain.Money
	Description string
	// Reference, if set, makes the change idempotent: a second change
	// with the same reference for the same user records nothing and
	// returns the first one, if it has the same kind and amount, and
	// fails with code conflict otherwise. Use the id of the payment or
	// order that caused the change.
	Reference string
}

// Credit adds c.Amount to the user's balance and returns the credit
// transaction.
func (e *Engine) Credit(ctx context.Context, c BalanceChange) (*domain.Transaction, error) {
	return e.changeBalance(ctx, domain.TxCredit, c, nil)
}

// Debit subtracts c.Amount from the user's balance and returns the debit
// transaction. The error has code insufficient_balance if the balance is
// smaller than the amount, so balances never go below zero.
func (e *Engine) Debit(ctx context.Context, c BalanceChange) (*domain.Transaction, error) {
	return e.changeBalance(ctx, domain.TxDebit, c, nil)
}

// RecordPurchase pays for a purchase from the user's balance: it records a
// purchase transaction of -c.Amount and the purchase, which links to it.
// The error has code insufficient_balance if the balance is too small.
func (e *Engine) RecordPurchase(ctx context.Context, c BalanceChange) (*domain.Purchase, error) {
	var p *domain.Purchase
	_, err := e.changeBalance(ctx, domain.TxPurchase, c, func(tx storage.Tx, t *domain.Transaction, replay bool) error {
		if replay {
			var err error
			p, err = tx.FindPurchaseByTransaction(ctx, c.UserID, t.ID)
			return err
		}
		p = &domain.Purchase{UserID: c.UserID, TransactionID: t.ID, Description: t.Description, Amount: c.Amount, CreatedAt: t.CreatedAt}
		return tx.CreatePurchase(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// changeBalance records one transaction of the given kind. A credit adds
// the amount and a debit or purchase subtracts it. If then is not nil, it
// runs in the same storage transaction after the balance has changed, or,
// with replay set, after the transaction of an earlier change with the
// same reference was found.
func (e *Engine) changeBalance(ctx context.Context, kind string, c BalanceChange, then func(tx storage.Tx, t *domain.Transaction, replay bool) error) (*domain.Transaction, error) {
	description := strings.TrimSpace(c.Description)
	if err := checkAmount("amount", c.Amount); err != nil {
		return nil, err
	}
	if err := checkText("description", description, maxDescriptionLen); err != nil {
		return nil, err
	}
	if err := checkText("reference", c.Reference, domain.MaxReferenceLen); err != nil || len(c.Reference) > domain.MaxReferenceLen {
		return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid reference: at most %d bytes of text without control characters", domain.MaxReferenceLen)
	}
	if description == "" {
		description = defaultDescription(kind)
	}
	signed := c.Amount
	if kind != domain.TxCredit {
		signed = -c.Amount
	}

	t := &domain.Transaction{UserID: c.UserID, Type: kind, Amount: signed, Description: description, Reference: c.Reference, CreatedAt: e.now()}
	err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		if c.Reference != "" {
			earlier, err := tx.FindTransactionByReference(ctx, c.UserID, c.Reference)
			switch {
			case err == nil:
				if earlier.Type != kind || earlier.Amount != signed {
					return domain.Errorf(domain.CodeConflict, "Reference %q was already used for a %s of %s", c.Reference, earlier.Type, earlier.Amount)
				}
				t = earlier
				if then != nil {
					return then(tx, t, true)
				}
				return nil
			case !errors.Is(err, domain.ErrNotFound):
				return err
			}
		}
		if err := applyTransaction(ctx, tx, t); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, t, false); err != nil {
				return err
			}
		}
		return appendActivity(ctx, tx, &domain.Activity{
			UserID: c.UserID, Action: "billing." + kind,
			Subject: fmt.Sprintf("transaction %d: %s", t.ID, signed), CreatedAt: t.CreatedAt,
		})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// applyTransaction checks that t keeps the user's balance between zero and
// the largest Money, then stores it.
func applyTransaction(ctx context.Context, tx storage.Tx, t *domain.Transaction) error {
	u, err := tx.FindUserByID(ctx, t.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgUserNotFound}
	}
	if err != nil {
		return err
	}
	if t.Amount < 0 && u.Balance < -t.Amount {
		return &domain.Error{Code: domain.CodeInsufficientBalance, Message: domain.MsgInsufficientBalance}
	}
	if t.Amount > 0 && u.Balance > math.MaxInt64-t.Amount {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid amount: the balance would exceed %s", domain.Money(math.MaxInt64))
	}
	return tx.AddTransaction(ctx, t)
}

func defaultDescription(kind string) string {
	switch kind {
	case domain.TxCredit:
		return "Credit"
	case domain.TxDebit:
		return "Debit"
	}
	return "Purchase"
}

// NewInvoice is the input of CreateInvoice. Status defaults to pending and
// DueAt to 30 days after creation. An invoice needs at least one item, and
// its total is the sum of the items' amounts.
type NewInvoice struct {
	UserID      int64
	Status      string
	Description string
	DueAt       time.Time
	Items       []NewInvoiceItem
}

// NewInvoiceItem is one line of a NewInvoice. Quantity defaults to 1.
type NewInvoiceItem struct {
	Description string
	Quantity    int64
	UnitPrice   domain.Money
}

// CreateInvoice stores an invoice with its items. Creating an invoice does
// not change the balance: an invoice states what is owed, and how it is
// paid is up to the embedding application.
func (e *Engine) CreateInvoice(ctx context.Context, n NewInvoice) (*domain.Invoice, error) {
	inv, err := e.buildInvoice(n)
	if err != nil {
		return nil, err
	}
	err = storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		if _, err := tx.FindUserByID(ctx, n.UserID); err != nil {
			return notFoundAs(err, domain.MsgUserNotFound)
		}
		if err := tx.CreateInvoice(ctx, inv); err != nil {
			return err
		}
		return appendActivity(ctx, tx, &domain.Activity{
			UserID: n.UserID, Action: "billing.invoice",
			Subject: fmt.Sprintf("invoice %d: %s, %s", inv.ID, inv.Total, inv.Status), CreatedAt: inv.CreatedAt,
		})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// buildInvoice checks n and returns the invoice to store, with defaults
// applied and every amount computed.
func (e *Engine) buildInvoice(n NewInvoice) (*domain.Invoice, error) {
	now := e.now()
	inv := &domain.Invoice{
		UserID: n.UserID, Status: n.Status, Description: strings.TrimSpace(n.Description),
		CreatedAt: now, DueAt: n.DueAt,
	}
	if inv.Status == "" {
		inv.Status = domain.InvoicePending
	}
	if !domain.ValidInvoiceStatus(inv.Status) {
		return nil, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgInvalidInvoiceState}
	}
	if inv.DueAt.IsZero() {
		inv.DueAt = now.Add(defaultInvoiceTerm)
	}
	if err := checkText("description", inv.Description, maxDescriptionLen); err != nil {
		return nil, err
	}
	if len(n.Items) == 0 || len(n.Items) > MaxInvoiceItems {
		return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid items: an invoice has 1 to %d items", MaxInvoiceItems)
	}
	for i, it := range n.Items {
		item := domain.InvoiceItem{Description: strings.TrimSpace(it.Description), Quantity: it.Quantity, UnitPrice: it.UnitPrice}
		if item.Quantity == 0 {
			item.Quantity = 1
		}
		if item.Description == "" {
			item.Description = inv.Description
		}
		if item.Quantity < 0 || item.Quantity > MaxItemQuantity {
			return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid quantity of item %d: must be from 1 to %d", i+1, MaxItemQuantity)
		}
		if item.UnitPrice < 0 || item.UnitPrice > MaxAmount {
			return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid unit price of item %d: must be from 0.00 to %s", i+1, MaxAmount)
		}
		if err := checkText("item description", item.Description, maxDescriptionLen); err != nil {
			return nil, err
		}
		// Both factors are bounded, so the product fits in int64. The
		// total is checked after each item, so it cannot overflow either.
		item.Amount = item.UnitPrice * domain.Money(item.Quantity)
		inv.Total += item.Amount
		if inv.Total > MaxAmount {
			return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid items: the total exceeds %s", MaxAmount)
		}
		inv.Items = append(inv.Items, item)
	}
	if inv.Description == "" {
		inv.Description = inv.Items[0].Description
	}
	return inv, nil
}

// Notify sends a notification to the user.
func (e *Engine) Notify(ctx context.Context, userID int64, title, message string) (*domain.Notification, error) {
	title, message = strings.TrimSpace(title), strings.TrimSpace(message)
	if title == "" {
		return nil, domain.Errorf(domain.CodeMissingParameter, "Missing notification title")
	}
	if message == "" {
		return nil, domain.Errorf(domain.CodeMissingParameter, "Missing notification message")
	}
	if err := checkText("title", title, maxTitleLen); err != nil {
		return nil, err
	}
	if err := checkText("message", message, maxMessageLen); err != nil {
		return nil, err
	}
	n := &domain.Notification{UserID: userID, Title: title, Message: message, CreatedAt: e.now()}
	err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		if _, err := tx.FindUserByID(ctx, userID); err != nil {
			return notFoundAs(err, domain.MsgUserNotFound)
		}
		return tx.CreateNotification(ctx, n)
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// checkAmount accepts amounts from 0.01 to MaxAmount.
func checkAmount(name string, m domain.Money) error {
	if m <= 0 || m > MaxAmount {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: must be from 0.01 to %s", name, MaxAmount)
	}
	return nil
}

// checkText accepts clean text of at most limit characters.
func checkText(name, s string, limit int) error {
	if !domain.CleanText(s) {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: contains a control character or invalid UTF-8", name)
	}
	if utf8.RuneCountInString(s) > limit {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: at most %d characters allowed", name, limit)
	}
	return nil
}
