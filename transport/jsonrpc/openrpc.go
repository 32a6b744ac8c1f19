package jsonrpc

import (
	"sort"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
)

// OpenRPCVersion is the version of the OpenRPC specification that
// Discover's document follows.
const OpenRPCVersion = "1.3.2"

// Document is an OpenRPC document: the reply to rpc.discover.
type Document struct {
	OpenRPC    string     `json:"openrpc"`
	Info       Info       `json:"info"`
	Methods    []Method   `json:"methods"`
	Components Components `json:"components"`
}

// Info is the document's info object.
type Info struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Version     string `json:"version"`
}

// Method describes one method.
type Method struct {
	Name           string              `json:"name"`
	Summary        string              `json:"summary"`
	Description    string              `json:"description,omitempty"`
	ParamStructure string              `json:"paramStructure"`
	Params         []ContentDescriptor `json:"params"`
	Result         ContentDescriptor   `json:"result"`

	// ReadOnly and Destructive are OpenRPC extensions with the hints that
	// the MCP server gives its tools. ReadOnly is true for a method that
	// writes nothing the caller could notice, so false for auth, which
	// creates a key. Destructive is true for a method that may change or
	// delete existing data, as MCP's destructiveHint means, and false for
	// reads and for methods that only add records (orgs.new,
	// api_keys.create, auth).
	ReadOnly    bool `json:"x-read-only"`
	Destructive bool `json:"x-destructive"`
}

// ContentDescriptor describes a parameter or a result.
type ContentDescriptor struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Required    bool           `json:"required,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// Components contains the error table.
type Components struct {
	Errors map[string]ErrorObject `json:"errors"`
}

// ErrorObject is an entry of the error table: the JSON-RPC code, and in
// data the HTTP-equivalent status and the API's code.
type ErrorObject struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
}

// DocumentVersion is the version of the API that the document describes.
const DocumentVersion = "1.0.0"

// Discover builds the OpenRPC document of e's methods from e.Actions(),
// the registry the Engine dispatches with, and adds the transport's own
// methods, rpc.discover and session.use_key. Methods are sorted by name.
func Discover(e *sharepanel.Engine) *Document {
	doc := &Document{
		OpenRPC: OpenRPCVersion,
		Info: Info{
			Title:       "SharePanel",
			Description: "The SharePanel user API over JSON-RPC 2.0. Parameters go by name; the API key goes in the apikey member of params or once per connection through session.use_key.",
			Version:     DocumentVersion,
		},
		Components: Components{Errors: errorTable()},
	}
	for _, spec := range e.Actions() {
		doc.Methods = append(doc.Methods, actionMethod(&spec))
	}
	doc.Methods = append(doc.Methods, discoverMethod(), useKeyMethod())
	sort.Slice(doc.Methods, func(i, j int) bool { return doc.Methods[i].Name < doc.Methods[j].Name })
	return doc
}

// actionMethod describes the method of one action.
func actionMethod(spec *sharepanel.ActionSpec) Method {
	m := Method{
		Name:           spec.Method(),
		Summary:        spec.Summary,
		Description:    actionDescription(spec),
		ParamStructure: "by-name",
		Result:         resultDescriptor(spec.List),
		ReadOnly:       spec.ReadOnly(),
		Destructive:    spec.Overwrites(),
	}
	for _, p := range spec.AllParams() {
		m.Params = append(m.Params, ContentDescriptor{
			Name:        p.Name,
			Description: p.Description,
			Required:    p.Required,
			Schema:      ParamSchema(p),
		})
	}
	if !spec.Public {
		m.Params = append(m.Params, ContentDescriptor{
			Name:        memberAPIKey,
			Description: "API key; api_key is accepted too. Without it, the key set by session.use_key is used.",
			Schema:      map[string]any{"type": "string"},
		})
	}
	if spec.Mutating {
		m.Params = append(m.Params, ContentDescriptor{
			Name:        memberIdempotencyKey,
			Description: "Performs the request once per key and user for 24 hours: a repeat with the same parameters returns the first result. At most 255 characters.",
			Schema:      map[string]any{"type": "string", "maxLength": 255},
		})
	}
	return m
}

// actionDescription returns what a method needs and changes.
func actionDescription(spec *sharepanel.ActionSpec) string {
	switch {
	case spec.Public:
		return "Needs no API key."
	case spec.Destructive:
		return "Deletes data. Needs a key with write permission."
	case spec.Additive:
		return "Adds data and changes nothing that exists. Needs a key with write permission."
	case spec.Mutating:
		return "Changes data. Needs a key with write permission."
	}
	return "Reads data. Needs a key with read permission."
}

// ParamSchema returns the JSON Schema of an action parameter in its
// natural JSON type. The API also accepts every scalar in place of these
// types, as StringParams converts it: an integer parameter may come as
// the string "5", a boolean as "true".
func ParamSchema(p sharepanel.Param) map[string]any {
	schema := map[string]any{}
	switch p.Type {
	case sharepanel.TypeInt:
		schema["type"] = "integer"
		switch {
		case p.Max != 0:
			schema["minimum"] = p.Min
			schema["maximum"] = p.Max
		case p.Min > 0:
			schema["minimum"] = p.Min
		case p.Name == "offset":
			schema["minimum"] = 0
		default:
			// The other integers are ids and limit, which the Engine
			// rejects as 0. A limit over its cap is capped, not rejected,
			// so no maximum is given.
			schema["minimum"] = 1
		}
	case sharepanel.TypeBool:
		schema["type"] = "boolean"
	case sharepanel.TypeTime:
		schema["type"] = "string"
		schema["format"] = "date-time"
	default:
		schema["type"] = "string"
		if p.MaxLen > 0 {
			schema["maxLength"] = p.MaxLen
		}
		if len(p.Enum) > 0 {
			schema["enum"] = p.Enum
		}
	}
	if p.Description != "" {
		schema["description"] = p.Description
	}
	return schema
}

// resultDescriptor describes the result of an API method.
func resultDescriptor(list bool) ContentDescriptor {
	data := map[string]any{"description": "The envelope's data: an object, or an array of rows for a list"}
	props := map[string]any{
		"message":    map[string]any{"type": "string"},
		"data":       data,
		"request_id": map[string]any{"type": "string"},
		"timestamp":  map[string]any{"type": "string"},
		"rate_limit": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"limit":     map[string]any{"type": "integer"},
				"remaining": map[string]any{"type": "integer"},
				"reset":     map[string]any{"type": "integer", "description": "Unix seconds"},
			},
		},
	}
	if list {
		data["type"] = "array"
		props["pagination"] = map[string]any{
			"type": "object",
			"properties": map[string]any{
				"limit":    map[string]any{"type": "integer"},
				"offset":   map[string]any{"type": "integer"},
				"total":    map[string]any{"type": "integer"},
				"has_more": map[string]any{"type": "boolean"},
			},
		}
	}
	return ContentDescriptor{
		Name:   "result",
		Schema: map[string]any{"type": "object", "properties": props, "required": []string{"message", "request_id", "timestamp"}},
	}
}

func discoverMethod() Method {
	return Method{
		Name:           MethodDiscover,
		Summary:        "Return this OpenRPC document",
		ParamStructure: "by-name",
		Params:         []ContentDescriptor{},
		Result:         ContentDescriptor{Name: "document", Schema: map[string]any{"type": "object", "description": "An OpenRPC document"}},
		ReadOnly:       true,
	}
}

func useKeyMethod() Method {
	return Method{
		Name:           MethodUseKey,
		Summary:        "Set the API key for the requests that follow on this connection",
		Description:    "Only the key's format is checked here; requests that use it verify it. A key in a request's own params takes precedence. It also raises the line size limit to the payload cap of the key's plan.",
		ParamStructure: "by-name",
		Params: []ContentDescriptor{{
			Name:        memberAPIKey,
			Description: "API key; api_key is accepted too",
			Required:    true,
			Schema:      map[string]any{"type": "string"},
		}},
		Result: resultDescriptor(false),
	}
}

// errorTable lists the error codes by name: the API's codes and the
// transport's protocol errors.
func errorTable() map[string]ErrorObject {
	out := map[string]ErrorObject{
		nameParseError:     {Code: CodeParseError, Message: "Parse error", Data: map[string]any{"status": 400, "code": nameParseError}},
		nameInvalidRequest: {Code: CodeInvalidRequest, Message: "Invalid request", Data: map[string]any{"status": 400, "code": nameInvalidRequest}},
	}
	for code, status := range domain.Codes() {
		out[string(code)] = ErrorObject{
			Code:    ErrorCode(code),
			Message: string(code),
			Data:    map[string]any{"status": status, "code": string(code)},
		}
	}
	return out
}
