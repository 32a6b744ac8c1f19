package domain

import (
	"encoding/json"
	"fmt"
	"io"
)

// Plan is one row of the plan catalog. Limits count per user, across all of
// the user's keys.
type Plan struct {
	Name            string `json:"name" validate:"required,max=32,alphanum"`
	DailyRequests   int    `json:"daily_requests" validate:"gt=0"`
	PerMinute       int    `json:"per_minute" validate:"gt=0"`
	MaxPayloadBytes int64  `json:"max_payload_bytes" validate:"gt=0"`
	OrgLimit        int    `json:"org_limit" validate:"gte=0"`
	InstanceLimit   int    `json:"instance_limit" validate:"gte=0"`
	Price           Money  `json:"price" validate:"gte=0"`
}

// Catalog is the set of plans, in display order.
type Catalog []Plan

const mb = 1 << 20

// DefaultCatalog returns the standard plans. Prices are monthly, in cents.
func DefaultCatalog() Catalog {
	return Catalog{
		{Name: "free", DailyRequests: 100, PerMinute: 10, MaxPayloadBytes: 1 * mb, OrgLimit: 1, InstanceLimit: 2, Price: 0},
		{Name: "basic", DailyRequests: 1000, PerMinute: 30, MaxPayloadBytes: 5 * mb, OrgLimit: 3, InstanceLimit: 10, Price: 900},
		{Name: "pro", DailyRequests: 10000, PerMinute: 100, MaxPayloadBytes: 15 * mb, OrgLimit: 10, InstanceLimit: 25, Price: 2900},
		{Name: "enterprise", DailyRequests: 50000, PerMinute: 500, MaxPayloadBytes: 50 * mb, OrgLimit: 50, InstanceLimit: 100, Price: 9900},
	}
}

// Find returns the plan with the given name.
func (c Catalog) Find(name string) (Plan, bool) {
	for _, p := range c {
		if p.Name == name {
			return p, true
		}
	}
	return Plan{}, false
}

// MinPayload returns the smallest payload cap of any plan, the cap for a
// request whose plan is not known before its body is read.
func (c Catalog) MinPayload() int64 {
	var least int64
	for i, p := range c {
		if i == 0 || p.MaxPayloadBytes < least {
			least = p.MaxPayloadBytes
		}
	}
	return least
}

// Validate checks every plan and that names are unique and the list is not
// empty.
func (c Catalog) Validate() error {
	if len(c) == 0 {
		return fmt.Errorf("plan catalog is empty")
	}
	seen := map[string]bool{}
	for i, p := range c {
		if err := Validate(p); err != nil {
			return fmt.Errorf("plan %d (%q): %w", i+1, p.Name, err)
		}
		if seen[p.Name] {
			return fmt.Errorf("plan %q is listed twice", p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

// planFile is the JSON form of a catalog file: a list of plans whose payload
// cap may be given in bytes or in megabytes.
type planFile struct {
	Plan
	MaxPayloadMB int64 `json:"max_payload_mb"`
}

// maxPayloadMB bounds max_payload_mb, so the cap in bytes cannot overflow.
const maxPayloadMB = 1 << 20

// ReadCatalog reads a JSON array of plans (the fields of Plan, with the
// payload cap as max_payload_bytes or max_payload_mb, not both) and
// validates it. Nothing may follow the array.
func ReadCatalog(r io.Reader) (Catalog, error) {
	var rows []planFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("decode plan catalog: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode plan catalog: unexpected data after the array")
	}
	c := make(Catalog, 0, len(rows))
	for i, row := range rows {
		p := row.Plan
		if row.MaxPayloadMB != 0 {
			if p.MaxPayloadBytes != 0 {
				return nil, fmt.Errorf("plan %d (%q): give max_payload_bytes or max_payload_mb, not both", i+1, p.Name)
			}
			if row.MaxPayloadMB < 0 || row.MaxPayloadMB > maxPayloadMB {
				return nil, fmt.Errorf("plan %d (%q): max_payload_mb %d is outside 1 to %d", i+1, p.Name, row.MaxPayloadMB, maxPayloadMB)
			}
			p.MaxPayloadBytes = row.MaxPayloadMB * mb
		}
		c = append(c, p)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
