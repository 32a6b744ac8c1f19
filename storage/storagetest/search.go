package storagetest

import (
	"context"
	"testing"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// searchCase is one query of a search test: the ids expected with the
// limit, and the number of all matches.
type searchCase struct {
	name  string
	query string
	limit int
	want  []int64
	total int
}

// runSearch runs each case through search in a read-only transaction.
func runSearch[T any](t *testing.T, s storage.Store, tests []searchCase, id func(T) int64,
	search func(ctx context.Context, tx storage.Tx, q string, limit int) ([]T, int, error)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, total, err := search(ctx, tx, tt.query, tt.limit)
				if err != nil {
					return err
				}
				want := tt.want
				if want == nil {
					want = []int64{}
				}
				equal(t, "ids matching "+tt.query, ids(got, id), want)
				equal(t, "total matching "+tt.query, total, tt.total)
				return nil
			})
		})
	}
}

func testSearch(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("orgs", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		org := func(adminID int64, title, path, contact string) domain.Org {
			o := domain.Org{Title: title, Path: path, AdminID: adminID, Contact: contact, CreatedBy: adminID, CreatedAt: t0}
			update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateOrg(ctx, &o) })
			return o
		}
		o1 := org(a.ID, "ÄRZTE ohne Grenzen", "aerzte", "info@aerzte.example")
		o2 := org(a.ID, "Acme 100% Hosting", "acme", "ops@acme.example")
		o3 := org(b.ID, "Ärzte Bob", "bob-aerzte", "bob@example.com")
		o4 := org(b.ID, "Shared_Space", "shared", "team@shared.example")
		o5 := org(b.ID, "Ab", "cd", "x@example.com")
		o6 := org(a.ID, "Admin but not a member", "lonely", "lonely@example.com")
		addMember(t, s, o1.ID, a.ID)
		addMember(t, s, o2.ID, a.ID)
		addMember(t, s, o3.ID, b.ID)
		addMember(t, s, o4.ID, a.ID)
		addMember(t, s, o4.ID, b.ID)
		addMember(t, s, o5.ID, a.ID)
		addMember(t, s, o6.ID, b.ID)

		tests := []searchCase{
			{name: "title lower case", query: "ärzte", limit: 10, want: []int64{o1.ID}, total: 1},
			{name: "title upper case", query: "ÄRZTE OHNE", limit: 10, want: []int64{o1.ID}, total: 1},
			{name: "path", query: "AERZTE", limit: 10, want: []int64{o1.ID}, total: 1},
			{name: "contact", query: "ops@", limit: 10, want: []int64{o2.ID}, total: 1},
			{name: "percent is literal", query: "%", limit: 10, want: []int64{o2.ID}, total: 1},
			{name: "percent in context", query: "100% h", limit: 10, want: []int64{o2.ID}, total: 1},
			{name: "underscore is literal", query: "_", limit: 10, want: []int64{o4.ID}, total: 1},
			{name: "underscore in context", query: "d_s", limit: 10, want: []int64{o4.ID}, total: 1},
			{name: "no match across fields", query: "bc", limit: 10, want: nil, total: 0},
			{name: "other member's org", query: "bob", limit: 10, want: nil, total: 0},
			{name: "membership not admin", query: "lonely", limit: 10, want: nil, total: 0},
			{name: "limit keeps lowest ids", query: "example", limit: 2, want: []int64{o1.ID, o2.ID}, total: 4},
			{name: "limit above matches", query: "example", limit: 10, want: []int64{o1.ID, o2.ID, o4.ID, o5.ID}, total: 4},
			{name: "empty query matches all", query: "", limit: 10, want: []int64{o1.ID, o2.ID, o4.ID, o5.ID}, total: 4},
			{name: "no match", query: "zzz", limit: 10, want: nil, total: 0},
		}
		runSearch(t, s, tests, func(o domain.Org) int64 { return o.ID },
			func(ctx context.Context, tx storage.Tx, q string, limit int) ([]domain.Org, int, error) {
				return tx.SearchOrgs(ctx, a.ID, q, limit)
			})

		t.Run("fields", func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, _, err := tx.SearchOrgs(ctx, a.ID, "100%", 10)
				if err != nil {
					return err
				}
				equal(t, "orgs", got, []domain.Org{o2})
				return nil
			})
		})
	})

	t.Run("instances", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		instance := func(userID int64, name, path, instanceType, typ string) domain.Instance {
			in := domain.Instance{UserID: userID, Name: name, Path: path, Status: domain.StatusActive, InstanceType: instanceType, Type: typ, CreatedAt: t0}
			update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateInstance(ctx, &in) })
			return in
		}
		i1 := instance(a.ID, "Praxis ÄRZTE", "/praxis", "small", "wordpress")
		i2 := instance(a.ID, "shop", "/100%_off", "large", "WooCommerce")
		i3 := instance(b.ID, "ärzte bob", "/bob", "small", "wordpress")
		i4 := instance(a.ID, "blog", "/blog", "xlarge-ärzte", "ghost")
		i5 := instance(a.ID, "Straße", "/strasse", "small", "static")

		tests := []searchCase{
			{name: "name any case", query: "ärzte", limit: 10, want: []int64{i1.ID}, total: 1},
			{name: "path", query: "/PRAXIS", limit: 10, want: []int64{i1.ID}, total: 1},
			{name: "type", query: "commerce", limit: 10, want: []int64{i2.ID}, total: 1},
			{name: "instance type is not searched", query: "large", limit: 10, want: nil, total: 0},
			{name: "percent is literal", query: "0%", limit: 10, want: []int64{i2.ID}, total: 1},
			{name: "underscore is literal", query: "%_o", limit: 10, want: []int64{i2.ID}, total: 1},
			{name: "underscore alone", query: "_", limit: 10, want: []int64{i2.ID}, total: 1},
			{name: "sharp s lower case", query: "STRAßE", limit: 10, want: []int64{i5.ID}, total: 1},
			{name: "limit", query: "/", limit: 3, want: []int64{i1.ID, i2.ID, i4.ID}, total: 4},
			{name: "limit of one", query: "ST", limit: 1, want: []int64{i4.ID}, total: 2},
		}
		runSearch(t, s, tests, func(in domain.Instance) int64 { return in.ID },
			func(ctx context.Context, tx storage.Tx, q string, limit int) ([]domain.Instance, int, error) {
				return tx.SearchInstances(ctx, a.ID, q, limit)
			})

		t.Run("other user", func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, total, err := tx.SearchInstances(ctx, b.ID, "ÄRZTE", 10)
				if err != nil {
					return err
				}
				equal(t, "instances", got, []domain.Instance{i3})
				equal(t, "total", total, 1)
				return nil
			})
		})
	})

	t.Run("invoices", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		invoice := func(userID int64, description string, items ...string) domain.Invoice {
			inv := domain.Invoice{UserID: userID, Status: domain.InvoicePending, Description: description, CreatedAt: t0, DueAt: t0}
			for _, item := range items {
				inv.Items = append(inv.Items, domain.InvoiceItem{Description: item, Quantity: 1, UnitPrice: 100, Amount: 100})
				inv.Total += 100
			}
			return createInvoice(t, s, inv)
		}
		v1 := invoice(a.ID, "Rechnung ÄRZTE", "Hosting")
		v2 := invoice(a.ID, "May", "Domain ärzte.example", "Ärzte backup")
		v3 := invoice(b.ID, "ärzte", "x")
		v4 := invoice(a.ID, "June", "100% discount", "plan_pro")
		v5 := invoice(a.ID, "July")

		tests := []searchCase{
			{name: "description or item newest first", query: "ärzte", limit: 10, want: []int64{v2.ID, v1.ID}, total: 2},
			{name: "limit keeps the newest", query: "ÄRZTE", limit: 1, want: []int64{v2.ID}, total: 2},
			{name: "item only", query: "BACKUP", limit: 10, want: []int64{v2.ID}, total: 1},
			{name: "percent is literal", query: "%", limit: 10, want: []int64{v4.ID}, total: 1},
			{name: "underscore is literal", query: "n_p", limit: 10, want: []int64{v4.ID}, total: 1},
			{name: "invoice without items", query: "jul", limit: 10, want: []int64{v5.ID}, total: 1},
			{name: "no match", query: "xyz", limit: 10, want: nil, total: 0},
		}
		runSearch(t, s, tests, invoiceID,
			func(ctx context.Context, tx storage.Tx, q string, limit int) ([]domain.Invoice, int, error) {
				return tx.SearchInvoices(ctx, a.ID, q, limit)
			})

		t.Run("rows without items", func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, _, err := tx.SearchInvoices(ctx, a.ID, "backup", 10)
				if err != nil {
					return err
				}
				want := v2
				want.Items = nil
				equal(t, "invoices", len(got), 1)
				equalInvoice(t, "invoice", got[0], want)
				equal(t, "items", len(got[0].Items), 0)
				return nil
			})
		})

		t.Run("other user", func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, total, err := tx.SearchInvoices(ctx, b.ID, "ÄRZTE", 10)
				if err != nil {
					return err
				}
				equal(t, "ids", ids(got, invoiceID), []int64{v3.ID})
				equal(t, "total", total, 1)
				return nil
			})
		})
	})

	t.Run("notifications", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, "ada@example.com")
		b := createUser(t, s, "bob@example.com")
		notification := func(userID int64, title, message string) domain.Notification {
			return createNotification(t, s, domain.Notification{UserID: userID, Title: title, Message: message, CreatedAt: t0})
		}
		n1 := notification(a.ID, "Ärzte invited you", "Join now")
		n2 := notification(a.ID, "Invoice due", "Pay 100% of invoice_7 to ÄRZTE")
		n3 := notification(b.ID, "ärzte", "bob")
		n4 := notification(a.ID, "Welcome", "Hello")
		markRead(t, s, a.ID, n4.ID, t0)

		tests := []searchCase{
			{name: "title or message newest first", query: "ärzte", limit: 10, want: []int64{n2.ID, n1.ID}, total: 2},
			{name: "message only", query: "PAY", limit: 10, want: []int64{n2.ID}, total: 1},
			{name: "read notifications match", query: "hello", limit: 10, want: []int64{n4.ID}, total: 1},
			{name: "percent is literal", query: "0% ", limit: 10, want: []int64{n2.ID}, total: 1},
			{name: "underscore is literal", query: "e_7", limit: 10, want: []int64{n2.ID}, total: 1},
			{name: "limit keeps the newest", query: "E", limit: 2, want: []int64{n4.ID, n2.ID}, total: 3},
		}
		runSearch(t, s, tests, notificationID,
			func(ctx context.Context, tx storage.Tx, q string, limit int) ([]domain.Notification, int, error) {
				return tx.SearchNotifications(ctx, a.ID, q, limit)
			})

		t.Run("fields and other user", func(t *testing.T) {
			view(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, total, err := tx.SearchNotifications(ctx, b.ID, "ÄRZTE", 10)
				if err != nil {
					return err
				}
				equal(t, "notifications", got, []domain.Notification{n3})
				equal(t, "total", total, 1)
				return nil
			})
		})
	})
}
