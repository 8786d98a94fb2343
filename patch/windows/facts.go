package windows

import (
	"context"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// Reasons named in Facts.RebootReasons and RebootRequired, one per signal.
const (
	ReasonWURebootRequired  = `WindowsUpdate\Auto Update\RebootRequired`
	ReasonCBSRebootPending  = `Component Based Servicing\RebootPending`
	ReasonUpdateExeVolatile = `Updates\UpdateExeVolatile`
	// ReasonPendingFileRename is a soft signal: many installers leave it set
	// and it alone does not make RebootRequired true.
	ReasonPendingFileRename = `PendingFileRenameOperations (soft)`
)

// FactsReport is the facts script's result.
type FactsReport struct {
	Hostname          string `json:"hostname"`
	Caption           string `json:"caption"`
	Version           string `json:"version"`
	Build             string `json:"build"`
	PSVersion         string `json:"ps_version"`
	IsAdmin           bool   `json:"is_admin"`
	User              string `json:"user"`
	LastBoot          string `json:"last_boot"`
	WURebootRequired  bool   `json:"wu_reboot_required"`
	CBSRebootPending  bool   `json:"cbs_reboot_pending"`
	PendingFileRename bool   `json:"pending_file_rename"`
	UpdateExeVolatile bool   `json:"update_exe_volatile"`
	Arch              string `json:"arch"`           // PROCESSOR_ARCHITECTURE: AMD64, ARM64
	UptimeSeconds     int64  `json:"uptime_seconds"` // since LastBootUpTime, by the host's clock
	// LastHotfix is the newest Get-HotFix InstalledOn, "yyyy-MM-dd" (a
	// date: Windows keeps no time of day for it); empty if none.
	LastHotfix   string `json:"last_hotfix"`
	LastHotfixID string `json:"last_hotfix_id"`
	// Addresses are "address/subnet" pairs of IP-enabled adapters: an
	// IPv4 dotted mask ("10.0.0.5/255.255.255.0") or an IPv6 prefix length.
	Addresses []string `json:"addresses"`
}

// rebootSignals returns whether a hard signal is set, and every set
// signal's name (soft ones included, marked as such).
func (r FactsReport) rebootSignals() (bool, []string) {
	var reasons []string
	hard := false
	for _, s := range []struct {
		set  bool
		name string
		hard bool
	}{
		{r.WURebootRequired, ReasonWURebootRequired, true},
		{r.CBSRebootPending, ReasonCBSRebootPending, true},
		{r.UpdateExeVolatile, ReasonUpdateExeVolatile, true},
		{r.PendingFileRename, ReasonPendingFileRename, false},
	} {
		if s.set {
			reasons = append(reasons, s.name)
			hard = hard || s.hard
		}
	}
	return hard, reasons
}

// toFacts maps the report to patch.Facts.
func (r FactsReport) toFacts() patch.Facts {
	required, reasons := r.rebootSignals()
	f := patch.Facts{
		OS:             strings.TrimSpace(r.Caption + " " + r.Build),
		Family:         "windows",
		Kernel:         r.Version,
		PackageManager: Name,
		BootID:         r.LastBoot,
		RebootRequired: required,
		RebootReasons:  reasons,
	}
	if t, err := time.Parse(time.RFC3339Nano, r.LastBoot); err == nil {
		f.LastBoot = t
	}
	f.OSName, f.OSVersion, f.Arch = r.Caption, r.Version, r.Arch
	if r.UptimeSeconds > 0 {
		f.Uptime = time.Duration(r.UptimeSeconds) * time.Second
	}
	if t, err := time.Parse(time.DateOnly, r.LastHotfix); err == nil {
		f.LastUpdated = t
	}
	f.Addresses = adapterAddresses(r.Addresses)
	return f
}

// adapterAddresses turns "address/subnet" pairs into CIDR form, leaving
// out loopback, link-local and unreadable ones.
func adapterAddresses(pairs []string) []string {
	var out []string
	for _, p := range pairs {
		ip, subnet, _ := strings.Cut(p, "/")
		a, err := netip.ParseAddr(ip)
		if err != nil || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
			continue
		}
		plen := -1
		if n, err := strconv.Atoi(subnet); err == nil && n >= 0 && n <= a.BitLen() {
			plen = n
		} else if m, err := netip.ParseAddr(subnet); err == nil && m.Is4() && a.Is4() {
			plen = maskBits(m.As4())
		}
		if plen < 0 {
			out = append(out, a.String())
			continue
		}
		out = append(out, netip.PrefixFrom(a, plen).String())
	}
	return out
}

// maskBits is a contiguous IPv4 mask's prefix length, -1 if not contiguous.
func maskBits(m [4]byte) int {
	n := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	ones := bits.OnesCount32(n)
	if n != ^uint32(0)<<(32-ones) && ones != 0 {
		return -1
	}
	return ones
}

// Facts implements patch.Backend. An account without an administrator
// token fails here, with the hint, before any scan.
func (b *Backend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	var r FactsReport
	if err := runScript(ctx, t, ScriptFacts, nil, &r); err != nil {
		return patch.Facts{}, err // names facts.ps1; the runner names the step
	}
	if !r.IsAdmin {
		return patch.Facts{}, fmt.Errorf("%s is not an administrator in this session: %w: %s\n%s",
			r.User, patch.ErrCommandFailed, hresultText(hresultAccessDenied), hintAccessDenied)
	}
	if r.LastBoot == "" {
		return patch.Facts{}, fmt.Errorf("facts.ps1: %w: no LastBootUpTime", patch.ErrCommandFailed)
	}
	return r.toFacts(), nil
}

// RebootRequired implements patch.Backend from the same signals as Facts.
func (b *Backend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	var r FactsReport
	if err := runScript(ctx, t, ScriptFacts, nil, &r); err != nil {
		return false, nil, fmt.Errorf("reboot signals: %w", err)
	}
	required, reasons := r.rebootSignals()
	return required, reasons, nil
}

// BootID implements patch.Backend: LastBootUpTime, as the exact UTC string
// the host reports.
func (b *Backend) BootID(ctx context.Context, t transport.Transport) (string, error) {
	var r struct {
		LastBoot string `json:"last_boot"`
	}
	if err := runScript(ctx, t, ScriptBootID, nil, &r); err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	if r.LastBoot == "" {
		return "", fmt.Errorf("boot id: %w: empty LastBootUpTime", patch.ErrCommandFailed)
	}
	return r.LastBoot, nil
}
