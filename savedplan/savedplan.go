// Package savedplan is the file `scan --save-plan` writes and `patch
// --plan` reads: per host, the exact updates a scan selected (name, arch,
// installed and target version, Windows update id and KB), the selection
// that picked them and what else was pending then, so a later patch run
// installs those versions and nothing newer, and can say what changed on
// a host since.
package savedplan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/patchrun/patchrun/internal/atomicfile"
	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// FormatVersion is the version of the file's layout, written as "format".
// A reader refuses a file of a newer format instead of guessing.
const FormatVersion = 1

// DefaultMaxAge is how old a plan `patch --plan` accepts by default.
const DefaultMaxAge = 7 * 24 * time.Hour

// maxFileBytes bounds a plan file read (a 5,000-host plan is a few MB).
const maxFileBytes = 256 << 20

// clockSkew is how far in the future a plan's creation time may lie (the
// machine that wrote it may run a little ahead) before it is refused.
const clockSkew = 5 * time.Minute

// Plan is one saved plan.
type Plan struct {
	Format    int       `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// Inventory is the absolute path of the inventory the scan read.
	Inventory string `json:"inventory"`
	// Limit is the --limit the scan ran with ("" = every host).
	Limit     string    `json:"limit,omitempty"`
	Selection Selection `json:"selection"`
	// Hosts are the hosts scanned ok, in the scan's order.
	Hosts []Host `json:"hosts"`
	// LeftOut are the hosts the scan did not finish, with why: a patch
	// with this plan skips them.
	LeftOut []LeftOut `json:"left_out,omitempty"`
}

// Selection is the selection flags of the scan that made the plan.
type Selection struct {
	SecurityOnly    bool     `json:"security_only"`
	Include         []string `json:"include,omitempty"`
	Exclude         []string `json:"exclude,omitempty"`
	IncludeOptional bool     `json:"include_optional"`
	// The risk policy (patch.Selection): --min-severity, --cve,
	// --known-exploited, --min-age (in seconds; evaluated when the plan
	// is made).
	MinSeverity    string   `json:"min_severity,omitempty"`
	CVEs           []string `json:"cves,omitempty"`
	KnownExploited bool     `json:"known_exploited,omitempty"`
	MinAgeSeconds  int64    `json:"min_age_seconds,omitempty"`
}

// Host is one host's planned updates.
type Host struct {
	Name           string `json:"name"`
	OS             string `json:"os,omitempty"`
	PackageManager string `json:"package_manager,omitempty"`
	// Updates are the updates to install, each at its Target version.
	Updates []Update `json:"updates"`
	// NotSelected are the updates pending at scan time that the selection
	// left alone: a later run tells them apart from updates new since.
	NotSelected []Update `json:"not_selected,omitempty"`
}

// Update is one planned update. Linux packages are named by Name and Arch
// and installed at Target; Windows updates by ID (KB for people).
type Update struct {
	Name     string `json:"name"`
	Arch     string `json:"arch,omitempty"`
	Current  string `json:"current,omitempty"`
	Target   string `json:"target,omitempty"`
	ID       string `json:"id,omitempty"`
	KB       string `json:"kb,omitempty"`
	Security bool   `json:"security,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// LeftOut is a host the scan did not finish.
type LeftOut struct {
	Name   string        `json:"name"`
	Status report.Status `json:"status"`
	Reason string        `json:"reason"`
}

// PatchSelection is the selection as patch.Selection.
func (s Selection) PatchSelection() patch.Selection {
	return patch.Selection{SecurityOnly: s.SecurityOnly, Include: s.Include, Exclude: s.Exclude, SkipOptional: !s.IncludeOptional,
		MinSeverity: s.MinSeverity, CVEs: s.CVEs, KnownExploited: s.KnownExploited, MinAge: time.Duration(s.MinAgeSeconds) * time.Second}
}

// Build makes a plan from a finished scan: every host scanned ok gets the
// updates sel picks; the others are left out with their status and error.
func Build(r report.Report, sel Selection, inventory, limit string, now time.Time) Plan {
	p := Plan{Format: FormatVersion, CreatedAt: now.UTC(), Inventory: inventory, Limit: limit, Selection: sel, Hosts: []Host{}}
	ps := sel.PatchSelection()
	for _, h := range r.Hosts {
		if h.Status != report.StatusOK {
			reason := h.Error
			if reason == "" {
				reason = "not scanned"
			}
			p.LeftOut = append(p.LeftOut, LeftOut{Name: h.Name, Status: h.Status, Reason: reason})
			continue
		}
		ph := Host{Name: h.Name, OS: h.OS, PackageManager: h.PackageManager, Updates: []Update{}}
		for _, u := range h.Updates {
			if ps.Match(u.Update) {
				ph.Updates = append(ph.Updates, fromPatch(u.Update))
			} else {
				ph.NotSelected = append(ph.NotSelected, fromPatch(u.Update))
			}
		}
		p.Hosts = append(p.Hosts, ph)
	}
	return p
}

func fromPatch(u patch.Update) Update {
	return Update{Name: u.Name, Arch: u.Arch, Current: u.Current, Target: u.Available, ID: u.ID, KB: u.KB, Security: u.Security, Optional: u.Optional}
}

// Patch is u as the patch.Update a backend installs: Available is the
// planned target version.
func (u Update) Patch() patch.Update {
	return patch.Update{Name: u.Name, Arch: u.Arch, Current: u.Current, Available: u.Target, ID: u.ID, KB: u.KB, Security: u.Security, Optional: u.Optional}
}

// patchAll converts a list.
func patchAll(us []Update) []patch.Update {
	out := make([]patch.Update, 0, len(us))
	for _, u := range us {
		out = append(out, u.Patch())
	}
	return out
}

// Planned returns the host's planned updates and the rest that was pending
// at scan time, as patch.Updates.
func (h Host) Planned() (selected, notSelected []patch.Update) {
	return patchAll(h.Updates), patchAll(h.NotSelected)
}

// Host finds a host of the plan by name.
func (p Plan) Host(name string) (Host, bool) {
	for _, h := range p.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// Write saves the plan to path, readable by its owner only (0600), and
// atomically: a temporary file in the same directory, synced, then renamed
// over path, so a reader never sees half a plan.
func (p Plan) Write(path string) (err error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	return nil
}

// ErrBadPlan marks a plan file that cannot be used (unreadable, corrupt,
// of a newer format, too old, or for other hosts).
var ErrBadPlan = errors.New("plan refused")

// Read loads and checks the shape of a plan file.
func Read(path string) (Plan, error) {
	data, err := fsread.ReadFile(path, maxFileBytes)
	if err != nil {
		return Plan{}, fmt.Errorf("%w: --plan %s: %v", ErrBadPlan, path, err)
	}
	var p Plan
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var probe struct {
			Format int `json:"format"`
		}
		if json.Unmarshal(data, &probe) == nil && probe.Format > FormatVersion {
			return Plan{}, newerFormat(path, probe.Format)
		}
		return Plan{}, fmt.Errorf("%w: --plan %s is not a plan file patchrun can read: %v (hint: write a new one with patchrun scan --save-plan)", ErrBadPlan, path, err)
	}
	switch {
	case p.Format > FormatVersion:
		return Plan{}, newerFormat(path, p.Format)
	case p.Format < 1:
		return Plan{}, fmt.Errorf("%w: --plan %s has no format version: not a plan file written by patchrun scan --save-plan", ErrBadPlan, path)
	case p.CreatedAt.IsZero():
		return Plan{}, fmt.Errorf("%w: --plan %s has no creation time", ErrBadPlan, path)
	}
	seen := map[string]bool{}
	for _, h := range p.Hosts {
		if h.Name == "" || seen[h.Name] {
			return Plan{}, fmt.Errorf("%w: --plan %s: host %q is empty or listed twice", ErrBadPlan, path, h.Name)
		}
		seen[h.Name] = true
		for _, u := range h.Updates {
			if u.Name == "" || (u.ID == "" && u.Target == "") {
				return Plan{}, fmt.Errorf("%w: --plan %s: host %s has an update with no name, or neither a target version nor an update id", ErrBadPlan, path, h.Name)
			}
		}
	}
	return p, nil
}

func newerFormat(path string, v int) error {
	return fmt.Errorf("%w: --plan %s has format %d; this patchrun reads format %d at most (hint: use the patchrun that wrote it, or a newer one)", ErrBadPlan, path, v, FormatVersion)
}

// FormatAge writes an age as --plan-max-age takes it: whole days as "7d",
// anything else as a Go duration ("36h0m0s").
func FormatAge(d time.Duration) string { return patch.FormatAge(d) }

// Check refuses a plan that is older than maxAge (or written in the
// future), or that names hosts the inventory does not have.
func (p Plan) Check(now time.Time, maxAge time.Duration, inventoryHosts []string) error {
	age := now.Sub(p.CreatedAt)
	switch {
	case age < -clockSkew:
		return fmt.Errorf("%w: it was created at %s, in the future (check this machine's clock)", ErrBadPlan, p.CreatedAt.Format(time.RFC3339))
	case age > maxAge:
		return fmt.Errorf("%w: it was created %s ago (%s), more than --plan-max-age %s (hint: scan again with --save-plan, or raise --plan-max-age)",
			ErrBadPlan, FormatAge(age.Round(time.Minute)), p.CreatedAt.Format(time.RFC3339), FormatAge(maxAge))
	}
	known := map[string]bool{}
	for _, n := range inventoryHosts {
		known[n] = true
	}
	var missing []string
	for _, h := range p.Hosts {
		if !known[h.Name] {
			missing = append(missing, h.Name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("%w: it names hosts the inventory does not have: %s (hint: use the inventory the plan was made from, %s)",
			ErrBadPlan, strings.Join(missing, ", "), p.Inventory)
	}
	return nil
}
