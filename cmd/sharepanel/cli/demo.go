package cli

import (
	"context"
	"fmt"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// The demo account that serve --demo creates. The password is fixed and
// printed on purpose: the account exists to try the API on a local
// database, never on one that holds real users.
const (
	demoEmail    = "demo@sharepanel.local"
	demoPassword = "demo-password"
	demoPlan     = "pro"
	demoBalance  = domain.Money(10000) // 100.00 USD
)

// demoInstances are the demo account's instances, one in each status, so
// that the bulk instance actions have something to act on.
var demoInstances = []sharepanel.NewInstance{
	{Name: "Demo Web", Status: domain.StatusActive},
	{Name: "Demo Worker", Status: domain.StatusSleep},
	{Name: "Demo Old Build", Status: domain.StatusDead},
}

// seedDemo creates the demo account with its instances if the database has
// no users, and prints the credentials on stdout. On a database that has
// users it creates nothing: it prints the credentials again if the demo
// account is among them, and prints that it was not seeded otherwise.
func seedDemo(ctx context.Context, e *env, store storage.Store, engine *sharepanel.Engine) error {
	var users int
	err := storage.WithTx(ctx, store, false, func(tx storage.Tx) error {
		var err error
		users, err = tx.CountUsers(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}

	if users > 0 {
		_, err := engine.FindUserByEmail(ctx, demoEmail)
		if domain.ErrorCode(err) == domain.CodeNotFound {
			fmt.Fprintf(e.stdout, "demo: the database already has %d users and no demo account; nothing seeded\n", users)
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "demo: account already seeded")
		printDemoCredentials(e)
		return nil
	}

	u, err := engine.CreateUser(ctx, domain.NewUser{
		Email: demoEmail, Password: demoPassword, Username: "demo", Plan: demoPlan, Balance: demoBalance,
	})
	if err != nil {
		return err
	}
	for _, in := range demoInstances {
		in.UserID = u.ID
		if _, err := engine.CreateInstance(ctx, in); err != nil {
			return fmt.Errorf("create instance %q: %w", in.Name, err)
		}
	}
	if err := seedDemoBilling(ctx, engine, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo: account seeded with %d instances, invoices, a purchase and notifications\n", len(demoInstances))
	printDemoCredentials(e)
	return nil
}

func printDemoCredentials(e *env) {
	fmt.Fprintf(e.stdout, "demo email: %s\ndemo password: %s\n", demoEmail, demoPassword)
}

// seedDemoBilling gives the demo account something in every billing,
// analytics and notifications list: a paid and a pending invoice, a
// purchase and two notifications.
func seedDemoBilling(ctx context.Context, engine *sharepanel.Engine, userID int64) error {
	invoices := []sharepanel.NewInvoice{
		{UserID: userID, Status: domain.InvoicePaid, Description: "Pro plan", Items: []sharepanel.NewInvoiceItem{{Description: "Pro plan, one month", UnitPrice: 2900}}},
		{UserID: userID, Description: "Extra resources", Items: []sharepanel.NewInvoiceItem{
			{Description: "Backup storage, 10 GB", Quantity: 2, UnitPrice: 250},
			{Description: "Dedicated IP address", UnitPrice: 400},
		}},
	}
	for _, inv := range invoices {
		if _, err := engine.CreateInvoice(ctx, inv); err != nil {
			return fmt.Errorf("create invoice %q: %w", inv.Description, err)
		}
	}
	if _, err := engine.RecordPurchase(ctx, sharepanel.BalanceChange{UserID: userID, Amount: 1200, Description: "Domain name, one year"}); err != nil {
		return fmt.Errorf("record purchase: %w", err)
	}
	for _, n := range [][2]string{
		{"Welcome to SharePanel", "Your demo account is ready. Try mode=billing and mode=analytics."},
		{"Invoice due", "Your invoice for extra resources is due in 30 days."},
	} {
		if _, err := engine.Notify(ctx, userID, n[0], n[1]); err != nil {
			return fmt.Errorf("send notification: %w", err)
		}
	}
	return nil
}
