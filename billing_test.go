package sharepanel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
	"github.com/sharepanel/sharepanel/storage/memory"
	"github.com/sharepanel/sharepanel/storage/sqlite"
)

// stores returns a new empty store of each implementation, by name.
func stores(t *testing.T) map[string]func() storage.Store {
	return map[string]func() storage.Store{
		"memory": func() storage.Store { return memory.New() },
		"sqlite": func() storage.Store {
			s, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// moneyText matches an amount as the API renders it.
var moneyText = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

// moneyFields are the keys whose values are amounts in the billing
// responses.
var moneyFields = map[string]bool{
	"balance": true, "amount": true, "balance_after": true, "total": true, "unit_price": true,
	"total_spent": true, "spent_this_month": true, "spent": true, "credited": true, "total_credited": true, "price": true,
}

// checkMoneyJSON fails if an amount in the response's JSON is not a
// number with exactly two decimals.
func checkMoneyJSON(t *testing.T, resp sharepanel.Response) {
	t.Helper()
	b, err := json.Marshal(resp.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case json.Number:
			if moneyFields[key] && !moneyText.MatchString(v.String()) {
				t.Errorf("%s is %s in %s, want two decimals", key, v, b)
			}
		default:
			if moneyFields[key] {
				t.Errorf("%s is %v (%T) in %s, want a number", key, v, v, b)
			}
		}
	}
	// pagination.total is a count, not an amount.
	walk("", v.(map[string]any)["data"])
}

// TestBalanceIsSumOfTransactions runs random sequences of credits, debits,
// purchases and invoices, bad ones among them, against a model of the
// balance. After each sequence the balance must equal the sum of the
// transactions and every amount the API returns must have two decimals.
// Verify must find nothing broken.
func TestBalanceIsSumOfTransactions(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for seed := range 8 {
				t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
					checkRandomBilling(t, open(), uint64(seed))
				})
			}
		})
	}
}

func checkRandomBilling(t *testing.T, store storage.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	f := newFixture(t, store, sharepanel.Config{})
	uid, key := f.user("a@example.com", "pro")
	otherID, _ := f.user("b@example.com", "free")

	var balance domain.Money
	var invoices, transactions int
	for step := range 80 {
		amount := domain.Money(rng.Int64N(100_000) + 1)
		if rng.IntN(10) == 0 {
			amount = []domain.Money{0, -1, -amount, sharepanel.MaxAmount + 1}[rng.IntN(4)]
		}
		valid := amount > 0 && amount <= sharepanel.MaxAmount
		switch op := rng.IntN(4); op {
		case 0:
			tx, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: amount, Description: "top-up"})
			if valid != (err == nil) {
				t.Fatalf("step %d: credit %s: %v", step, amount, err)
			}
			if err == nil {
				balance += amount
				transactions++
				if tx.BalanceAfter != balance {
					t.Fatalf("step %d: balance after credit %s, want %s", step, tx.BalanceAfter, balance)
				}
			}
		case 1, 2:
			var err error
			if op == 1 {
				_, err = f.e.Debit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: amount})
			} else {
				_, err = f.e.RecordPurchase(ctx, sharepanel.BalanceChange{UserID: uid, Amount: amount, Description: "Extra storage"})
			}
			switch {
			case !valid:
				if err == nil {
					t.Fatalf("step %d: debit of %s succeeded", step, amount)
				}
			case amount > balance:
				if de, ok := err.(*domain.Error); !ok || de.Code != domain.CodeInsufficientBalance {
					t.Fatalf("step %d: debit of %s from %s: %v, want insufficient_balance", step, amount, balance, err)
				}
			case err != nil:
				t.Fatalf("step %d: debit of %s from %s: %v", step, amount, balance, err)
			default:
				balance -= amount
				transactions++
			}
		case 3:
			var items []sharepanel.NewInvoiceItem
			var want domain.Money
			for range rng.IntN(5) + 1 {
				it := sharepanel.NewInvoiceItem{Description: "Hosting", Quantity: rng.Int64N(10) + 1, UnitPrice: domain.Money(rng.Int64N(10_000))}
				want += it.UnitPrice * domain.Money(it.Quantity)
				items = append(items, it)
			}
			inv, err := f.e.CreateInvoice(ctx, sharepanel.NewInvoice{UserID: uid, Items: items})
			if err != nil {
				t.Fatalf("step %d: invoice: %v", step, err)
			}
			invoices++
			if inv.Total != want {
				t.Fatalf("step %d: invoice total %s, want %s", step, inv.Total, want)
			}
		}
	}
	// Another user's activity must not touch this balance.
	if _, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: otherID, Amount: 999, Description: "other"}); err != nil {
		t.Fatal(err)
	}

	resp := f.do(key, "billing", "balance", nil)
	wantOK(t, resp)
	checkMoneyJSON(t, resp)
	var got struct {
		Balance  json.Number `json:"balance"`
		Currency string      `json:"currency"`
	}
	data(t, resp, &got)
	if got.Balance.String() != balance.String() || got.Currency != "USD" {
		t.Fatalf("balance %s %s, want %s USD", got.Balance, got.Currency, balance)
	}

	// Sum the transactions page by page, oldest last.
	var sum domain.Money
	seen := 0
	for offset := 0; ; offset += 100 {
		resp := f.do(key, "billing", "transactions", map[string]string{"limit": "100", "offset": strconv.Itoa(offset)})
		wantOK(t, resp)
		checkMoneyJSON(t, resp)
		var rows []struct {
			Amount domain.Money `json:"amount"`
		}
		data(t, resp, &rows)
		for _, r := range rows {
			sum += r.Amount
		}
		seen += len(rows)
		if !resp.Envelope.Pagination.HasMore {
			break
		}
	}
	if sum != balance || seen != transactions {
		t.Fatalf("%d transactions add up to %s, want %d adding up to %s", seen, sum, transactions, balance)
	}

	for _, action := range []string{"invoices", "purchases"} {
		resp := f.do(key, "billing", action, map[string]string{"limit": "100"})
		wantOK(t, resp)
		checkMoneyJSON(t, resp)
	}
	if resp := f.do(key, "billing", "invoices", nil); resp.Envelope.Pagination.Total != invoices {
		t.Fatalf("invoices total %d, want %d", resp.Envelope.Pagination.Total, invoices)
	}
	for _, action := range []string{"overview", "spending"} {
		resp := f.do(key, "analytics", action, nil)
		wantOK(t, resp)
		checkMoneyJSON(t, resp)
	}

	r, err := f.e.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Broken != nil {
		t.Fatalf("verify: %s", r.Broken)
	}
	if r.Users != 2 || r.Transactions != transactions+1 || r.Invoices != invoices {
		t.Fatalf("verify checked %+v, want 2 users, %d transactions, %d invoices", r, transactions+1, invoices)
	}
}

// TestVerifyFindsBrokenRecords writes records that bypass the Engine and
// checks that Verify names each one.
func TestVerifyFindsBrokenRecords(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		tamper   func(tx storage.Tx, uid int64) (int64, error)
		wantKind string
	}{
		{
			name: "balance without a transaction",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				u := &domain.User{Email: "rich@example.com", Username: "rich", PasswordHash: "x", Plan: "free", Balance: 500}
				err := tx.CreateUser(ctx, u)
				return u.ID, err
			},
			wantKind: "balance",
		},
		{
			name: "balance below zero",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				t := &domain.Transaction{UserID: uid, Type: domain.TxDebit, Amount: -3000, Description: "x"}
				err := tx.AddTransaction(ctx, t)
				return t.ID, err
			},
			wantKind: "transaction",
		},
		{
			name: "credit with a negative amount",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				t := &domain.Transaction{UserID: uid, Type: domain.TxCredit, Amount: -1, Description: "x"}
				err := tx.AddTransaction(ctx, t)
				return t.ID, err
			},
			wantKind: "transaction",
		},
		{
			name: "purchase paid by a credit",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				last, _, err := tx.FindTransactions(ctx, uid, domain.Page{Limit: 1})
				if err != nil {
					return 0, err
				}
				p := &domain.Purchase{UserID: uid, TransactionID: last[0].ID, Description: "x", Amount: 2500}
				err = tx.CreatePurchase(ctx, p)
				return p.ID, err
			},
			wantKind: "purchase",
		},
		{
			name: "purchase transaction without a purchase",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				t := &domain.Transaction{UserID: uid, Type: domain.TxPurchase, Amount: -100, Description: "x"}
				err := tx.AddTransaction(ctx, t)
				return t.ID, err
			},
			wantKind: "transaction",
		},
		{
			name: "invoice total unlike its items",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				inv := &domain.Invoice{UserID: uid, Status: domain.InvoicePending, Description: "x", Total: 1001,
					Items: []domain.InvoiceItem{{Description: "x", Quantity: 1, UnitPrice: 1000, Amount: 1000}}}
				err := tx.CreateInvoice(ctx, inv)
				return inv.ID, err
			},
			wantKind: "invoice",
		},
		{
			name: "activity outside the chain",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				a := &domain.Activity{UserID: uid, Action: "orgs.delete", Subject: "org 1"}
				domain.ChainActivity(nil, a)
				err := tx.AddActivity(ctx, a)
				return a.ID, err
			},
			wantKind: "activity",
		},
		{
			name: "activity with a changed subject",
			tamper: func(tx storage.Tx, uid int64) (int64, error) {
				last, err := tx.LastActivity(ctx, uid)
				if err != nil {
					return 0, err
				}
				a := &domain.Activity{UserID: uid, Action: "orgs.new", Subject: "org 7"}
				domain.ChainActivity(last.Hash, a)
				a.Subject = "org 8"
				err = tx.AddActivity(ctx, a)
				return a.ID, err
			},
			wantKind: "activity",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, memory.New(), sharepanel.Config{})
			uid, key := f.user("a@example.com", "pro")
			if _, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 2500, Description: "top-up"}); err != nil {
				t.Fatal(err)
			}
			wantOK(t, f.do(key, "orgs", "new", map[string]string{"title": "Acme"}))

			r, err := f.e.Verify(ctx)
			if err != nil || r.Broken != nil {
				t.Fatalf("before tampering: %+v, %v", r, err)
			}
			var id int64
			err = storage.WithTx(ctx, f.store, true, func(tx storage.Tx) error {
				var err error
				id, err = tt.tamper(tx, uid)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			r, err = f.e.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Broken == nil || r.Broken.Kind != tt.wantKind || r.Broken.RecordID != id {
				t.Fatalf("verify found %v, want %s %d", r.Broken, tt.wantKind, id)
			}
		})
	}
}

// TestActivityChainLinksEntries checks that every logged action extends
// the caller's chain and that other users' entries stay out of it.
func TestActivityChainLinksEntries(t *testing.T) {
	f := newFixture(t, memory.New(), sharepanel.Config{})
	_, ann := f.user("ann@example.com", "pro")
	_, bob := f.user("bob@example.com", "pro")
	for i := range 3 {
		wantOK(t, f.do(ann, "orgs", "new", map[string]string{"title": fmt.Sprint("Ann ", i)}))
		wantOK(t, f.do(bob, "orgs", "new", map[string]string{"title": fmt.Sprint("Bob ", i)}))
	}
	resp := f.do(ann, "analytics", "activity", nil)
	wantOK(t, resp)
	var rows []struct {
		Action   string `json:"action"`
		Hash     string `json:"hash"`
		PrevHash string `json:"prev_hash"`
	}
	data(t, resp, &rows)
	if len(rows) != 3 {
		t.Fatalf("%d entries, want 3", len(rows))
	}
	// Newest first: each entry's prev_hash is the next row's hash.
	for i := 0; i+1 < len(rows); i++ {
		if rows[i].PrevHash != rows[i+1].Hash || rows[i].Hash == "" {
			t.Errorf("entry %d: prev_hash %s, want %s", i, rows[i].PrevHash, rows[i+1].Hash)
		}
	}
	if rows[2].PrevHash != "" {
		t.Errorf("first entry has prev_hash %s, want none", rows[2].PrevHash)
	}
}

// TestReferenceRecordsAChangeOnce retries credits, debits and purchases
// with the same reference, as a client does after a timeout.
func TestReferenceRecordsAChangeOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memory.New(), sharepanel.Config{})
	uid, _ := f.user("ann@example.com", "pro")
	otherID, _ := f.user("bob@example.com", "pro")

	first, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 5000, Reference: "pay_1"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 5000, Reference: "pay_1"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.BalanceAfter != 5000 {
		t.Errorf("repeat returned transaction %d with balance after %s, want %d with 50.00", again.ID, again.BalanceAfter, first.ID)
	}

	_, err = f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 6000, Reference: "pay_1"})
	if domain.ErrorCode(err) != domain.CodeConflict {
		t.Errorf("same reference, other amount: %v, want conflict", err)
	}
	_, err = f.e.Debit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 5000, Reference: "pay_1"})
	if domain.ErrorCode(err) != domain.CodeConflict {
		t.Errorf("same reference, other kind: %v, want conflict", err)
	}
	if _, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: otherID, Amount: 100, Reference: "pay_1"}); err != nil {
		t.Errorf("another user's reference: %v", err)
	}

	p1, err := f.e.RecordPurchase(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 1200, Description: "Domain", Reference: "order_9"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.e.RecordPurchase(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 1200, Description: "Domain", Reference: "order_9"})
	if err != nil {
		t.Fatal(err)
	}
	if p2.ID != p1.ID || p2.TransactionID != p1.TransactionID {
		t.Errorf("repeated purchase %+v, want %+v", p2, p1)
	}

	var balance domain.Money
	err = storage.WithTx(ctx, f.store, false, func(tx storage.Tx) error {
		u, err := tx.FindUserByID(ctx, uid)
		balance = u.Balance
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if balance != 3800 {
		t.Errorf("balance %s, want 38.00 from one credit and one purchase", balance)
	}
	r, err := f.e.Verify(ctx)
	if err != nil || r.Broken != nil {
		t.Fatalf("verify: %+v, %v", r, err)
	}
	if r.Purchases != 1 {
		t.Errorf("verify checked %d purchases, want 1", r.Purchases)
	}

	long := strings.Repeat("x", domain.MaxReferenceLen+1)
	if _, err := f.e.Credit(ctx, sharepanel.BalanceChange{UserID: uid, Amount: 1, Reference: long}); domain.ErrorCode(err) != domain.CodeInvalidParameter {
		t.Errorf("reference of %d bytes: %v, want invalid_parameter", len(long), err)
	}
}
