package sharepanel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// This file holds the typed methods that embedding applications and the
// CLI's admin verbs use to manage data the public API does not create.
// They check their input like the API does and return *domain.Error values
// with the API's codes; none of them is rate-limited.

// CreateUser validates u, hashes the password and stores the account. The
// plan defaults to the first plan of the catalog. The error has code
// conflict if the email is taken.
func (e *Engine) CreateUser(ctx context.Context, u domain.NewUser) (*domain.User, error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Plan == "" {
		u.Plan = e.cfg.Plans[0].Name
	}
	if err := domain.Validate(u); err != nil {
		return nil, err
	}
	if u.Balance != 0 {
		if err := checkAmount("balance", u.Balance); err != nil {
			return nil, err
		}
	}
	if len(u.Password) > domain.MaxPasswordLen {
		return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid password: at most %d bytes allowed (bcrypt reads no more)", domain.MaxPasswordLen)
	}
	if _, ok := e.cfg.Plans.Find(u.Plan); !ok {
		return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid plan %q: not in the plan catalog", u.Plan)
	}
	if u.Username == "" {
		u.Username, _, _ = strings.Cut(u.Email, "@")
	}
	if !domain.CleanText(u.Username) || !domain.CleanText(u.Password) {
		return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid username or password: contains a control character or invalid UTF-8")
	}
	hash, err := domain.HashPassword(u.Password, e.cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}

	// The account starts at zero; an opening balance is a credit
	// transaction, so the balance stays the sum of the transactions.
	user := &domain.User{
		Username: u.Username, Email: u.Email, PasswordHash: hash, Plan: u.Plan,
		Verified: true, CreatedAt: e.now(),
	}
	err = storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		if u.Balance == 0 {
			return nil
		}
		t := &domain.Transaction{UserID: user.ID, Type: domain.TxCredit, Amount: u.Balance, Description: "Opening balance", CreatedAt: user.CreatedAt}
		if err := applyTransaction(ctx, tx, t); err != nil {
			return err
		}
		user.Balance = t.BalanceAfter
		return appendActivity(ctx, tx, &domain.Activity{
			UserID: user.ID, Action: "billing." + t.Type,
			Subject: fmt.Sprintf("transaction %d: %s", t.ID, t.Amount), CreatedAt: t.CreatedAt,
		})
	})
	if errors.Is(err, domain.ErrConflict) {
		return nil, &domain.Error{Code: domain.CodeConflict, Message: domain.MsgEmailTaken}
	}
	if err != nil {
		return nil, err
	}
	return user, nil
}

// FindUserByEmail returns the user with the email, matched
// case-insensitively; the error has code not_found if there is none.
func (e *Engine) FindUserByEmail(ctx context.Context, email string) (*domain.User, error) {
	var u *domain.User
	err := storage.WithTx(ctx, e.store, false, func(tx storage.Tx) error {
		var err error
		u, err = tx.FindUserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return nil, &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgUserNotFound}
	}
	return u, err
}

// NewInstance holds what creating an instance takes. Empty fields get
// defaults: Path from the name's slug, Status active, InstanceType
// "default", Type "SNCS".
type NewInstance struct {
	UserID       int64
	OrgID        int64
	Name         string `validate:"required,max=100"`
	Path         string `validate:"required,max=64,orgpath"`
	Status       string `validate:"required,oneof=active sleep dead"`
	InstanceType string `validate:"required,max=32"`
	Type         string `validate:"required,max=32"`
}

// CreateInstance stores a new instance for a user within the instance limit
// of the user's plan (code limit_reached beyond it). If OrgID is set, the
// user must be a member of that org.
func (e *Engine) CreateInstance(ctx context.Context, n NewInstance) (*domain.Instance, error) {
	n.Name = strings.TrimSpace(n.Name)
	if n.Path == "" {
		n.Path = domain.Slug(n.Name)
	}
	if n.Status == "" {
		n.Status = domain.StatusActive
	}
	if n.InstanceType == "" {
		n.InstanceType = "default"
	}
	if n.Type == "" {
		n.Type = "SNCS"
	}
	if err := domain.Validate(n); err != nil {
		return nil, err
	}
	if !domain.CleanText(n.Name) || !domain.CleanText(n.InstanceType) || !domain.CleanText(n.Type) {
		return nil, domain.Errorf(domain.CodeInvalidParameter, "Invalid instance: contains a control character or invalid UTF-8")
	}

	in := &domain.Instance{
		UserID: n.UserID, OrgID: n.OrgID, Name: n.Name, Path: n.Path, Status: n.Status,
		InstanceType: n.InstanceType, Type: n.Type, CreatedAt: e.now(),
	}
	err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		user, err := tx.FindUserByID(ctx, n.UserID)
		if errors.Is(err, domain.ErrNotFound) {
			return &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgUserNotFound}
		}
		if err != nil {
			return err
		}
		if n.OrgID != 0 {
			_, err := tx.FindMember(ctx, n.OrgID, n.UserID)
			if errors.Is(err, domain.ErrNotFound) {
				return &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgOrgNotFound}
			}
			if err != nil {
				return err
			}
		}
		count, err := tx.CountInstances(ctx, storage.InstanceFilter{UserID: n.UserID})
		if err != nil {
			return err
		}
		if count >= e.planOf(user.Plan).InstanceLimit {
			return &domain.Error{Code: domain.CodeLimitReached, Message: domain.MsgInstanceLimit}
		}
		return tx.CreateInstance(ctx, in)
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// AddOrgMember adds a user to an org with a role (member when empty). The
// error has code not_found if the org or user does not exist, conflict if
// the user is already a member.
func (e *Engine) AddOrgMember(ctx context.Context, orgID, userID int64, role string) error {
	if role == "" {
		role = domain.RoleMember
	}
	if role != domain.RoleMember && role != domain.RoleAdmin {
		return domain.Errorf(domain.CodeInvalidParameter, "Invalid role %q: use member or admin", role)
	}
	return storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		_, err := tx.FindOrgByID(ctx, orgID)
		if errors.Is(err, domain.ErrNotFound) {
			return &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgOrgNotFound}
		}
		if err != nil {
			return err
		}
		_, err = tx.FindUserByID(ctx, userID)
		if errors.Is(err, domain.ErrNotFound) {
			return &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgUserNotFound}
		}
		if err != nil {
			return err
		}
		err = tx.AddMember(ctx, domain.Member{OrgID: orgID, UserID: userID, Role: role, JoinedAt: e.now()})
		if errors.Is(err, domain.ErrConflict) {
			return &domain.Error{Code: domain.CodeConflict, Message: domain.MsgAlreadyMember}
		}
		return err
	})
}

// IssueAPIKey creates a key for a user and returns the full key, which is
// shown only here. The name follows the rules of api_keys create. A nil
// expires means the key does not expire; otherwise it must be in the
// future.
func (e *Engine) IssueAPIKey(ctx context.Context, userID int64, name string, read, write bool, expires *time.Time) (string, error) {
	if !read && !write {
		return "", domain.Errorf(domain.CodeInvalidParameter, "Invalid permissions: a key needs read, write or both")
	}
	if !domain.CleanText(name) || utf8.RuneCountInString(name) > domain.MaxKeyNameLen {
		return "", domain.Errorf(domain.CodeInvalidParameter, "Invalid name: at most %d characters of text allowed", domain.MaxKeyNameLen)
	}
	now := e.now()
	if expires != nil {
		if !expires.After(now) {
			return "", domain.Errorf(domain.CodeInvalidParameter, "Invalid expires_at: must be in the future")
		}
		t := expires.UTC().Truncate(time.Microsecond)
		expires = &t
	}
	var raw string
	err := storage.WithTx(ctx, e.store, true, func(tx storage.Tx) error {
		if _, err := tx.FindUserByID(ctx, userID); err != nil {
			return err
		}
		var err error
		raw, _, err = e.createKey(ctx, tx, userID, name, read, write, expires, now)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return "", &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgUserNotFound}
	}
	return raw, err
}
