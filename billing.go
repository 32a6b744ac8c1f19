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

// Credit adds amount, which must be positive, to the user's balance and
// returns the credit transaction.
func (e *Engine) Credit(ctx context.Context, userID int64, amount domain.Money, description string) (*domain.Transaction, error) {
	return e.changeBalance(ctx, userID, domain.TxCredit, amount, description, nil)
}

// Debit subtracts amount, which must be positive, from the user's balance
// and returns the debit transaction. The error has code
// insufficient_balance if the balance is smaller than amount, so balances
// never go below zero.
func (e *Engine) Debit(ctx context.Context, userID int64, amount domain.Money, description string) (*domain.Transaction, error) {
	return e.changeBalance(ctx, userID, domain.TxDebit, amount, description, nil)
}

// RecordPurchase pays for a purchase from the user's balance: it records a
// purchase transaction of -amount and the purchase, which links to it. The
// error has code insufficient_balance if the balance is too small.
func (e *Engine) RecordPurchase(ctx context.Context, userID int64, amount domain.Money, description string) (*domain.Purchase, error) {
	var p *domain.Purchase
	_, err := e.changeBalance(ctx, userID, domain.TxPurchase, amount, description, func(tx storage.Tx, t *domain.Transaction) error {
		p = &domain.Purchase{UserID: userID, TransactionID: t.ID, Description: t.Description, Amount: amount, CreatedAt: t.CreatedAt}
		return tx.CreatePurchase(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// changeBalance records one transaction of the given kind. A credit adds
// amount and a debit or purchase subtracts it. If then is not nil, it runs
// in the same storage transaction after the balance has changed.
func (e *Engine) changeBalance(ctx context.Context, userID int64, kind string, amount domain.Money, description string, then func(storage.Tx, *domain.Transaction) error) (*domain.Transaction, error) {
	description = strings.TrimSpace(description)
	if err := checkAmount("amount", amount); err != nil {
		return nil, err
	}
	if err := checkText("description", description, maxDescriptionLen); err != nil {
		return nil, err
	}
	if description == "" {
		description = defaultDescription(kind)
	}
	signed := amount
	if kind != domain.TxCredit {
		signed = -amount
	}

	t := &domain.Transaction{UserID: userID, Type: kind, Amount: signed, Description: description, CreatedAt: e.now()}
	err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		if err := applyTransaction(ctx, tx, t); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, t); err != nil {
				return err
			}
		}
		return appendActivity(ctx, tx, &domain.Activity{
			UserID: userID, Action: "billing." + kind,
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
