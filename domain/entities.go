package domain

import "time"

// User is an account. PasswordHash holds a bcrypt hash, never the password.
type User struct {
	ID           int64
	Username     string
	Email        string
	PasswordHash string
	Bio          string
	PFP          string
	Plan         string
	Verified     bool
	Balance      Money
	FirstName    string
	LastName     string
	Phone        string
	Address      string
	CreatedAt    time.Time
}

// ProfileUpdate holds the profile fields a user may change; a nil field is
// left as it is.
type ProfileUpdate struct {
	Bio       *string `validate:"omitempty,max=1000"`
	PFP       *string `validate:"omitempty,max=2048,httpurl"`
	FirstName *string `validate:"omitempty,max=100"`
	LastName  *string `validate:"omitempty,max=100"`
	Phone     *string `validate:"omitempty,max=32,phone"`
	Address   *string `validate:"omitempty,max=500"`
}

// Nonempty returns a copy of u without the fields set to "". An empty
// value clears a field and needs no format check, so validation runs on
// this copy.
func (u ProfileUpdate) Nonempty() ProfileUpdate {
	for _, f := range []**string{&u.Bio, &u.PFP, &u.FirstName, &u.LastName, &u.Phone, &u.Address} {
		if *f != nil && **f == "" {
			*f = nil
		}
	}
	return u
}

// Empty reports whether the update changes nothing.
func (u ProfileUpdate) Empty() bool {
	return u.Bio == nil && u.PFP == nil && u.FirstName == nil && u.LastName == nil && u.Phone == nil && u.Address == nil
}

// Key permissions.
const (
	PermRead  = "read"
	PermWrite = "write"
)

// APIKey is a stored API key. Only the SHA-256 hash of the full key is kept;
// Prefix is its first characters, shown in lists so a user can tell keys
// apart.
type APIKey struct {
	ID         int64
	UserID     int64
	Name       string
	Prefix     string
	Hash       []byte
	CanRead    bool
	CanWrite   bool
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
}

// Permissions returns the key's permissions in the API's comma form.
func (k *APIKey) Permissions() string {
	switch {
	case k.CanRead && k.CanWrite:
		return "read,write"
	case k.CanWrite:
		return PermWrite
	default:
		return PermRead
	}
}

// Expired reports whether the key has an expiry at or before now.
func (k *APIKey) Expired(now time.Time) bool {
	return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)
}

// Org is an organization. AdminID is the user who may update and delete it.
type Org struct {
	ID        int64
	Title     string
	Path      string
	AdminID   int64
	Contact   string
	CreatedBy int64
	CreatedAt time.Time
}

// OrgUpdate holds the org fields to change; a nil field is left as it is.
type OrgUpdate struct {
	Title   *string
	Path    *string
	Contact *string
}

// Org member roles.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Member is a user's membership in an org, with the user's public name.
type Member struct {
	OrgID    int64
	UserID   int64
	Username string
	Role     string
	JoinedAt time.Time
}

// Instance statuses.
const (
	StatusActive = "active"
	StatusSleep  = "sleep"
	StatusDead   = "dead"
)

// ValidInstanceStatus reports whether s is one of the three statuses.
func ValidInstanceStatus(s string) bool {
	return s == StatusActive || s == StatusSleep || s == StatusDead
}

// Instance is a hosted instance owned by one user. OrgID is zero when the
// instance belongs to no org.
type Instance struct {
	ID           int64
	UserID       int64
	OrgID        int64
	Name         string
	Path         string
	Status       string
	InstanceType string
	Type         string
	CreatedAt    time.Time
}

// Activity is one entry of a user's activity log: a login or a change.
// The log is hash-chained per user: PrevHash is the Hash of the user's
// previous entry (empty for the first), and Hash covers PrevHash and every
// other field but ID. See ChainActivity.
type Activity struct {
	ID        int64
	UserID    int64
	Action    string
	Subject   string
	ClientIP  string
	CreatedAt time.Time
	PrevHash  []byte
	Hash      []byte
}

// Usage is a count of authenticated requests made with one key on one UTC
// day (formatted 2006-01-02).
type Usage struct {
	KeyID  int64
	UserID int64
	Day    string
	Count  int64
}

// Page selects a window of a list. Limit is at least 1.
type Page struct {
	Limit  int
	Offset int
}

// Pagination defaults.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)
