package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
)

// containsFunc is the SQL name of containsFold, registered on every
// connection of a Store. SQLite's LIKE folds only ASCII letters and
// treats "%" and "_" as wildcards, so the searches call this instead.
const containsFunc = "sharepanel_contains_fold"

// containsFold reports whether needle is a substring of haystack after
// strings.ToLower of both, the matching that storage.Search specifies.
func containsFold(haystack, needle string) bool {
	return strings.Contains(strings.ToLower(haystack), strings.ToLower(needle))
}

// searchTotal returns the number of all matches of a search that returned
// got rows with the given limit. Fewer rows than the limit are all the
// matches, so count runs only when the limit may have cut the list.
func searchTotal(limit, got int, count func() (int, error)) (int, error) {
	if limit > 0 && got < limit {
		return got, nil
	}
	return count()
}

// SearchOrgs matches the title, path and contact of the orgs userID is a
// member of.
func (t *Tx) SearchOrgs(ctx context.Context, userID int64, q string, limit int) ([]domain.Org, int, error) {
	rows, err := t.stmt(ctx, qSearchOrgs).QueryContext(ctx, userID, q, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search orgs of user %d for %q: %w", userID, q, mapError(err))
	}
	defer rows.Close()
	orgs := []domain.Org{}
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("search orgs of user %d for %q: %w", userID, q, err)
		}
		orgs = append(orgs, *o)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search orgs of user %d for %q: %w", userID, q, mapError(err))
	}
	total, err := searchTotal(limit, len(orgs), func() (int, error) { return t.count(ctx, qCountSearchOrgs, userID, q) })
	if err != nil {
		return nil, 0, fmt.Errorf("count orgs of user %d matching %q: %w", userID, q, err)
	}
	return orgs, total, nil
}

// SearchInstances matches the name, path and type of userID's instances.
func (t *Tx) SearchInstances(ctx context.Context, userID int64, q string, limit int) ([]domain.Instance, int, error) {
	rows, err := t.stmt(ctx, qSearchInstances).QueryContext(ctx, userID, q, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search instances of user %d for %q: %w", userID, q, mapError(err))
	}
	defer rows.Close()
	instances := []domain.Instance{}
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("search instances of user %d for %q: %w", userID, q, err)
		}
		instances = append(instances, *in)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search instances of user %d for %q: %w", userID, q, mapError(err))
	}
	total, err := searchTotal(limit, len(instances), func() (int, error) { return t.count(ctx, qCountSearchInstances, userID, q) })
	if err != nil {
		return nil, 0, fmt.Errorf("count instances of user %d matching %q: %w", userID, q, err)
	}
	return instances, total, nil
}

// SearchInvoices matches the description of userID's invoices and of
// their items. The invoices come without items.
func (t *Tx) SearchInvoices(ctx context.Context, userID int64, q string, limit int) ([]domain.Invoice, int, error) {
	invoices, err := t.queryInvoices(ctx, qSearchInvoices, userID, q, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search invoices of user %d for %q: %w", userID, q, err)
	}
	total, err := searchTotal(limit, len(invoices), func() (int, error) { return t.count(ctx, qCountSearchInvoices, userID, q) })
	if err != nil {
		return nil, 0, fmt.Errorf("count invoices of user %d matching %q: %w", userID, q, err)
	}
	return invoices, total, nil
}

// SearchNotifications matches the title and message of userID's
// notifications.
func (t *Tx) SearchNotifications(ctx context.Context, userID int64, q string, limit int) ([]domain.Notification, int, error) {
	notifications, err := t.queryNotifications(ctx, qSearchNotifications, userID, q, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search notifications of user %d for %q: %w", userID, q, err)
	}
	total, err := searchTotal(limit, len(notifications), func() (int, error) { return t.count(ctx, qCountSearchNotifications, userID, q) })
	if err != nil {
		return nil, 0, fmt.Errorf("count notifications of user %d matching %q: %w", userID, q, err)
	}
	return notifications, total, nil
}
