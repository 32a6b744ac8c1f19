package jsonrpc_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/sharepanel/sharepanel/transport/jsonrpc"
)

// TestDiscoverListsEveryAction checks that rpc.discover describes every
// action of the Engine, with its parameters, and the transport's own
// methods.
func TestDiscoverListsEveryAction(t *testing.T) {
	f := newFixture(t)
	lines := f.serve(`{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}` + "\n")
	var r struct {
		Result jsonrpc.Document `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	doc := r.Result
	if doc.OpenRPC != jsonrpc.OpenRPCVersion {
		t.Errorf("openrpc %q, want %q", doc.OpenRPC, jsonrpc.OpenRPCVersion)
	}

	methods := map[string]jsonrpc.Method{}
	for _, m := range doc.Methods {
		methods[m.Name] = m
	}
	actions := f.engine.Actions()
	if len(methods) != len(actions)+2 {
		t.Errorf("%d methods, want %d actions plus rpc.discover and session.use_key", len(methods), len(actions))
	}
	for _, name := range []string{jsonrpc.MethodDiscover, jsonrpc.MethodUseKey} {
		if _, ok := methods[name]; !ok {
			t.Errorf("method %s is missing", name)
		}
	}
	for _, spec := range actions {
		m, ok := methods[spec.Method()]
		if !ok {
			t.Errorf("action %s has no method", spec.Method())
			continue
		}
		if m.ReadOnly != spec.ReadOnly() {
			t.Errorf("%s: x-read-only %v, want %v", m.Name, m.ReadOnly, spec.ReadOnly())
		}
		if m.Destructive != spec.Overwrites() {
			t.Errorf("%s: x-destructive %v, want %v", m.Name, m.Destructive, spec.Overwrites())
		}
		var names []string
		for _, p := range m.Params {
			names = append(names, p.Name)
		}
		for _, p := range spec.AllParams() {
			if !slices.Contains(names, p.Name) {
				t.Errorf("%s: parameter %s is missing", m.Name, p.Name)
			}
		}
		if !spec.Public && !slices.Contains(names, "apikey") {
			t.Errorf("%s: parameter apikey is missing", m.Name)
		}
	}

	hints := []struct {
		method      string
		readOnly    bool
		destructive bool
	}{
		{method: "orgs.list", readOnly: true},
		{method: "auth"},
		{method: "orgs.new"},
		{method: "api_keys.create"},
		{method: "orgs.update", destructive: true},
		{method: "instances.update_status", destructive: true},
		{method: "notifications.mark_read", destructive: true},
		{method: "orgs.delete", destructive: true},
	}
	for _, want := range hints {
		m := methods[want.method]
		if m.ReadOnly != want.readOnly || m.Destructive != want.destructive {
			t.Errorf("%s: x-read-only %v, x-destructive %v; want %v, %v", want.method, m.ReadOnly, m.Destructive, want.readOnly, want.destructive)
		}
	}

	for name, e := range doc.Components.Errors {
		if e.Data["code"] != name {
			t.Errorf("error %s: data.code %v", name, e.Data["code"])
		}
	}
}

func TestParamSchemaBounds(t *testing.T) {
	f := newFixture(t)
	doc := jsonrpc.Discover(f.engine)
	schemas := map[string]map[string]any{}
	for _, m := range doc.Methods {
		for _, p := range m.Params {
			schemas[m.Name+" "+p.Name] = p.Schema
		}
	}
	tests := []struct {
		param   string
		minimum any
		maximum any
	}{
		{param: "orgs.view org_id", minimum: 1},
		{param: "api_keys.delete key_id", minimum: 1},
		{param: "notifications.mark_read notification_id", minimum: 1},
		{param: "orgs.list limit", minimum: 1},
		{param: "search limit", minimum: 1},
		{param: "orgs.list offset", minimum: 0},
		{param: "analytics.usage period", minimum: 1, maximum: 366},
		{param: "analytics.spending months", minimum: 1, maximum: 120},
	}
	for _, tt := range tests {
		schema, ok := schemas[tt.param]
		if !ok {
			t.Errorf("%s: no such parameter", tt.param)
			continue
		}
		if got, want := fmt.Sprint(schema["minimum"]), fmt.Sprint(tt.minimum); got != want {
			t.Errorf("%s: minimum %s, want %s", tt.param, got, want)
		}
		if got, want := fmt.Sprint(schema["maximum"]), fmt.Sprint(tt.maximum); got != want {
			t.Errorf("%s: maximum %s, want %s", tt.param, got, want)
		}
	}
	if enum := fmt.Sprint(schemas["instances.update_status status"]["enum"]); enum != "[active sleep dead]" {
		t.Errorf("instances.update_status status: enum %s, want [active sleep dead]", enum)
	}
}
