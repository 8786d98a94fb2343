package unix

import (
	"encoding/xml"
	"fmt"

	"github.com/patchrun/patchrun/patch"
)

// zypperStream is the part of zypper's --xmlout <stream> we read.
type zypperStream struct {
	Updates  []zypperUpdate   `xml:"update-status>update-list>update"`
	Upgrades []zypperSolvable `xml:"install-summary>to-upgrade>solvable"`
}

type zypperUpdate struct {
	Kind       string `xml:"kind,attr"`
	Name       string `xml:"name,attr"`
	Edition    string `xml:"edition,attr"`
	EditionOld string `xml:"edition-old,attr"`
	Arch       string `xml:"arch,attr"`
	Source     struct {
		Alias string `xml:"alias,attr"`
	} `xml:"source"`
}

type zypperSolvable struct {
	Type string `xml:"type,attr"`
	Name string `xml:"name,attr"`
	Arch string `xml:"arch,attr"`
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

// parseZypperSecurityDryRun reads `zypper --xmlout patch --category
// security --dry-run` and returns the "name.arch" keys of the packages the
// security patches would upgrade.
func parseZypperSecurityDryRun(out string) (map[string]bool, error) {
	s, err := decodeZypper(out)
	if err != nil {
		return nil, err
	}
	sec := map[string]bool{}
	for _, p := range s.Upgrades {
		if p.Type == "" || p.Type == "package" {
			sec[p.Name+"."+p.Arch] = true
		}
	}
	return sec, nil
}
