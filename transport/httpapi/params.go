package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/transport/internal/wire"
)

// Errors that the HTTP layer detects. Their messages follow the style of
// the fixed messages in domain.
var (
	errMethod            = &domain.Error{Code: domain.CodeMethodNotAllowed, Message: domain.MsgMethodNotAllowed}
	errUnsupportedMethod = &domain.Error{Code: domain.CodeMethodNotAllowed, Message: domain.MsgMethodNotSupported}
	errPayloadTooLarge   = &domain.Error{Code: domain.CodePayloadTooLarge, Message: domain.MsgPayloadTooLarge}
	errInvalidQuery      = &domain.Error{Code: domain.CodeInvalidParameter, Message: "Invalid query string: send URL-encoded name=value pairs separated by &"}
	errInvalidForm       = &domain.Error{Code: domain.CodeInvalidParameter, Message: "Invalid form body: send URL-encoded name=value pairs separated by &"}
	errInvalidMulti      = &domain.Error{Code: domain.CodeInvalidParameter, Message: "Invalid multipart/form-data body"}
	errInvalidJSON       = &domain.Error{Code: domain.CodeInvalidParameter, Message: "Invalid JSON body: send one JSON object of parameters"}
	errJSONNotUTF8       = &domain.Error{Code: domain.CodeInvalidParameter, Message: "Invalid JSON body: not valid UTF-8"}
	errBodyRead          = &domain.Error{Code: domain.CodeInvalidParameter, Message: "Invalid request body: it could not be read to the end"}
	errUnsupportedType   = &domain.Error{
		Code:    domain.CodeInvalidParameter,
		Message: "Unsupported Content-Type: send application/x-www-form-urlencoded, multipart/form-data or application/json",
	}
)

// bodyKind is a supported body encoding.
type bodyKind int

const (
	bodyForm bodyKind = iota + 1
	bodyMultipart
	bodyJSON
)

// bodyKindOf returns the encoding that a Content-Type names and, for
// multipart, its boundary. supported is false for any other type and for
// a multipart type without a boundary.
func bodyKindOf(contentType string) (kind bodyKind, boundary string, supported bool) {
	// The common cases need no full media type parse.
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	switch mediaType {
	case "application/x-www-form-urlencoded":
		return bodyForm, "", true
	case "application/json":
		return bodyJSON, "", true
	case "multipart/form-data":
		_, mediaParams, err := mime.ParseMediaType(contentType)
		if err != nil || mediaParams["boundary"] == "" {
			return 0, "", false
		}
		return bodyMultipart, mediaParams["boundary"], true
	}
	return 0, "", false
}

// parseBody adds the parameters of a non-empty body to params.
func parseBody(kind bodyKind, boundary string, body []byte, params map[string]string) *domain.Error {
	switch kind {
	case bodyForm:
		if !parseURLEncoded(string(body), params) {
			return errInvalidForm
		}
		return nil
	case bodyMultipart:
		return parseMultipart(body, boundary, params)
	case bodyJSON:
		return parseJSONObject(body, params)
	}
	return errUnsupportedType
}

// parseURLEncoded adds the name=value pairs of s to params. A name that
// params already has keeps its value, so the first value of a repeated name
// counts. It returns false on malformed percent-encoding and on a ';'
// separator, which net/url also rejects since Go 1.17.
func parseURLEncoded(s string, params map[string]string) bool {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return false
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return false
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return false
		}
		if _, set := params[name]; !set {
			params[name] = value
		}
	}
	return true
}

// parseMultipart adds the fields of a multipart/form-data body to params
// and rejects file parts.
func parseMultipart(body []byte, boundary string, params map[string]string) *domain.Error {
	// mime/multipart returns io.EOF, not an error, for a body cut off in a
	// part's headers, so a body without its close delimiter is rejected
	// here.
	if !bytes.Contains(body, []byte("--"+boundary+"--")) {
		return errInvalidMulti
	}
	reader := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errInvalidMulti
		}
		name := part.FormName()
		if name == "" {
			return errInvalidMulti
		}
		if part.FileName() != "" {
			return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: file uploads are not accepted", wire.Printable(name))
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return errInvalidMulti
		}
		if _, set := params[name]; !set {
			params[name] = string(value)
		}
	}
}

// parseJSONObject adds the members of a JSON object body to params. It
// reads tokens instead of decoding into a map so that the first of two
// members with the same name counts, as it does in a query string.
func parseJSONObject(body []byte, params map[string]string) *domain.Error {
	// encoding/json silently replaces invalid UTF-8, and \u escapes of
	// unpaired UTF-16 surrogates, with U+FFFD, so both are checked first.
	if !utf8.Valid(body) || wire.HasLoneSurrogate(body) {
		return errJSONNotUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errInvalidJSON
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errInvalidJSON
		}
		name, ok := tok.(string)
		if !ok {
			return errInvalidJSON
		}
		tok, err = dec.Token()
		if err != nil {
			return errInvalidJSON
		}

		var value string
		switch v := tok.(type) {
		case string:
			value = v
		case json.Number:
			value = v.String()
		case bool:
			value = strconv.FormatBool(v)
		case nil:
			continue
		default: // json.Delim: an array or object
			return domain.Errorf(domain.CodeInvalidParameter, "Invalid %s: arrays and objects are not accepted, send a string, number, boolean or null", wire.Printable(name))
		}
		if _, set := params[name]; !set {
			params[name] = value
		}
	}

	// The closing brace, then nothing but whitespace.
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errInvalidJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errInvalidJSON
	}
	return nil
}
