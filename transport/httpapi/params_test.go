package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
)

const (
	adaEmail    = "ada@example.com"
	adaPassword = "correct horse"
)

// multipartBody encodes fields, and a file part when fileField is set, as
// multipart/form-data.
func multipartBody(t *testing.T, fields [][2]string, fileField string) (contentType, body string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, "avatar.png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte("not really a png"))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.String()
}

func TestParameterSources(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{engine: sharepanel.Config{LoginFailuresPerEmail: 100, LoginFailuresPerAddress: 100}})
		ada := s.addUser(adaEmail, adaPassword, "pro")
		ctx := context.Background()
		if _, err := s.engine.CreateInstance(ctx, sharepanel.NewInstance{UserID: ada.id, Name: "old box", Status: domain.StatusDead}); err != nil {
			t.Fatalf("create instance: %v", err)
		}
		created := s.post("mode=orgs&action=new&apikey="+ada.key, "application/x-www-form-urlencoded", "title=Acme")
		created.check(t, want{status: 200, message: domain.MsgOrgCreated})
		var org struct {
			OrgID int64 `json:"org_id"`
		}
		created.data(t, &org)

		formCT := "application/x-www-form-urlencoded"
		jsonCT := "application/json"
		login := url.Values{"mode": {"auth"}, "email": {adaEmail}, "password": {adaPassword}}.Encode()
		loggedIn := want{status: 200, message: domain.MsgAuthenticated}
		badLogin := want{status: 401, code: "invalid_credentials", message: domain.MsgInvalidCredentials}
		multiCT, multiLogin := multipartBody(t, [][2]string{{"mode", "auth"}, {"email", adaEmail}, {"password", adaPassword}}, "")
		fileCT, fileBody := multipartBody(t, [][2]string{{"mode", "auth"}, {"email", adaEmail}}, "avatar")
		dupCT, dupBody := multipartBody(t, [][2]string{{"mode", "auth"}, {"email", adaEmail}, {"password", adaPassword}, {"password", "wrong"}}, "")
		nestedMessage := "Invalid email: arrays and objects are not accepted, send a string, number, boolean or null"

		tests := []struct {
			name        string
			method      string
			query       string
			contentType string
			body        string
			want        want
		}{
			{name: "query string", method: "GET", query: login, want: loggedIn},
			{name: "query on POST without body", method: "POST", query: login, want: loggedIn},
			{name: "form body", method: "POST", contentType: formCT, body: login, want: loggedIn},
			{name: "form body with charset", method: "POST", contentType: formCT + "; charset=UTF-8", body: login, want: loggedIn},
			{name: "mode in query, rest in form", method: "POST", query: "mode=auth", contentType: formCT, body: "email=ada%40example.com&password=correct+horse", want: loggedIn},
			{name: "multipart fields", method: "POST", contentType: multiCT, body: multiLogin, want: loggedIn},
			{name: "multipart file part", method: "POST", contentType: fileCT, body: fileBody, want: want{400, "invalid_parameter", "Invalid avatar: file uploads are not accepted"}},
			{name: "multipart without boundary", method: "POST", contentType: "multipart/form-data", body: multiLogin, want: want{400, "invalid_parameter", "Unsupported Content-Type: send application/x-www-form-urlencoded, multipart/form-data or application/json"}},
			{name: "multipart truncated", method: "POST", contentType: multiCT, body: multiLogin[:len(multiLogin)/2], want: want{400, "invalid_parameter", "Invalid multipart/form-data body"}},
			{name: "json strings", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"auth","email":%q,"password":%q}`, adaEmail, adaPassword), want: loggedIn},
			{name: "json with charset", method: "POST", contentType: "application/json; charset=utf-8", body: fmt.Sprintf(`{"mode":"auth","email":%q,"password":%q}`, adaEmail, adaPassword), want: loggedIn},
			{name: "json number", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"orgs","action":"view","apikey":%q,"org_id":%d}`, ada.key, org.OrgID), want: want{200, "", domain.MsgOrgViewed}},
			{name: "json number keeps literal text", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"orgs","action":"view","apikey":%q,"org_id":1.0}`, ada.key), want: want{400, "invalid_parameter", "Invalid org_id: must be a positive integer"}},
			{name: "json boolean", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"instances","action":"delete_dead","apikey":%q,"dry_run":true}`, ada.key), want: want{200, "", domain.MsgDeadDeleted(1) + domain.MsgDryRunNoteSuffix}},
			{name: "json null is omitted", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"auth","email":%q,"password":%q,"extra":null}`, adaEmail, adaPassword), want: loggedIn},
			{name: "json empty object", method: "POST", query: "mode=auth", contentType: jsonCT, body: `{}`, want: want{400, "missing_parameter", domain.MsgEmailPasswordNeeded}},
			{name: "json array body", method: "POST", contentType: jsonCT, body: `[{"mode":"auth"}]`, want: want{400, "invalid_parameter", "Invalid JSON body: send one JSON object of parameters"}},
			{name: "json string body", method: "POST", contentType: jsonCT, body: `"mode=auth"`, want: want{400, "invalid_parameter", "Invalid JSON body: send one JSON object of parameters"}},
			{name: "json nested object", method: "POST", contentType: jsonCT, body: `{"mode":"auth","email":{"address":"ada@example.com"}}`, want: want{400, "invalid_parameter", nestedMessage}},
			{name: "json array value", method: "POST", contentType: jsonCT, body: `{"mode":"auth","email":["ada@example.com"]}`, want: want{400, "invalid_parameter", nestedMessage}},
			{name: "json invalid", method: "POST", contentType: jsonCT, body: `{"mode":"auth",`, want: want{400, "invalid_parameter", "Invalid JSON body: send one JSON object of parameters"}},
			{name: "json trailing comma", method: "POST", contentType: jsonCT, body: `{"mode":"auth",}`, want: want{400, "invalid_parameter", "Invalid JSON body: send one JSON object of parameters"}},
			{name: "json two objects", method: "POST", contentType: jsonCT, body: `{"mode":"auth"}{}`, want: want{400, "invalid_parameter", "Invalid JSON body: send one JSON object of parameters"}},
			{name: "json invalid UTF-8", method: "POST", contentType: jsonCT, body: "{\"mode\":\"auth\",\"email\":\"ada\xff@example.com\"}", want: want{400, "invalid_parameter", "Invalid JSON body: not valid UTF-8"}},
			{name: "json lone low surrogate", method: "POST", contentType: jsonCT, body: `{"mode":"auth","email":"ada\udc00@example.com"}`, want: want{400, "invalid_parameter", "Invalid JSON body: not valid UTF-8"}},
			{name: "json lone high surrogate", method: "POST", contentType: jsonCT, body: `{"mode":"auth","email":"ada@example.com\uD800"}`, want: want{400, "invalid_parameter", "Invalid JSON body: not valid UTF-8"}},
			{name: "json surrogate in a name", method: "POST", contentType: jsonCT, body: `{"mode":"auth","e\udc00":"x"}`, want: want{400, "invalid_parameter", "Invalid JSON body: not valid UTF-8"}},
			{name: "form invalid UTF-8", method: "POST", contentType: formCT, body: "mode=auth&email=ada%40example.com&password=%FF", want: want{400, "invalid_parameter", "Invalid password: contains a NUL byte, a control character or invalid UTF-8"}},
			{name: "form malformed escape", method: "POST", contentType: formCT, body: "mode=auth&email=%zz", want: want{400, "invalid_parameter", "Invalid form body: send URL-encoded name=value pairs separated by &"}},
			{name: "query malformed escape", method: "GET", query: "mode=auth&email=%zz", want: want{400, "invalid_parameter", "Invalid query string: send URL-encoded name=value pairs separated by &"}},
			{name: "query semicolon", method: "GET", query: "mode=auth;email=x", want: want{400, "invalid_parameter", "Invalid query string: send URL-encoded name=value pairs separated by &"}},
			{name: "unsupported content type", method: "POST", contentType: "text/plain", body: login, want: want{400, "invalid_parameter", "Unsupported Content-Type: send application/x-www-form-urlencoded, multipart/form-data or application/json"}},
			{name: "body without content type", method: "POST", body: login, want: want{400, "invalid_parameter", "Unsupported Content-Type: send application/x-www-form-urlencoded, multipart/form-data or application/json"}},
			{name: "unsupported type with empty body", method: "POST", query: login, contentType: "text/plain", want: loggedIn},
			{name: "form body wins over query", method: "POST", query: "mode=auth&password=wrong", contentType: formCT, body: login, want: loggedIn},
			{name: "query loses to form body", method: "POST", query: login, contentType: formCT, body: "password=wrong", want: badLogin},
			{name: "json body wins over query", method: "POST", query: "password=wrong", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"auth","email":%q,"password":%q}`, adaEmail, adaPassword), want: loggedIn},
			{name: "multipart body wins over query", method: "POST", query: "password=wrong", contentType: multiCT, body: multiLogin, want: loggedIn},
			{name: "first repeated query value", method: "GET", query: login + "&password=wrong", want: loggedIn},
			{name: "later repeated query value ignored", method: "GET", query: "mode=auth&email=ada%40example.com&password=wrong&password=correct+horse", want: badLogin},
			{name: "first repeated form value", method: "POST", contentType: formCT, body: login + "&password=wrong", want: loggedIn},
			{name: "first repeated multipart value", method: "POST", contentType: dupCT, body: dupBody, want: loggedIn},
			{name: "first repeated json member", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"auth","email":%q,"password":%q,"password":"wrong"}`, adaEmail, adaPassword), want: loggedIn},
			{name: "later repeated json member ignored", method: "POST", contentType: jsonCT, body: fmt.Sprintf(`{"mode":"auth","email":%q,"password":"wrong","password":%q}`, adaEmail, adaPassword), want: badLogin},
			{name: "GET body ignored", method: "GET", query: "mode=auth", contentType: formCT, body: "email=ada%40example.com&password=correct+horse", want: want{400, "missing_parameter", domain.MsgEmailPasswordNeeded}},
			{name: "unknown mode", method: "GET", query: "mode=nope", want: want{400, "invalid_mode", domain.MsgInvalidMode}},
			{name: "unknown action", method: "GET", query: "mode=orgs&action=nope&apikey=" + ada.key, want: want{400, "invalid_action", domain.MsgInvalidAction("orgs")}},
			{name: "unknown parameter", method: "GET", query: login + "&colour=blue", want: want{400, "unknown_parameter", "Unknown parameter: colour"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var req *http.Request
				if tt.body == "" {
					req = s.newRequest(tt.method, tt.query, tt.contentType, nil)
				} else {
					req = s.newRequest(tt.method, tt.query, tt.contentType, bytes.NewBufferString(tt.body))
				}
				s.do(req).check(t, tt.want)
			})
		}
	})
}

func TestPasswordWithReservedCharacters(t *testing.T) {
	const password = "p+a&s%s=w rd"
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		s.addUser("grace@example.com", password, "free")
		login := url.Values{"mode": {"auth"}, "email": {"grace@example.com"}, "password": {password}}.Encode()

		t.Run("form body", func(t *testing.T) {
			s.post("", "application/x-www-form-urlencoded", login).check(t, want{status: 200, message: domain.MsgAuthenticated})
		})
		t.Run("encoded query", func(t *testing.T) {
			s.get(login).check(t, want{status: 200, message: domain.MsgAuthenticated})
		})
		t.Run("json body", func(t *testing.T) {
			body := fmt.Sprintf(`{"mode":"auth","email":"grace@example.com","password":%q}`, password)
			s.post("", "application/json", body).check(t, want{status: 200, message: domain.MsgAuthenticated})
		})
	})
}

func TestAPIKeyLocations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := newServer(t, b, serverConfig{})
		ada := s.addUser(adaEmail, adaPassword, "free")
		viewed := want{status: 200, message: domain.MsgProfileViewed}
		invalid := want{status: 401, code: "invalid_api_key", message: domain.MsgInvalidAPIKey}
		wrongKey := domain.NewAPIKey()

		tests := []struct {
			name   string
			method string
			query  string
			body   string
			header [][2]string
			want   want
		}{
			{name: "apikey in query", method: "GET", query: "mode=profile&action=view&apikey=" + ada.key, want: viewed},
			{name: "api_key in query", method: "GET", query: "mode=profile&action=view&api_key=" + ada.key, want: viewed},
			{name: "apikey in form body", method: "POST", body: "mode=profile&action=view&apikey=" + ada.key, want: viewed},
			{name: "api_key in form body", method: "POST", body: "mode=profile&action=view&api_key=" + ada.key, want: viewed},
			{name: "X-API-Key header", method: "GET", query: "mode=profile&action=view", header: [][2]string{{"X-API-Key", ada.key}}, want: viewed},
			{name: "bearer token", method: "GET", query: "mode=profile&action=view", header: [][2]string{{"Authorization", "Bearer " + ada.key}}, want: viewed},
			{name: "bearer scheme lowercase", method: "GET", query: "mode=profile&action=view", header: [][2]string{{"Authorization", "bearer " + ada.key}}, want: viewed},
			{name: "basic scheme ignored", method: "GET", query: "mode=profile&action=view", header: [][2]string{{"Authorization", "Basic " + ada.key}}, want: invalid},
			{name: "no key", method: "GET", query: "mode=profile&action=view", want: invalid},
			{name: "apikey before api_key", method: "GET", query: "mode=profile&action=view&api_key=" + wrongKey + "&apikey=" + ada.key, want: viewed},
			{name: "parameter before header", method: "GET", query: "mode=profile&action=view&apikey=" + ada.key, header: [][2]string{{"X-API-Key", wrongKey}}, want: viewed},
			{name: "X-API-Key before bearer", method: "GET", query: "mode=profile&action=view", header: [][2]string{{"X-API-Key", wrongKey}, {"Authorization", "Bearer " + ada.key}}, want: invalid},
			{name: "unknown key", method: "GET", query: "mode=profile&action=view&apikey=" + wrongKey, want: invalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var req *http.Request
				if tt.method == "POST" {
					req = s.newRequest(tt.method, tt.query, "application/x-www-form-urlencoded", bytes.NewBufferString(tt.body))
				} else {
					req = s.newRequest(tt.method, tt.query, "", nil)
				}
				for _, h := range tt.header {
					req.Header.Set(h[0], h[1])
				}
				s.do(req).check(t, tt.want)
			})
		}
	})
}
