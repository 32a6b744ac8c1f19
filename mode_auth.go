package sharepanel

import (
	"errors"
	"strings"

	"github.com/sharepanel/sharepanel/domain"
)

func authActions() []*ActionSpec {
	return []*ActionSpec{{
		Mode:    "auth",
		Public:  true,
		Summary: "Exchange an email and password for a new API key",
		Params: []Param{
			{Name: "email", Type: TypeString, Required: true, MaxLen: domain.MaxEmailLen, Description: "Account email"},
			{Name: "password", Type: TypeString, Required: true, MaxLen: 1024, Description: "Account password"},
		},
		writes: true,
		run:    (*call).login,
	}}
}

// authKeyName is the name of keys that mode=auth issues.
const authKeyName = "auth"

// login checks the credentials and issues a new read-write key. Failed
// logins count against the email and the client address; once either is
// throttled, logins for it get 429 without a password check.
func (c *call) login() (result, error) {
	email := strings.ToLower(strings.TrimSpace(c.req.Params["email"]))
	password := c.req.Params["password"]
	if email == "" || password == "" {
		return result{}, &domain.Error{Code: domain.CodeMissingParameter, Message: domain.MsgEmailPasswordNeeded}
	}
	throttle := c.e.logins.loginKeys(email, c.req.ClientAddr)
	if wait, blocked := c.e.logins.blocked(throttle, c.now); blocked {
		c.retryAfter = wait
		return result{}, &domain.Error{Code: domain.CodeLoginThrottled, Message: domain.MsgLoginThrottled}
	}

	user, err := c.tx.FindUserByEmail(c.ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		// Hash anyway, so a missing account takes as long as a wrong
		// password and timing does not reveal which emails exist.
		domain.CheckPassword(c.e.dummyHash(), password)
		c.e.logins.fail(throttle, c.now)
		return result{}, &domain.Error{Code: domain.CodeInvalidCredentials, Message: domain.MsgInvalidCredentials}
	}
	if err != nil {
		return result{}, err
	}
	// bcrypt reads only the first 72 bytes, and no stored password is
	// longer, so a longer one cannot be right even if its start matches.
	if !domain.CheckPassword(user.PasswordHash, password) || len(password) > domain.MaxPasswordLen {
		c.e.logins.fail(throttle, c.now)
		return result{}, &domain.Error{Code: domain.CodeInvalidCredentials, Message: domain.MsgInvalidCredentials}
	}
	c.e.logins.succeed(email)

	c.userID = user.ID
	raw, _, err := c.e.createKey(c.ctx, c.tx, user.ID, authKeyName, true, true, nil, c.now)
	if err != nil {
		return result{}, err
	}
	if err := c.log("auth.login", "api key "+domain.APIKeyDisplayPrefix(raw)); err != nil {
		return result{}, err
	}
	return result{message: domain.MsgAuthenticated, data: map[string]string{"api_key": raw}}, nil
}
