package jsonrpc_test

import (
	"encoding/json"
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
		if m.ReadOnly == spec.Mutating {
			t.Errorf("%s: x-read-only %v, but Mutating is %v", m.Name, m.ReadOnly, spec.Mutating)
		}
		if m.Destructive != spec.Destructive {
			t.Errorf("%s: x-destructive %v, want %v", m.Name, m.Destructive, spec.Destructive)
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

	for name, e := range doc.Components.Errors {
		if e.Data["code"] != name {
			t.Errorf("error %s: data.code %v", name, e.Data["code"])
		}
	}
}
