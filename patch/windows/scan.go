package windows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// InstallationBehavior.RebootBehavior values.
const (
	RebootNeverRequires  = 0
	RebootAlwaysRequires = 1
	RebootCanRequest     = 2
)

// ScanUpdate is one update as the scan script reports it.
type ScanUpdate struct {
	ID              string     `json:"id"`
	Title           string     `json:"title"`
	KBs             stringList `json:"kbs"`
	Severity        string     `json:"severity"`
	Categories      stringList `json:"categories"`
	BrowseOnly      bool       `json:"browse_only"`
	MaxDownloadSize float64    `json:"max_download_size"`
	RebootBehavior  int        `json:"reboot_behavior"`
	// CVEs is IUpdate.CveIDs; LastChange is LastDeploymentChangeTime (when
	// Microsoft last published the update), RFC 3339 in UTC.
	CVEs       stringList `json:"cves"`
	LastChange string     `json:"last_change"`
}

// ScanReport is the scan script's result.
type ScanReport struct {
	Updates []ScanUpdate `json:"updates"`
}

// stringList accepts what ConvertTo-Json makes of a PowerShell array: a
// JSON array, a bare string (a one-element array unrolled), or null.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = nil
		if one != "" {
			*l = stringList{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// securityCategory is the Windows Update classification of security fixes.
const securityCategory = "Security Updates"

// toUpdate maps one scanned update to patch.Update.
func (u ScanUpdate) toUpdate() patch.Update {
	out := patch.Update{
		Name:           u.Title,
		ID:             u.ID,
		VendorSeverity: u.Severity,
		Categories:     []string(u.Categories),
		Optional:       u.BrowseOnly,
		SizeBytes:      int64(u.MaxDownloadSize),
		RebootRequired: u.RebootBehavior != RebootNeverRequires,
		Security:       u.Severity != "",
	}
	if u.Severity != "" {
		out.Severity = patch.NormalizeSeverity(u.Severity)
	}
	for _, c := range u.Categories {
		if strings.EqualFold(c, securityCategory) {
			out.Security = true
		}
	}
	if len(u.KBs) > 0 {
		kb := strings.TrimSpace(u.KBs[0])
		if !strings.HasPrefix(strings.ToUpper(kb), "KB") {
			kb = "KB" + kb
		}
		out.KB = kb
		out.Advisory = kb
	}
	out.CVEs = patch.NormalizeCVEs(u.CVEs)
	if t, err := time.Parse(time.RFC3339, u.LastChange); err == nil && t.Year() > 1970 {
		t = t.UTC()
		out.Issued = &t
	}
	return out
}

// ParseScan decodes the scan script's framed JSON into updates.
func ParseScan(payload []byte) ([]patch.Update, error) {
	var r ScanReport
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("scan result: %w", err)
	}
	return r.toUpdates(), nil
}

func (r ScanReport) toUpdates() []patch.Update {
	out := make([]patch.Update, 0, len(r.Updates))
	for _, u := range r.Updates {
		out = append(out, u.toUpdate())
	}
	return out
}

// Scan implements patch.Backend with the Windows Update Agent searcher
// (IsInstalled=0 and Type='Software' and IsHidden=0).
func (b *Backend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	var r ScanReport
	if err := runScript(ctx, t, ScriptScan, nil, &r); err != nil {
		return nil, err // names scan.ps1; the runner names the step
	}
	return r.toUpdates(), nil
}
