package cli

import (
	"context"
	"fmt"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
)

// parseAmount reads an amount flag in dollars, from 0.01 to
// sharepanel.MaxAmount.
func parseAmount(name, value string) (domain.Money, error) {
	m, err := domain.ParseMoney(value)
	if err != nil || m <= 0 || m > sharepanel.MaxAmount {
		return 0, usageErrorf("invalid --%s %q: want an amount from 0.01 to %s with at most two decimals", name, value, sharepanel.MaxAmount)
	}
	return m, nil
}

func runInvoiceCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "invoice create", "--user EMAIL --amount 12.50 [--status pending|paid|overdue] [--description D]")
	db := dbFlag(fs)
	userEmail := fs.String("user", "", "`email` of the billed user (required)")
	amount := fs.String("amount", "", "invoice total in USD, at most two decimals (required)")
	status := fs.String("status", domain.InvoicePending, "status: pending, paid or overdue")
	description := fs.String("description", "Invoice", "what the invoice is for; also its one item's description")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := requireFlags(map[string]string{"user": *userEmail, "amount": *amount}, "user", "amount"); err != nil {
		return err
	}
	total, err := parseAmount("amount", *amount)
	if err != nil {
		return err
	}
	if !domain.ValidInvoiceStatus(*status) {
		return usageErrorf("invalid --status %q: use pending, paid or overdue", *status)
	}

	return withExistingEngine(ctx, e, *db, nil, func(engine *sharepanel.Engine) error {
		u, err := engine.FindUserByEmail(ctx, *userEmail)
		if err != nil {
			return engineError(err)
		}
		inv, err := engine.CreateInvoice(ctx, sharepanel.NewInvoice{
			UserID: u.ID, Status: *status, Description: *description,
			Items: []sharepanel.NewInvoiceItem{{Description: *description, Quantity: 1, UnitPrice: total}},
		})
		if err != nil {
			return engineError(err)
		}
		return printJSON(e, struct {
			ID     int64        `json:"id"`
			UserID int64        `json:"user_id"`
			Total  domain.Money `json:"total"`
			Status string       `json:"status"`
		}{inv.ID, inv.UserID, inv.Total, inv.Status})
	})
}

func runNotify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "notify", "--user EMAIL --title T --message M")
	db := dbFlag(fs)
	userEmail := fs.String("user", "", "`email` of the recipient (required)")
	title := fs.String("title", "", "notification title (required)")
	message := fs.String("message", "", "notification text (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := requireFlags(map[string]string{"user": *userEmail, "title": *title, "message": *message}, "user", "title", "message"); err != nil {
		return err
	}

	return withExistingEngine(ctx, e, *db, nil, func(engine *sharepanel.Engine) error {
		u, err := engine.FindUserByEmail(ctx, *userEmail)
		if err != nil {
			return engineError(err)
		}
		n, err := engine.Notify(ctx, u.ID, *title, *message)
		if err != nil {
			return engineError(err)
		}
		return printJSON(e, struct {
			ID     int64  `json:"id"`
			UserID int64  `json:"user_id"`
			Title  string `json:"title"`
		}{n.ID, n.UserID, n.Title})
	})
}

func runCredit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "credit", "--user EMAIL --amount 25.00 [--description D] [--reference R]")
	db := dbFlag(fs)
	userEmail := fs.String("user", "", "`email` of the user to credit (required)")
	amount := fs.String("amount", "", "amount in USD to add to the balance, at most two decimals (required)")
	description := fs.String("description", "", "what the credit is for (default: Credit)")
	reference := fs.String("reference", "", "your id for this credit, such as a payment id; a repeat with the same reference credits nothing and prints the first credit")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := requireFlags(map[string]string{"user": *userEmail, "amount": *amount}, "user", "amount"); err != nil {
		return err
	}
	m, err := parseAmount("amount", *amount)
	if err != nil {
		return err
	}

	return withExistingEngine(ctx, e, *db, nil, func(engine *sharepanel.Engine) error {
		u, err := engine.FindUserByEmail(ctx, *userEmail)
		if err != nil {
			return engineError(err)
		}
		t, err := engine.Credit(ctx, sharepanel.BalanceChange{UserID: u.ID, Amount: m, Description: *description, Reference: *reference})
		if err != nil {
			return engineError(err)
		}
		return printJSON(e, struct {
			ID           int64        `json:"id"`
			UserID       int64        `json:"user_id"`
			Amount       domain.Money `json:"amount"`
			BalanceAfter domain.Money `json:"balance_after"`
		}{t.ID, t.UserID, t.Amount, t.BalanceAfter})
	})
}

// errBroken makes verify exit 1 after it has printed its report.
type errBroken struct{ b *sharepanel.Broken }

func (e errBroken) Error() string { return "integrity check failed: " + e.b.String() }

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify", "")
	db := dbFlag(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	return withExistingEngine(ctx, e, *db, nil, func(engine *sharepanel.Engine) error {
		r, err := engine.Verify(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "checked %d users: %d transactions against their balances, %d purchases, %d invoices with %d items, %d activity entries in their hash chains\n",
			r.Users, r.Transactions, r.Purchases, r.Invoices, r.InvoiceItems, r.Activities)
		if r.Broken != nil {
			return errBroken{r.Broken}
		}
		fmt.Fprintln(e.stdout, "ok")
		return nil
	})
}
