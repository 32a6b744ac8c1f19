package sqlite

import (
	"slices"
	"strings"

	"github.com/sharepanel/sharepanel/storage"
)

// The package's SQL. Open prepares each statement in allQueries on both
// pools; a Tx method runs only statements from this file.
const (
	userColumns = `id, username, email, password_hash, bio, pfp, plan, verified, balance,
	first_name, last_name, phone, address, created_at`

	qCreateUser = `INSERT INTO users (username, email, password_hash, bio, pfp, plan, verified,
	balance, first_name, last_name, phone, address, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qFindUserByID    = `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	qFindUserByEmail = `SELECT ` + userColumns + ` FROM users WHERE email = ?`
	// A NULL parameter keeps the column's value.
	qUpdateProfile = `UPDATE users SET
	bio = coalesce(?, bio),
	pfp = coalesce(?, pfp),
	first_name = coalesce(?, first_name),
	last_name = coalesce(?, last_name),
	phone = coalesce(?, phone),
	address = coalesce(?, address)
WHERE id = ?`
	qCountUsers = `SELECT count(*) FROM users`
	qScanUsers  = `SELECT ` + userColumns + ` FROM users WHERE id > ? ORDER BY id LIMIT ?`

	keyColumns = `id, user_id, name, prefix, hash, can_read, can_write, created_at, expires_at, last_used_at`

	qCreateAPIKey = `INSERT INTO api_keys (user_id, name, prefix, hash, can_read, can_write,
	created_at, expires_at, last_used_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qFindAPIKeyByHash = `SELECT ` + keyColumns + ` FROM api_keys WHERE hash = ?`
	qFindAPIKeyByID   = `SELECT ` + keyColumns + ` FROM api_keys WHERE id = ? AND user_id = ?`
	qFindAPIKeys      = `SELECT ` + keyColumns + ` FROM api_keys WHERE user_id = ? ORDER BY id LIMIT ? OFFSET ?`
	qCountAPIKeys     = `SELECT count(*) FROM api_keys WHERE user_id = ?`
	qDeleteAPIKey     = `DELETE FROM api_keys WHERE id = ? AND user_id = ?`

	orgColumns = `id, title, path, admin_id, contact, created_by, created_at`

	qCreateOrg = `INSERT INTO orgs (title, path, admin_id, contact, created_by, created_at)
VALUES (?, ?, ?, ?, ?, ?)`
	qFindOrgByID  = `SELECT ` + orgColumns + ` FROM orgs WHERE id = ?`
	qOrgPathTaken = `SELECT EXISTS (SELECT 1 FROM orgs WHERE path = ?)`
	// Paths that start with "base-" sort in ["base-", "base."), since '.'
	// follows '-' in ASCII, so both parts use the unique index on path.
	qFindOrgPaths     = `SELECT path FROM orgs WHERE path = ? OR (path >= ? AND path < ?) ORDER BY path`
	qUpdateOrg        = `UPDATE orgs SET title = coalesce(?, title), path = coalesce(?, path), contact = coalesce(?, contact) WHERE id = ?`
	qDeleteOrg        = `DELETE FROM orgs WHERE id = ?`
	qFindOrgsByMember = `SELECT o.id, o.title, o.path, o.admin_id, o.contact, o.created_by, o.created_at
FROM org_members m JOIN orgs o ON o.id = m.org_id
WHERE m.user_id = ? ORDER BY m.org_id LIMIT ? OFFSET ?`
	qCountOrgsByMember = `SELECT count(*) FROM org_members WHERE user_id = ?`
	qCountOrgsByAdmin  = `SELECT count(*) FROM orgs WHERE admin_id = ?`

	qAddMember  = `INSERT INTO org_members (org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`
	qFindMember = `SELECT m.org_id, m.user_id, u.username, m.role, m.joined_at
FROM org_members m JOIN users u ON u.id = m.user_id
WHERE m.org_id = ? AND m.user_id = ?`
	qFindMembers = `SELECT m.org_id, m.user_id, u.username, m.role, m.joined_at
FROM org_members m JOIN users u ON u.id = m.user_id
WHERE m.org_id = ? ORDER BY m.user_id LIMIT ? OFFSET ?`
	qCountMembers = `SELECT count(*) FROM org_members WHERE org_id = ?`

	instanceColumns = `id, user_id, org_id, name, path, status, instance_type, type, created_at`

	qCreateInstance = `INSERT INTO instances (user_id, org_id, name, path, status, instance_type, type, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qFindInstanceByID  = `SELECT ` + instanceColumns + ` FROM instances WHERE id = ? AND user_id = ?`
	qSetInstanceStatus = `UPDATE instances SET status = ? WHERE id = ? AND user_id = ?`
	qDeleteInstance    = `DELETE FROM instances WHERE id = ? AND user_id = ?`
	// The bare columns follow the byte order of SQLite's BINARY collation,
	// as Go's string comparison does.
	qCountInstanceGroups = `SELECT status, type, count(*) FROM instances WHERE user_id = ?
GROUP BY status, type ORDER BY status, type`

	activityColumns = `id, user_id, action, subject, client_ip, created_at, prev_hash, hash`

	qAddActivity = `INSERT INTO activities (user_id, action, subject, client_ip, created_at, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?)`
	qFindActivities = `SELECT ` + activityColumns + `
FROM activities WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountActivities = `SELECT count(*) FROM activities WHERE user_id = ?`
	qLastActivity    = `SELECT ` + activityColumns + ` FROM activities WHERE user_id = ? ORDER BY id DESC LIMIT 1`
	qScanActivities  = `SELECT ` + activityColumns + ` FROM activities WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`

	// The SELECT yields no row for a deleted key, so its usage is skipped.
	// The row's user is the key's owner.
	qAddUsage = `INSERT INTO api_usage (key_id, user_id, day, count)
SELECT id, user_id, ?, ? FROM api_keys WHERE id = ?
ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count`
	qTouchAPIKey = `UPDATE api_keys SET last_used_at = ?1
WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`
	// The SELECT yields no row for a deleted user.
	qAddUserUsage = `INSERT INTO user_usage (user_id, day, count)
SELECT id, ?, ? FROM users WHERE id = ?
ON CONFLICT (user_id, day) DO UPDATE SET count = count + excluded.count`
	qUserUsageOnDay = `SELECT coalesce((SELECT count FROM user_usage WHERE user_id = ? AND day = ?), 0)`
	// Every day string is >= "", so an empty sinceDay selects all days.
	qFindKeyUsage  = `SELECT key_id, user_id, day, count FROM api_usage WHERE key_id = ? AND day >= ? ORDER BY day`
	qFindUserUsage = `SELECT user_id, day, count FROM user_usage WHERE user_id = ? AND day >= ? ORDER BY day`
	// Reading through the user's keys walks api_usage's primary key
	// (key_id, day) in the requested order, so nothing is sorted.
	qFindUserKeyUsage = `SELECT u.key_id, k.user_id, u.day, u.count
FROM api_keys k JOIN api_usage u ON u.key_id = k.id
WHERE k.user_id = ? AND u.day >= ? ORDER BY k.id, u.day`

	qFindIdempotent = `SELECT user_id, key, request_hash, status, body, created_at
FROM idempotency WHERE user_id = ? AND key = ?`
	qSaveIdempotent = `INSERT INTO idempotency (user_id, key, request_hash, status, body, created_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id, key) DO UPDATE SET
	request_hash = excluded.request_hash,
	status = excluded.status,
	body = excluded.body,
	created_at = excluded.created_at`
	qDeleteIdempotentBefore = `DELETE FROM idempotency WHERE created_at < ?`
)

// Billing statements.
const (
	qUserBalance = `SELECT balance FROM users WHERE id = ?`
	qAddBalance  = `UPDATE users SET balance = balance + ? WHERE id = ?`

	// A transaction without a reference stores NULL and reads back "".
	transactionColumns = `id, user_id, type, amount, balance_after, description, created_at, coalesce(reference, '')`

	qAddTransaction = `INSERT INTO transactions (user_id, type, amount, balance_after, description, created_at, reference)
VALUES (?, ?, ?, ?, ?, ?, ?)`
	// The term on reference implies the partial index's "reference IS NOT
	// NULL", so SQLite can search the index.
	qFindTransactionByReference = `SELECT ` + transactionColumns + `
FROM transactions WHERE user_id = ? AND reference = ?`
	qFindTransactions = `SELECT ` + transactionColumns + `
FROM transactions WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountTransactions = `SELECT count(*) FROM transactions WHERE user_id = ?`
	qScanTransactions  = `SELECT ` + transactionColumns + `
FROM transactions WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`
	// The month of each row comes from its whole seconds, rounded down so
	// that times before 1970 fall in the right month. SQLite's % and /
	// truncate toward zero, and a division by 1e6 as REAL could round up
	// into the next second.
	qSumTransactionsByMonth = `SELECT
	strftime('%Y-%m', (created_at - (created_at % 1000000 + 1000000) % 1000000) / 1000000, 'unixepoch') AS month,
	coalesce(sum(CASE WHEN amount > 0 THEN amount END), 0),
	coalesce(-sum(CASE WHEN amount < 0 THEN amount END), 0),
	count(*)
FROM transactions WHERE user_id = ? AND created_at >= ?
GROUP BY month ORDER BY month`

	invoiceColumns = `id, user_id, status, description, total, created_at, due_at`
	itemColumns    = `id, invoice_id, description, quantity, unit_price, amount`

	qCreateInvoice = `INSERT INTO invoices (user_id, status, description, total, created_at, due_at)
VALUES (?, ?, ?, ?, ?, ?)`
	qCreateInvoiceItem = `INSERT INTO invoice_items (invoice_id, description, quantity, unit_price, amount)
VALUES (?, ?, ?, ?, ?)`
	qFindInvoice      = `SELECT ` + invoiceColumns + ` FROM invoices WHERE id = ? AND user_id = ?`
	qFindInvoiceItems = `SELECT ` + itemColumns + ` FROM invoice_items WHERE invoice_id = ? ORDER BY id`
	qFindInvoices     = `SELECT ` + invoiceColumns + `
FROM invoices WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountInvoices        = `SELECT count(*) FROM invoices WHERE user_id = ?`
	qFindInvoicesByStatus = `SELECT ` + invoiceColumns + `
FROM invoices WHERE user_id = ? AND status = ? ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountInvoicesByStatus = `SELECT count(*) FROM invoices WHERE user_id = ? AND status = ?`
	qScanInvoices          = `SELECT ` + invoiceColumns + `
FROM invoices WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3`
	// The items of the invoices that qScanInvoices returns for the same
	// parameters.
	qScanInvoiceItems = `SELECT ` + itemColumns + ` FROM invoice_items
WHERE invoice_id IN (SELECT id FROM invoices WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3)
ORDER BY invoice_id, id`

	purchaseColumns = `id, user_id, transaction_id, description, amount, created_at`

	// The SELECT yields no row unless transaction ?2 exists and belongs
	// to user ?1, which also rules out a missing user.
	qCreatePurchase = `INSERT INTO purchases (user_id, transaction_id, description, amount, created_at)
SELECT ?1, ?2, ?3, ?4, ?5 FROM transactions WHERE id = ?2 AND user_id = ?1`
	qFindPurchases = `SELECT ` + purchaseColumns + `
FROM purchases WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountPurchases = `SELECT count(*) FROM purchases WHERE user_id = ?`
	// The index on transaction_id ends with the rowid, so it yields the
	// lowest id first without a sort.
	qFindPurchaseByTransaction = `SELECT ` + purchaseColumns + `
FROM purchases WHERE transaction_id = ? AND user_id = ? ORDER BY id LIMIT 1`
	qScanPurchases = `SELECT ` + purchaseColumns + `
FROM purchases WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`
)

var billingQueries = []string{
	qUserBalance, qAddBalance, qAddTransaction, qFindTransactionByReference,
	qFindTransactions, qCountTransactions, qScanTransactions, qSumTransactionsByMonth,
	qCreateInvoice, qCreateInvoiceItem, qFindInvoice, qFindInvoiceItems,
	qFindInvoices, qCountInvoices, qFindInvoicesByStatus, qCountInvoicesByStatus,
	qScanInvoices, qScanInvoiceItems,
	qCreatePurchase, qFindPurchases, qCountPurchases, qFindPurchaseByTransaction, qScanPurchases,
}

// Notification statements.
const (
	notificationColumns = `id, user_id, title, message, read, created_at, read_at`

	qCreateNotification = `INSERT INTO notifications (user_id, title, message, read, created_at, read_at)
VALUES (?, ?, ?, ?, ?, ?)`
	qFindNotifications = `SELECT ` + notificationColumns + `
FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountNotifications      = `SELECT count(*) FROM notifications WHERE user_id = ?`
	qFindUnreadNotifications = `SELECT ` + notificationColumns + `
FROM notifications WHERE user_id = ? AND read = 0 ORDER BY id DESC LIMIT ? OFFSET ?`
	qCountUnreadNotifications = `SELECT count(*) FROM notifications WHERE user_id = ? AND read = 0`
	qMarkNotificationRead     = `UPDATE notifications SET read = 1, read_at = ? WHERE id = ? AND user_id = ? AND read = 0`
	qNotificationExists       = `SELECT EXISTS (SELECT 1 FROM notifications WHERE id = ? AND user_id = ?)`
	qMarkAllNotificationsRead = `UPDATE notifications SET read = 1, read_at = ? WHERE user_id = ? AND read = 0`
)

var notificationQueries = []string{
	qCreateNotification, qFindNotifications, qCountNotifications,
	qFindUnreadNotifications, qCountUnreadNotifications,
	qMarkNotificationRead, qNotificationExists, qMarkAllNotificationsRead,
}

// Search statements, which match with the SQL function containsFunc.
// Parameter ?1 is the user, ?2 the query and ?3 the limit.
const (
	searchOrgsWhere = `FROM org_members m JOIN orgs o ON o.id = m.org_id
WHERE m.user_id = ?1 AND (` + containsFunc + `(o.title, ?2) OR ` + containsFunc + `(o.path, ?2) OR ` + containsFunc + `(o.contact, ?2))`
	qSearchOrgs = `SELECT o.id, o.title, o.path, o.admin_id, o.contact, o.created_by, o.created_at
` + searchOrgsWhere + ` ORDER BY o.id LIMIT ?3`
	qCountSearchOrgs = `SELECT count(*) ` + searchOrgsWhere

	searchInstancesWhere = `FROM instances
WHERE user_id = ?1 AND (` + containsFunc + `(name, ?2) OR ` + containsFunc + `(path, ?2) OR ` + containsFunc + `(type, ?2))`
	qSearchInstances      = `SELECT ` + instanceColumns + ` ` + searchInstancesWhere + ` ORDER BY id LIMIT ?3`
	qCountSearchInstances = `SELECT count(*) ` + searchInstancesWhere

	searchInvoicesWhere = `FROM invoices i
WHERE i.user_id = ?1 AND (` + containsFunc + `(i.description, ?2) OR EXISTS (
	SELECT 1 FROM invoice_items it WHERE it.invoice_id = i.id AND ` + containsFunc + `(it.description, ?2)))`
	qSearchInvoices = `SELECT i.id, i.user_id, i.status, i.description, i.total, i.created_at, i.due_at
` + searchInvoicesWhere + ` ORDER BY i.id DESC LIMIT ?3`
	qCountSearchInvoices = `SELECT count(*) ` + searchInvoicesWhere

	searchNotificationsWhere = `FROM notifications
WHERE user_id = ?1 AND (` + containsFunc + `(title, ?2) OR ` + containsFunc + `(message, ?2))`
	qSearchNotifications      = `SELECT ` + notificationColumns + ` ` + searchNotificationsWhere + ` ORDER BY id DESC LIMIT ?3`
	qCountSearchNotifications = `SELECT count(*) ` + searchNotificationsWhere
)

var searchQueries = []string{
	qSearchOrgs, qCountSearchOrgs, qSearchInstances, qCountSearchInstances,
	qSearchInvoices, qCountSearchInvoices, qSearchNotifications, qCountSearchNotifications,
}

// Kinds of instance queries that instanceQuery builds.
const (
	instanceSelect = "select"
	instanceIDs    = "ids"
	instanceCount  = "count"
)

// instanceQuery returns the statement of the given kind for the fields
// that f sets. Each combination of set fields has its own statement, so
// SQLite can pick the index that fits it.
func instanceQuery(kind string, f storage.InstanceFilter) string {
	var b strings.Builder
	switch kind {
	case instanceSelect:
		b.WriteString("SELECT " + instanceColumns + " FROM instances")
	case instanceIDs:
		b.WriteString("SELECT id FROM instances")
	case instanceCount:
		b.WriteString("SELECT count(*) FROM instances")
	default:
		panic("BUG: unknown instance query kind " + kind)
	}

	var conds []string
	if f.UserID != 0 {
		conds = append(conds, "user_id = ?")
	}
	if f.OrgID != 0 {
		conds = append(conds, "org_id = ?")
	}
	if f.Status != "" {
		conds = append(conds, "status = ?")
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}

	switch kind {
	case instanceSelect:
		b.WriteString(" ORDER BY id LIMIT ? OFFSET ?")
	case instanceIDs:
		b.WriteString(" ORDER BY id")
	}
	return b.String()
}

// instanceArgs returns the parameters of instanceQuery(kind, f).
func instanceArgs(f storage.InstanceFilter) []any {
	var args []any
	if f.UserID != 0 {
		args = append(args, f.UserID)
	}
	if f.OrgID != 0 {
		args = append(args, f.OrgID)
	}
	if f.Status != "" {
		args = append(args, f.Status)
	}
	return args
}

// allQueries lists every statement that Open prepares.
var allQueries = slices.Concat([]string{
	qCreateUser, qFindUserByID, qFindUserByEmail, qUpdateProfile, qCountUsers, qScanUsers,
	qCreateAPIKey, qFindAPIKeyByHash, qFindAPIKeyByID, qFindAPIKeys, qCountAPIKeys, qDeleteAPIKey,
	qCreateOrg, qFindOrgByID, qOrgPathTaken, qFindOrgPaths, qUpdateOrg, qDeleteOrg,
	qFindOrgsByMember, qCountOrgsByMember, qCountOrgsByAdmin,
	qAddMember, qFindMember, qFindMembers, qCountMembers,
	qCreateInstance, qFindInstanceByID, qSetInstanceStatus, qDeleteInstance, qCountInstanceGroups,
	qAddActivity, qFindActivities, qCountActivities, qLastActivity, qScanActivities,
	qAddUsage, qAddUserUsage, qTouchAPIKey, qUserUsageOnDay, qFindKeyUsage,
	qFindUserUsage, qFindUserKeyUsage,
	qFindIdempotent, qSaveIdempotent, qDeleteIdempotentBefore,
}, billingQueries, notificationQueries, searchQueries, allInstanceQueries())

// allInstanceQueries returns instanceQuery for every kind and every
// combination of filter fields.
func allInstanceQueries() []string {
	var out []string
	for _, kind := range []string{instanceSelect, instanceIDs, instanceCount} {
		for mask := range 8 {
			var f storage.InstanceFilter
			if mask&1 != 0 {
				f.UserID = 1
			}
			if mask&2 != 0 {
				f.OrgID = 1
			}
			if mask&4 != 0 {
				f.Status = "x"
			}
			out = append(out, instanceQuery(kind, f))
		}
	}
	return out
}
