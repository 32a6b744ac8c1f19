package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Transaction types. Every change of a balance is one transaction.
const (
	TxCredit   = "credit"   // money added to the balance
	TxDebit    = "debit"    // money taken from the balance
	TxPurchase = "purchase" // a debit that records a purchase
)

// Transaction is one change of a user's balance. Amount is positive for
// credits and negative for debits and purchases; BalanceAfter is the
// balance once it was applied, so a user's transactions in id order add up
// to the balance.
type Transaction struct {
	ID           int64
	UserID       int64
	Type         string
	Amount       Money
	BalanceAfter Money
	Description  string
	CreatedAt    time.Time
	// Reference is an optional key chosen by the caller, such as a
	// payment provider's id, unique among the user's transactions, so
	// that a retried change is recorded once. Empty means none.
	Reference string
}

// MaxReferenceLen is the longest Transaction.Reference, in bytes.
const MaxReferenceLen = 255

// Invoice statuses.
const (
	InvoicePending = "pending"
	InvoicePaid    = "paid"
	InvoiceOverdue = "overdue"
)

// ValidInvoiceStatus reports whether s is one of the three statuses.
func ValidInvoiceStatus(s string) bool {
	return s == InvoicePending || s == InvoicePaid || s == InvoiceOverdue
}

// Invoice is a bill sent to a user. The Engine sets Total to the sum of
// the items' amounts, and Engine.Verify checks it. An invoice is a
// statement: creating one does not change the balance, and paying it is
// up to the embedding application.
type Invoice struct {
	ID          int64
	UserID      int64
	Status      string
	Description string
	Total       Money
	CreatedAt   time.Time
	DueAt       time.Time
	// Items are filled in by lookups of one invoice, not by lists.
	Items []InvoiceItem
}

// InvoiceItem is one line of an invoice: Amount is Quantity × UnitPrice.
type InvoiceItem struct {
	ID          int64
	InvoiceID   int64
	Description string
	Quantity    int64
	UnitPrice   Money
	Amount      Money
}

// Purchase is something a user bought with their balance. TransactionID is
// the purchase transaction that paid for it.
type Purchase struct {
	ID            int64
	UserID        int64
	TransactionID int64
	Description   string
	Amount        Money
	CreatedAt     time.Time
}

// Notification is a message to one user.
type Notification struct {
	ID        int64
	UserID    int64
	Title     string
	Message   string
	Read      bool
	CreatedAt time.Time
	ReadAt    *time.Time
}

// MonthTotal sums a user's transactions of one UTC month (2006-01).
// Credits is the sum of positive amounts, Debits the sum of the negative
// ones as a positive number.
type MonthTotal struct {
	Month        string
	Credits      Money
	Debits       Money
	Transactions int
}

// activityHashVersion starts every hashed record, so a later change of the
// layout cannot produce the hash of an earlier one.
const activityHashVersion = "sharepanel activity v1\x00"

// ActivityHash returns the chain hash of a: SHA-256 over prev and every
// field of a except ID, PrevHash and Hash. Each string is prefixed with its
// length, so two different entries never feed the hash the same bytes.
func ActivityHash(prev []byte, a *Activity) []byte {
	h := sha256.New()
	var buf [8]byte
	writeBytes := func(b []byte) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(b)))
		h.Write(buf[:])
		h.Write(b)
	}
	h.Write([]byte(activityHashVersion))
	writeBytes(prev)
	binary.BigEndian.PutUint64(buf[:], uint64(a.UserID))
	h.Write(buf[:])
	writeBytes([]byte(a.Action))
	writeBytes([]byte(a.Subject))
	writeBytes([]byte(a.ClientIP))
	binary.BigEndian.PutUint64(buf[:], uint64(a.CreatedAt.UnixMicro()))
	h.Write(buf[:])
	return h.Sum(nil)
}

// ChainActivity links a to prev, the Hash of the user's previous entry
// (nil for the first), by setting a.PrevHash and a.Hash.
func ChainActivity(prev []byte, a *Activity) {
	a.PrevHash = append([]byte(nil), prev...)
	a.Hash = ActivityHash(a.PrevHash, a)
}
