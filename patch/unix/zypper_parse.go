package unix

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// zypperStream is the part of zypper's --xmlout <stream> we read.
type zypperStream struct {
	Updates []zypperUpdate `xml:"update-status>update-list>update"`
}

type zypperUpdate struct {
	Kind      string `xml:"kind,attr"`
	Status    string `xml:"status,attr"`   // patches: needed, optional, applied, not-needed
	Category  string `xml:"category,attr"` // patches: security, recommended, bugfix, …
	Severity  string `xml:"severity,attr"` // patches: critical, important, …
	IssueDate struct {
		TimeT int64 `xml:"time_t,attr"`
	} `xml:"issue-date"`
	Issues []struct {
		Type string `xml:"type,attr"`
		ID   string `xml:"id,attr"`
	} `xml:"issue-list>issue"`
	Name       string `xml:"name,attr"`
	Edition    string `xml:"edition,attr"`
	EditionOld string `xml:"edition-old,attr"`
	Arch       string `xml:"arch,attr"`
	Source     struct {
		Alias string `xml:"alias,attr"`
	} `xml:"source"`
}

func decodeZypper(out string) (zypperStream, error) {
	var s zypperStream
	if err := xml.Unmarshal([]byte(out), &s); err != nil {
		return s, fmt.Errorf("zypper xml: %w", err)
	}
	return s, nil
}

// parseZypperListUpdates reads `zypper --xmlout list-updates`: package
// updates with the new (edition) and installed (edition-old) versions.
func parseZypperListUpdates(out string) ([]patch.Update, error) {
	s, err := decodeZypper(out)
	if err != nil {
		return nil, err
	}
	var ups []patch.Update
	for _, u := range s.Updates {
		if u.Kind != "" && u.Kind != "package" {
			continue
		}
		ups = append(ups, patch.Update{
			Name: u.Name, Current: u.EditionOld, Available: u.Edition, Arch: u.Arch,
			Repo: u.Source.Alias, RebootRequired: needsReboot(u.Name),
		})
	}
	return ups, nil
}

// parseZypperPatches reads `zypper --xmlout list-patches`: the patches
// still to apply (status needed or optional) with their category,
// severity, CVE references and date. It names no packages: those come
// from parseZypperPatchInfo.
func parseZypperPatches(out string) ([]advisory, error) {
	s, err := decodeZypper(out)
	if err != nil {
		return nil, err
	}
	var pts []advisory
	for _, u := range s.Updates {
		if u.Kind != "patch" || (u.Status != "needed" && u.Status != "optional") {
			continue
		}
		a := advisory{ID: u.Name, Type: strings.ToLower(u.Category), Severity: vendorWord(u.Severity)}
		if u.IssueDate.TimeT > 0 {
			a.Issued = time.Unix(u.IssueDate.TimeT, 0).UTC()
		}
		for _, is := range u.Issues {
			if strings.EqualFold(is.Type, "cve") {
				a.CVEs = append(a.CVEs, is.ID)
			}
		}
		pts = append(pts, a)
	}
	return pts, nil
}

// parseZypperPatchInfo reads `zypper info -t patch NAME…`: for each
// "Information for patch NAME:" block, the packages under "Conflicts : [N]"
// ("labcurl.x86_64 < 1.1-1", one indented row each; a single one on the
// header line, without arch), which are the packages the patch upgrades. Returns patch name → "name.arch" keys.
func parseZypperPatchInfo(out string) map[string][]string {
	pkgs := map[string][]string{}
	current, inConflicts := "", false
	for _, raw := range strings.Split(out, "\n") {
		line := strings.TrimRight(raw, "\r")
		if rest, ok := strings.CutPrefix(line, "Information for patch "); ok {
			current, inConflicts = strings.TrimSuffix(strings.TrimSpace(rest), ":"), false
			continue
		}
		if current == "" {
			continue
		}
		if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			key, value, _ := strings.Cut(line, ":")
			inConflicts = strings.TrimSpace(key) == "Conflicts"
			// One conflict is printed on the header line itself
			// ("Conflicts   : labtool < 1.1-1"), several as "[N]" and rows.
			if f := strings.Fields(value); inConflicts && len(f) > 0 && !strings.HasPrefix(f[0], "[") {
				pkgs[current] = append(pkgs[current], f[0])
			}
			continue
		}
		if f := strings.Fields(line); inConflicts && len(f) > 0 {
			pkgs[current] = append(pkgs[current], f[0])
		}
	}
	return pkgs
}

// zypperAdvisories joins patches and their packages into "name.arch" →
// advisories for applyAdvisories.
func zypperAdvisories(patches []advisory, pkgs map[string][]string) map[string][]advisory {
	by := map[string][]advisory{}
	for _, a := range patches {
		for _, key := range pkgs[a.ID] {
			by[key] = append(by[key], a)
		}
	}
	return by
}
