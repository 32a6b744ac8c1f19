package sharepanel

import (
	"sort"
)

// ParamType is the type of an action parameter as the API reads it. Every
// parameter arrives as a string, and the type determines how it is parsed.
type ParamType string

// Parameter types.
const (
	TypeString ParamType = "string"
	TypeInt    ParamType = "integer"
	TypeBool   ParamType = "boolean"
	TypeTime   ParamType = "datetime"
)

// Param describes one parameter of an action.
type Param struct {
	Name     string
	Type     ParamType
	Required bool
	// MaxLen is the maximum length in characters of a string value; 0
	// means maxParamLen.
	MaxLen int
	// Enum lists the allowed values of a string parameter, if limited.
	Enum []string
	// Min and Max bound an integer parameter when Max is not zero. Min 1
	// alone marks a positive integer, such as an id.
	Min, Max    int64
	Description string
}

// ActionSpec describes one action of the API. Transports build their route
// tables, method rules and generated docs from these, so they cannot drift
// from what the Engine dispatches.
type ActionSpec struct {
	Mode   string
	Action string // "" for auth and search; the value of type for stats

	// Mutating actions change data: they require POST over HTTP, a key with
	// write permission, and honour an Idempotency-Key.
	Mutating bool
	// Public actions need no API key (auth).
	Public bool
	// List actions accept limit and offset and return pagination.
	List bool
	// DryRun actions accept dry_run=true.
	DryRun bool

	Params  []Param
	Summary string
	// Destructive actions delete data.
	Destructive bool
	// Additive actions only add records: they change and delete nothing
	// that exists. auth is one, because it creates a key.
	Additive bool

	// ownTx makes the action run without a transaction from run: it opens
	// its own, so that auth holds no connection while it runs bcrypt.
	ownTx bool

	run func(*call) (result, error)
}

// Method returns the qualified name MODE.ACTION (just MODE for auth and
// search).
func (s *ActionSpec) Method() string {
	if s.Action == "" {
		return s.Mode
	}
	return s.Mode + "." + s.Action
}

// ReadOnly reports whether the action writes nothing the caller could
// notice: neither a mutating action nor auth, which creates a key. Reads
// still count toward rate limits and usage.
func (s *ActionSpec) ReadOnly() bool { return !s.Mutating && !s.Public }

// Overwrites reports whether the action may change or delete existing
// data, the sense of MCP's destructiveHint: a mutating action that is not
// additive.
func (s *ActionSpec) Overwrites() bool { return s.Mutating && !s.Additive }

// AllParams returns the action's own parameters plus the shared ones it
// accepts (limit, offset, dry_run).
func (s *ActionSpec) AllParams() []Param {
	out := append([]Param(nil), s.Params...)
	if s.List {
		out = append(out,
			Param{Name: "limit", Type: TypeInt, Description: "Page size, 1 to 100 (default 50; larger values are capped at 100)"},
			Param{Name: "offset", Type: TypeInt, Description: "Rows to skip (default 0)"})
	}
	if s.DryRun {
		out = append(out, Param{Name: "dry_run", Type: TypeBool, Description: "Report what would change and change nothing"})
	}
	return out
}

// Actions returns every action the Engine implements, sorted by method
// name.
func (e *Engine) Actions() []ActionSpec {
	var out []ActionSpec
	for _, byAction := range e.actions {
		for _, s := range byAction {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Method() < out[j].Method() })
	return out
}

// Lookup returns the spec of mode's action. For mode stats, action is the
// value of the type parameter.
func (e *Engine) Lookup(mode, action string) (*ActionSpec, bool) {
	byAction, ok := e.actions[mode]
	if !ok {
		return nil, false
	}
	s, ok := byAction[action]
	return s, ok
}

func buildRegistry() map[string]map[string]*ActionSpec {
	reg := map[string]map[string]*ActionSpec{}
	for _, group := range [][]*ActionSpec{
		authActions(), profileActions(), orgActions(), instanceActions(), apiKeyActions(),
		billingActions(), analyticsActions(), notificationActions(), statsActions(), searchActions(),
	} {
		for _, s := range group {
			if reg[s.Mode] == nil {
				reg[s.Mode] = map[string]*ActionSpec{}
			}
			if _, dup := reg[s.Mode][s.Action]; dup {
				panic("BUG: action registered twice: " + s.Method())
			}
			reg[s.Mode][s.Action] = s
		}
	}
	return reg
}
