package domain

import "fmt"

// Fixed messages of the API. Those that the API reference lists are copied
// from it word for word; the rest follow its style.
const (
	MsgInvalidAPIKey       = "Invalid or expired API key"
	MsgRateLimited         = "Rate limit exceeded. Please try again later."
	MsgEmailPasswordNeeded = "Email and password are required"
	MsgInvalidCredentials  = "Invalid email or password"
	MsgLoginThrottled      = "Too many failed login attempts. Please try again later."
	MsgOrgIDRequired       = "Organization ID is required"
	MsgOrgNotFound         = "Organization not found"
	MsgOrgDeleteDenied     = "You do not have permission to delete this organization"
	MsgOrgUpdateDenied     = "You do not have permission to update this organization"
	MsgOrgLimitReached     = "Organization limit reached for your plan"
	MsgOrgPathTaken        = "Organization path is already taken"
	MsgInstanceIDRequired  = "Instance ID is required"
	MsgInstanceNotFound    = "Instance not found"
	MsgInstanceLimit       = "Instance limit reached for your plan"
	MsgStatusRequired      = "Status is required"
	MsgInvalidStatus       = "Invalid status. Allowed values: active, sleep, dead"
	MsgKeyIDRequired       = "API key ID is required"
	MsgKeyNotFound         = "API key not found"
	MsgWriteDenied         = "This API key does not have write permission"
	MsgKeyWiderPermissions = "An API key cannot create a key with permissions it does not have"
	MsgKeyOutlivesCaller   = "An API key cannot create a key that expires after it does"
	MsgReadDenied          = "This API key does not have read permission"
	MsgNoProfileFields     = "No profile fields to update"
	MsgInvalidMode         = "Invalid mode. Available modes: auth, profile, orgs, instances, billing, analytics, notifications, api_keys, search, stats"
	MsgMethodNotAllowed    = "This action requires POST"
	MsgMethodNotSupported  = "Method not allowed. Use GET or POST"
	MsgPayloadTooLarge     = "Request payload exceeds the limit of your plan"
	MsgNotFoundPath        = "Not found. The API is served at the root path with a mode parameter"
	MsgIdempotencyReused   = "Idempotency-Key was already used with different parameters"
	MsgIdempotencyInFlight = "A request with this Idempotency-Key is still in progress"
	MsgIdempotencyTooLong  = "Idempotency-Key must be at most 255 characters"
	MsgIdempotencyInvalid  = "Idempotency-Key must be valid UTF-8 without control characters"
	MsgInternal            = "Internal server error"
	MsgEmailTaken          = "A user with this email already exists"
	MsgUserNotFound        = "User not found"
	MsgAlreadyMember       = "User is already a member of this organization"
	MsgInvoiceIDRequired   = "Invoice ID is required"
	MsgInvoiceNotFound     = "Invoice not found"
	MsgInvalidInvoiceState = "Invalid status. Allowed values: pending, paid, overdue"
	MsgNotificationMissing = "Notification not found"
	MsgSearchQueryRequired = "Search query is required"
	MsgInsufficientBalance = "Insufficient balance"
	MsgInvalidSearchType   = "Invalid type. Allowed values: orgs, instances, invoices, notifications"
	MsgInvalidStatsType    = "Invalid type. Allowed values: overview, instances, organizations"
	MsgStatsTypeRequired   = "Statistics type is required. Allowed values: overview, instances, organizations"
)

// MsgInvalidAction returns the reference's message for an unknown action of
// a known mode.
func MsgInvalidAction(mode string) string {
	return fmt.Sprintf("Invalid action for %s mode", mode)
}

// Success messages.
const (
	MsgAuthenticated    = "Authentication successful"
	MsgProfileViewed    = "Profile retrieved successfully"
	MsgProfileUpdated   = "Profile updated successfully"
	MsgStatsRetrieved   = "Statistics retrieved successfully"
	MsgOrgsListed       = "Organizations retrieved successfully"
	MsgOrgCreated       = "Organization created successfully"
	MsgOrgViewed        = "Organization retrieved successfully"
	MsgOrgUpdated       = "Organization updated successfully"
	MsgOrgDeleted       = "Organization deleted successfully"
	MsgOrgWouldDelete   = "Dry run: organization would be deleted"
	MsgMembersListed    = "Organization members retrieved successfully"
	MsgInstancesListed  = "Instances retrieved successfully"
	MsgInstanceUpdated  = "Instance status updated successfully"
	MsgKeysListed       = "API keys retrieved successfully"
	MsgKeyCreated       = "API key created successfully"
	MsgKeyDeleted       = "API key deleted successfully"
	MsgKeyUsage         = "API key usage retrieved successfully"
	MsgBalance          = "Balance retrieved successfully"
	MsgInvoicesListed   = "Invoices retrieved successfully"
	MsgInvoiceViewed    = "Invoice retrieved successfully"
	MsgTransactions     = "Transactions retrieved successfully"
	MsgPurchases        = "Purchases retrieved successfully"
	MsgPlans            = "Plans retrieved successfully"
	MsgOverview         = "Analytics overview retrieved successfully"
	MsgUsage            = "API usage retrieved successfully"
	MsgActivity         = "Activity logs retrieved successfully"
	MsgSpending         = "Spending analytics retrieved successfully"
	MsgNotifications    = "Notifications retrieved successfully"
	MsgUnreadCount      = "Unread count retrieved successfully"
	MsgNotificationRead = "Notification marked as read"
	MsgSearchResults    = "Search results retrieved successfully"
	MsgDryRunNoteSuffix = " (dry run, nothing changed)"
)

// MsgAllRead returns the message of notifications mark_read without an id.
func MsgAllRead(n int) string { return fmt.Sprintf("%d notifications marked as read", n) }

// MsgDeadDeleted returns the reference's message for delete_dead.
func MsgDeadDeleted(n int) string { return fmt.Sprintf("%d dead instances deleted successfully", n) }

// MsgAwakened returns the reference's message for awaken_all.
func MsgAwakened(n int) string { return fmt.Sprintf("%d instances awakened successfully", n) }

// MsgSlept returns the reference's message for sleep_all.
func MsgSlept(n int) string { return fmt.Sprintf("%d instances put to sleep successfully", n) }
