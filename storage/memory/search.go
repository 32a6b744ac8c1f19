package memory

import (
	"context"
	"fmt"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
)

// The searches walk the user's own rows in list order and test each with
// containsFolded, so they cost in proportion to the user's rows. A
// negative limit means no limit.

// SearchOrgs matches q in the title, path and contact of the orgs userID
// is a member of and returns up to limit of them by id, with the number of
// matches.
func (t *Tx) SearchOrgs(_ context.Context, userID int64, q string, limit int) ([]domain.Org, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("search orgs of user %d for %q: %w", userID, q, err)
	}
	q = strings.ToLower(q)
	total := 0
	orgs := []domain.Org{}
	for _, id := range idsWithPrefix(&d.orgsByMember, userID) {
		o, _ := d.orgs.get(id)
		if containsFolded(q, o.Title, o.Path, o.Contact) {
			total++
			if belowLimit(len(orgs), limit) {
				orgs = append(orgs, o)
			}
		}
	}
	return orgs, total, nil
}

// SearchInstances matches q in the name, path and type of userID's
// instances and returns up to limit of them by id, with the number of
// matches.
func (t *Tx) SearchInstances(_ context.Context, userID int64, q string, limit int) ([]domain.Instance, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("search instances of user %d for %q: %w", userID, q, err)
	}
	q = strings.ToLower(q)
	total := 0
	instances := []domain.Instance{}
	for _, id := range idsWithPrefix(&d.instByUser, userID) {
		in, _ := d.instances.get(id)
		if containsFolded(q, in.Name, in.Path, in.Type) {
			total++
			if belowLimit(len(instances), limit) {
				instances = append(instances, in)
			}
		}
	}
	return instances, total, nil
}

// SearchInvoices matches q in the description of userID's invoices and of
// their items and returns up to limit invoices by id, without items, with
// the number of matches.
func (t *Tx) SearchInvoices(_ context.Context, userID int64, q string, limit int) ([]domain.Invoice, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("search invoices of user %d for %q: %w", userID, q, err)
	}
	q = strings.ToLower(q)
	total := 0
	invoices := []domain.Invoice{}
	ids := idsWithPrefix(&d.invByUser, userID)
	for i := len(ids) - 1; i >= 0; i-- {
		inv, _ := d.invoices.get(ids[i])
		if containsFolded(q, inv.Description) || d.itemMatches(inv.ID, q) {
			total++
			if belowLimit(len(invoices), limit) {
				invoices = append(invoices, inv)
			}
		}
	}
	return invoices, total, nil
}

// itemMatches reports whether the description of one of the invoice's
// items contains the lowered query q.
func (d *data) itemMatches(invoiceID int64, q string) bool {
	for k, item := range d.invoiceItems.ascend(pair{invoiceID, minID}) {
		if k.a != invoiceID {
			break
		}
		if containsFolded(q, item.Description) {
			return true
		}
	}
	return false
}

// SearchNotifications matches q in the title and message of userID's
// notifications and returns up to limit of them by id, with the number of
// matches.
func (t *Tx) SearchNotifications(_ context.Context, userID int64, q string, limit int) ([]domain.Notification, int, error) {
	d, err := t.read()
	if err != nil {
		return nil, 0, fmt.Errorf("search notifications of user %d for %q: %w", userID, q, err)
	}
	q = strings.ToLower(q)
	total := 0
	notifications := []domain.Notification{}
	ids := idsWithPrefix(&d.notifByUser, userID)
	for i := len(ids) - 1; i >= 0; i-- {
		n, _ := d.notifications.get(ids[i])
		if containsFolded(q, n.Title, n.Message) {
			total++
			if belowLimit(len(notifications), limit) {
				notifications = append(notifications, cloneNotification(n))
			}
		}
	}
	return notifications, total, nil
}
