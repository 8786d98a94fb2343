package report

import (
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// Facts is what a run learned about a host before it scanned, patched or
// rebooted it: its OS, boot, pending-reboot state, when it was last
// updated and its addresses. Times are UTC. Every string came from the
// host: bounded here, to be escaped before it reaches a terminal.
type Facts struct {
	OSName         string `json:"os_name,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	Family         string `json:"family,omitempty"`
	Kernel         string `json:"kernel,omitempty"`
	Arch           string `json:"arch,omitempty"`
	PackageManager string `json:"package_manager,omitempty"`
	// LastBoot is when the host last booted; absent if unknown.
	LastBoot time.Time `json:"last_boot,omitzero"`
	// UptimeSeconds is how long the host had been up at GatheredAt.
	UptimeSeconds  int64    `json:"uptime_seconds,omitempty"`
	RebootRequired bool     `json:"reboot_required"`
	RebootReasons  []string `json:"reboot_reasons,omitempty"`
	// LastUpdated is when packages or updates were last installed on the
	// host, by its own records; absent if unknown.
	LastUpdated time.Time `json:"last_updated,omitzero"`
	// Addresses are the host's global IP addresses in CIDR form.
	Addresses []string `json:"addresses,omitempty"`
	// GatheredAt is when the facts were read.
	GatheredAt time.Time `json:"gathered_at"`
}

// Bounds on remote text kept in Facts.
const (
	maxFactText      = 200
	maxFactReasons   = 16
	maxFactAddresses = 32
)

// NewFacts shapes a backend's facts for the report, read at gatheredAt.
func NewFacts(f patch.Facts, gatheredAt time.Time) *Facts {
	out := &Facts{
		OSName:         bound(f.OSName),
		OSVersion:      bound(f.OSVersion),
		Family:         bound(f.Family),
		Kernel:         bound(f.Kernel),
		Arch:           bound(f.Arch),
		PackageManager: bound(f.PackageManager),
		UptimeSeconds:  int64(f.Uptime / time.Second),
		RebootRequired: f.RebootRequired,
		RebootReasons:  boundList(f.RebootReasons, maxFactReasons),
		Addresses:      boundList(f.Addresses, maxFactAddresses),
		GatheredAt:     gatheredAt.UTC(),
	}
	if out.UptimeSeconds < 0 {
		out.UptimeSeconds = 0
	}
	if !f.LastBoot.IsZero() {
		out.LastBoot = f.LastBoot.UTC().Truncate(time.Second)
	}
	if !f.LastUpdated.IsZero() {
		out.LastUpdated = f.LastUpdated.UTC().Truncate(time.Second)
	}
	return out
}

// bound cuts s to maxFactText bytes at a rune boundary. It copies: a fact
// is often a slice of a host's whole command output, which a finished
// host's compact result must not keep alive.
func bound(s string) string {
	if len(s) <= maxFactText {
		return strings.Clone(s)
	}
	i := maxFactText
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

func boundList(l []string, max int) []string {
	if len(l) == 0 {
		return nil
	}
	if len(l) > max {
		l = l[:max]
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = bound(s)
	}
	return out
}
