package sharepanel

import (
	"errors"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

func authActions() []*ActionSpec {
	return []*ActionSpec{{
		Mode:     "auth",
		Public:   true,
		Additive: true,
		Summary:  "Exchange an email and password for a new API key",
		Params: []Param{
			{Name: "email", Type: TypeString, Required: true, MaxLen: domain.MaxEmailLen, Description: "Account email"},
			{Name: "password", Type: TypeString, Required: true, MaxLen: 1024, Description: "Account password"},
		},
		ownTx: true,
		run:   (*call).login,
	}}
}

// authKeyName is the name of keys that mode=auth issues.
const authKeyName = "auth"

// login checks the credentials and issues a new read-write key. Every
// attempt counts against the email and the client address before the
// password is checked, so concurrent guesses cannot pass the limit. A
// successful login takes its attempt back and clears the email's failures.
// Once either counter is throttled, logins for it get 429 without a
// password check.
//
// The user is read in a read-only transaction that ends before bcrypt
// runs, and the key is written in a short writable one, so no storage
// connection, and never the store's single writer, is held during bcrypt.
func (c *call) login() (result, error) {
	email := strings.ToLower(strings.TrimSpace(c.req.Params["email"]))
	password := c.req.Params["password"]
	if email == "" || password == "" {
		return result{}, &domain.Error{Code: domain.CodeMissingParameter, Message: domain.MsgEmailPasswordNeeded}
	}
	throttle := c.e.logins.loginKeys(email, c.req.ClientAddr)
	if wait, ok := c.e.logins.reserve(throttle, c.now); !ok {
		c.retryAfter = wait
		return result{}, &domain.Error{Code: domain.CodeLoginThrottled, Message: domain.MsgLoginThrottled}
	}
	invalid := &domain.Error{Code: domain.CodeInvalidCredentials, Message: domain.MsgInvalidCredentials}

	var user *domain.User
	err := storage.WithTx(c.ctx, c.e.store, false, func(tx storage.Tx) error {
		var err error
		user, err = tx.FindUserByEmail(c.ctx, email)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		// Hash anyway, so a missing account takes as long as a wrong
		// password and timing does not reveal which emails exist.
		domain.CheckPassword(c.e.dummyHash(), password)
		return result{}, invalid
	}
	if err != nil {
		c.e.logins.refund(throttle)
		return result{}, err
	}
	// bcrypt reads only the first 72 bytes, and no stored password is
	// longer, so a longer one cannot be right even if its start matches.
	if !domain.CheckPassword(user.PasswordHash, password) || len(password) > domain.MaxPasswordLen {
		return result{}, invalid
	}
	c.e.logins.succeed(throttle)

	c.userID = user.ID
	var raw string
	err = storage.WithTx(c.ctx, c.e.store, true, func(tx storage.Tx) error {
		var err error
		if raw, _, err = c.e.createKey(c.ctx, tx, user.ID, authKeyName, true, true, nil, c.now); err != nil {
			return err
		}
		return appendActivity(c.ctx, tx, c.activity("auth.login", "api key "+domain.APIKeyDisplayPrefix(raw)))
	})
	if err != nil {
		return result{}, err
	}
	return result{message: domain.MsgAuthenticated, data: map[string]string{"api_key": raw}}, nil
}
