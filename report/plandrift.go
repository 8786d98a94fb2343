package report

import (
	"fmt"
	"strings"
)

// PlanDrift is how a host's pending updates differ from its saved plan
// (`patch --plan`): updates pending now that were not when the plan was
// made, planned updates no longer pending, and planned updates offered now
// at another version or with another version installed.
type PlanDrift struct {
	New     []DriftUpdate `json:"new,omitempty"`
	Gone    []DriftUpdate `json:"gone,omitempty"`
	Changed []DriftUpdate `json:"changed,omitempty"`
}

// DriftUpdate is one update of a PlanDrift.
type DriftUpdate struct {
	Name string `json:"name"`
	Arch string `json:"arch,omitempty"`
	ID   string `json:"id,omitempty"` // Windows update id
	// Planned is the version the plan installs ("" for a new update).
	Planned string `json:"planned,omitempty"`
	// Available is the version offered now ("" for a gone update).
	Available string `json:"available,omitempty"`
	// Current is the version installed now ("" when not known).
	Current string `json:"current,omitempty"`
}

// String puts the drift on one line: "1 new (curl 8.1); 1 changed (openssl
// planned 3.0.2, now 3.0.1 → 3.0.3)".
func (d *PlanDrift) String() string {
	var parts []string
	list := func(what string, us []DriftUpdate, f func(DriftUpdate) string) {
		if len(us) == 0 {
			return
		}
		names := make([]string, 0, len(us))
		for _, u := range us {
			names = append(names, f(u))
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", len(us), what, strings.Join(names, ", ")))
	}
	list("new", d.New, func(u DriftUpdate) string { return strings.TrimSpace(u.Name + " " + u.Available) })
	list("gone", d.Gone, func(u DriftUpdate) string { return strings.TrimSpace(u.Name + " " + u.Planned) })
	list("changed", d.Changed, func(u DriftUpdate) string {
		cur := u.Current
		if cur == "" {
			cur = "-"
		}
		return fmt.Sprintf("%s planned %s, now %s → %s", u.Name, u.Planned, cur, u.Available)
	})
	return strings.Join(parts, "; ")
}
