package advisory

import (
	"sort"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// Sources is the risk data given to a run: OSV records, the
// known-exploited list and EPSS scores, each optional. Loaded once before
// the run; read-only afterwards, so safe for concurrent use.
type Sources struct {
	osv  *osvDB
	kev  map[string]string  // CVE → due date
	epss map[string]float64 // CVE → score
}

// LoadOSV reads OSV records from paths (directories, zips, .json files).
func (s *Sources) LoadOSV(paths []string) error {
	db, err := loadOSV(paths)
	if err == nil {
		s.osv = db
	}
	return err
}

// LoadKEV reads CISA's known-exploited JSON feed.
func (s *Sources) LoadKEV(path string) error {
	m, err := loadKEV(path)
	if err == nil {
		s.kev = m
	}
	return err
}

// LoadEPSS reads FIRST's EPSS CSV.
func (s *Sources) LoadEPSS(path string) error {
	m, err := loadEPSS(path)
	if err == nil {
		s.epss = m
	}
	return err
}

// Records is how many OSV records apply to a supported ecosystem.
func (s *Sources) Records() int {
	if s.osv == nil {
		return 0
	}
	return s.osv.records
}

// WantsPackages: matching advisories needs the installed packages of a
// host whose release the OSV records cover.
func (s *Sources) WantsPackages(f patch.Facts) bool {
	if s.osv == nil {
		return false
	}
	eco, ok := hostEcosystem(f)
	return ok && s.osv.pkgs[eco] != nil
}

// Enrich fills the risk fields of a host's pending updates and returns its
// installed packages that advisories say are vulnerable with no pending
// update of the same name or the same source package. An update gets the CVEs, advisory, severity and
// issue date of every record its installed version is affected by and its
// available version is not (matched by its own name and by its source
// package's); fields the host's own tools already filled are kept, CVEs are
// merged. Then every update's CVEs are looked up in the known-exploited
// list and the EPSS scores.
func (s *Sources) Enrich(f patch.Facts, installed []patch.Package, updates []patch.Update) ([]patch.Update, []patch.Vulnerable) {
	byName := map[string]patch.Package{}
	for _, p := range installed {
		if _, dup := byName[p.Name]; !dup {
			byName[p.Name] = p
		}
	}
	eco, known := hostEcosystem(f)
	var pkgs map[string][]*entry
	if s.osv != nil && known {
		pkgs = s.osv.pkgs[eco]
	}
	cmp := compareFor(eco.distro)
	out := make([]patch.Update, len(updates))
	pending := map[string]bool{}
	for i, u := range updates {
		pending[u.Name] = true
		p, ok := byName[u.Name]
		if ok && p.Source != "" && p.Source != u.Name && u.Source == "" {
			u.Source = p.Source
		}
		for _, k := range sourceKeys(u.Source) {
			pending["source:"+k] = true
		}
		if u.Current != "" && pkgs != nil {
			var fixes []*vuln
			for _, m := range matches(pkgs, u.Name, u.Source, u.Current, p.SourceVersion) {
				if m.e.affects(m.version, cmp) && !m.e.affects(u.Available, cmp) {
					fixes = append(fixes, m.e.v)
				}
			}
			applyVulns(&u, fixes)
		}
		s.applyLists(&u.CVEs, &u.KnownExploited, &u.KEVDue, &u.EPSS)
		out[i] = u
	}
	var vulnerable []patch.Vulnerable
	if pkgs == nil {
		return out, nil
	}
	for _, p := range installed {
		// A package with an update pending, or built from a source that
		// has one (an old kernel image beside the new one, whose update
		// may be a metapackage's), is not "without an update".
		covered := pending[p.Name]
		for _, k := range sourceKeys(p.Source) {
			covered = covered || pending["source:"+k]
		}
		if covered {
			continue
		}
		src := p.Source
		if src == p.Name {
			src = ""
		}
		var hit []*vuln
		for _, m := range matches(pkgs, p.Name, src, p.Version, p.SourceVersion) {
			if m.e.affects(m.version, cmp) {
				hit = append(hit, m.e.v)
			}
		}
		if len(hit) == 0 {
			continue
		}
		var u patch.Update
		applyVulns(&u, hit)
		v := patch.Vulnerable{Name: p.Name, Version: p.Version, Source: src, CVEs: u.CVEs,
			Severity: u.Severity, VendorSeverity: u.VendorSeverity}
		for _, x := range hit {
			if x.advisory {
				v.Advisories = append(v.Advisories, x.id)
			}
		}
		v.Advisories = sortedUnique(v.Advisories)
		s.applyLists(&v.CVEs, &v.KnownExploited, &v.KEVDue, &v.EPSS)
		vulnerable = append(vulnerable, v)
	}
	return out, vulnerable
}

type match struct {
	e       *entry
	version string // the installed version to test against e
}

// matches are the entries for a package by its own name, then by its
// source package's name (tested with the source's version when known).
func matches(pkgs map[string][]*entry, name, source, version, sourceVersion string) []match {
	var out []match
	for _, e := range pkgs[name] {
		out = append(out, match{e, version})
	}
	if source == "" || source == name {
		return out
	}
	v := version
	if sourceVersion != "" {
		v = sourceVersion
	}
	for _, e := range pkgs[source] {
		out = append(out, match{e, v})
	}
	if keys := sourceKeys(source); len(keys) > 1 {
		for _, e := range pkgs[keys[1]] {
			out = append(out, match{e, version}) // the kernel's version is the binary's
		}
	}
	return out
}

// sourceKeys are the names advisories may use for a source package: the
// name itself, and for Debian's and Ubuntu's signed kernel images and
// kernel metapackages (built from sources of their own) the kernel's
// source, "linux".
func sourceKeys(source string) []string {
	switch {
	case source == "":
		return nil
	case strings.HasPrefix(source, "linux-signed") || strings.HasPrefix(source, "linux-meta"):
		return []string{source, "linux"}
	}
	return []string{source}
}

// applyVulns merges records into an update's risk fields: CVEs are
// merged; advisory, severity and issue date are filled only when empty
// (the newest advisory, the highest severity, the newest advisory's date).
func applyVulns(u *patch.Update, vs []*vuln) {
	if len(vs) == 0 {
		return
	}
	cves := append([]string(nil), u.CVEs...)
	var adv *vuln
	sev, vendor := "", ""
	var issued *time.Time
	for _, v := range vs {
		cves = append(cves, v.cves...)
		if v.advisory && (adv == nil || newer(v.issued, adv.issued) || (!newer(adv.issued, v.issued) && v.id < adv.id)) {
			adv = v
		}
		if v.severity != "" && (sev == "" || patch.SeverityRank(v.severity) > patch.SeverityRank(sev)) {
			sev, vendor = v.severity, v.vendor
		}
		// A CVE record's date is the CVE's, not the fix's: only advisories
		// date an update.
		if v.advisory && newer(v.issued, issued) {
			issued = v.issued
		}
	}
	u.CVEs = sortedUnique(cves)
	if u.Advisory == "" && adv != nil {
		u.Advisory = adv.id
	}
	if u.Severity == "" && sev != "" {
		u.Severity, u.VendorSeverity = sev, vendor
	}
	if u.Issued == nil && issued != nil {
		t := *issued
		u.Issued = &t
	}
}

// applyLists sets the known-exploited flag (the earliest due date among
// the CVEs) and the highest EPSS score.
func (s *Sources) applyLists(cves *[]string, kev *bool, due *string, epss *float64) {
	for _, c := range *cves {
		if d, ok := s.kev[c]; ok {
			if !*kev || (d != "" && (*due == "" || d < *due)) {
				*due = d
			}
			*kev = true
		}
		if e, ok := s.epss[c]; ok && e > *epss {
			*epss = e
		}
	}
}

func newer(a, b *time.Time) bool {
	return a != nil && (b == nil || a.After(*b))
}

func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	sort.Strings(in)
	out := in[:1]
	for _, s := range in[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}
