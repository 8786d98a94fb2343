package advisory

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/patch"
)

// maxRecordSize caps one OSV record (a file, or a zip entry); real ones are
// a few KiB, the largest (a kernel advisory listing every binary) well
// under 1 MiB.
const maxRecordSize = 16 << 20

// osvRecord is the part of an OSV record (osv.dev's schema) patchrun uses.
type osvRecord struct {
	ID               string          `json:"id"`
	Aliases          []string        `json:"aliases"`
	Upstream         []string        `json:"upstream"`
	Related          []string        `json:"related"`
	Published        string          `json:"published"`
	Withdrawn        string          `json:"withdrawn"`
	Severity         []osvSeverity   `json:"severity"`
	Affected         []osvAffected   `json:"affected"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges []struct {
		Type   string              `json:"type"`
		Events []map[string]string `json:"events"`
	} `json:"ranges"`
	Versions          []string        `json:"versions"`
	Severity          []osvSeverity   `json:"severity"`
	DatabaseSpecific  json.RawMessage `json:"database_specific"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
}

// vuln is what one record says, shared by its affected entries.
type vuln struct {
	id       string
	advisory bool     // id names an advisory (DSA-…, RLSA-…), not just a CVE
	cves     []string // sorted, unique
	severity string   // normalised; "" when the record has none
	vendor   string   // the record's own word or CVSS score
	issued   *time.Time
}

// event is one point of an affected range.
type event struct {
	kind    string // "introduced", "fixed" or "last_affected"
	version string
}

// entry is one package of one release a record affects.
type entry struct {
	v        *vuln
	ranges   [][]event
	versions []string
}

// osvDB indexes records by release and package name.
type osvDB struct {
	pkgs    map[ecosystem]map[string][]*entry
	records int
}

// Supported names the OSV ecosystems read, for messages and docs.
const Supported = "Debian, Ubuntu, AlmaLinux, Rocky Linux, openSUSE, SUSE and Alpine"

// loadOSV reads OSV records from each path: a directory (searched for
// *.json and *.zip files, hidden ones left out), a zip of *.json (osv.dev's ecosystem export) or
// one .json record. A record that cannot be read is an error naming its
// file; records of other ecosystems are skipped.
func loadOSV(paths []string) (*osvDB, error) {
	db := &osvDB{pkgs: map[ecosystem]map[string][]*entry{}}
	for _, p := range paths {
		if err := db.loadPath(p); err != nil {
			return nil, err
		}
	}
	if db.records == 0 {
		return nil, fmt.Errorf("no OSV records for %s found (download an ecosystem's all.zip from osv.dev's export bucket)", Supported)
	}
	return db, nil
}

func (db *osvDB) loadPath(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return db.loadFile(p)
	}
	n := 0
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Hidden files and directories are skipped: a download in
		// progress under a temporary ".name" is not read half-written.
		if path != p && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".zip")) {
			return nil
		}
		n++
		return db.loadFile(path)
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("%s: no .json or .zip files in this directory", p)
	}
	return err
}

func (db *osvDB) loadFile(p string) error {
	switch {
	case strings.HasSuffix(p, ".zip"):
		return db.loadZip(p)
	case strings.HasSuffix(p, ".json"):
		b, err := fsread.ReadFile(p, maxRecordSize)
		if err != nil {
			return err
		}
		return db.add(p, b)
	}
	return fmt.Errorf("%s: not a directory, a .zip or a .json file", p)
}

func (db *osvDB) loadZip(p string) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		name := p + ": " + f.Name
		if f.UncompressedSize64 > maxRecordSize {
			return fmt.Errorf("%s: larger than %s", name, fsread.HumanSize(maxRecordSize))
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// The header's size (checked above) sizes the buffer; a zip that
		// lies about it is still cut at the cap.
		buf := bytes.NewBuffer(make([]byte, 0, f.UncompressedSize64+1))
		_, err = buf.ReadFrom(io.LimitReader(rc, maxRecordSize+1))
		b := buf.Bytes()
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := db.add(name, b); err != nil {
			return err
		}
	}
	return nil
}

// add indexes one file's record (or array of records).
func (db *osvDB) add(name string, b []byte) error {
	b = bytes.TrimSpace(b)
	var recs []osvRecord
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &recs); err != nil {
			return fmt.Errorf("%s: not OSV JSON: %w", name, err)
		}
	} else {
		var r osvRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: not OSV JSON: %w", name, err)
		}
		recs = []osvRecord{r}
	}
	for _, r := range recs {
		if r.ID == "" {
			return fmt.Errorf("%s: an OSV record has no \"id\"", name)
		}
		if err := db.addRecord(name, r); err != nil {
			return err
		}
	}
	return nil
}

var cveRe = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

func (db *osvDB) addRecord(name string, r osvRecord) error {
	if r.Withdrawn != "" {
		return nil
	}
	v := &vuln{id: r.ID}
	seen := map[string]bool{}
	ids := append(append([]string{r.ID}, r.Aliases...), r.Upstream...)
	if !strings.Contains(r.ID, "CVE-") { // an advisory lists the CVEs it fixes as related
		ids = append(ids, r.Related...)
	}
	for _, s := range ids {
		if c := cveRe.FindString(s); c != "" && !seen[c] {
			seen[c] = true
			v.cves = append(v.cves, c)
		}
	}
	sort.Strings(v.cves)
	v.advisory = !strings.Contains(r.ID, "CVE-")
	if r.Published != "" {
		t, err := time.Parse(time.RFC3339, r.Published)
		if err != nil {
			return fmt.Errorf("%s: %s: bad \"published\" time %q (want RFC 3339)", name, r.ID, r.Published)
		}
		t = t.UTC()
		v.issued = &t
	}
	v.severity, v.vendor = severityOf(r.Severity, r.DatabaseSpecific)
	used := false
	for _, a := range r.Affected {
		eco, ok := osvEcosystem(a.Package.Ecosystem)
		if !ok || a.Package.Name == "" {
			continue
		}
		e := &entry{v: v, versions: a.Versions}
		if v.severity == "" {
			if s, w := severityOf(a.Severity, a.DatabaseSpecific); s != "" {
				ev := *v
				ev.severity, ev.vendor = s, w
				e.v = &ev
			}
		}
		for _, rg := range a.Ranges {
			if rg.Type != "ECOSYSTEM" {
				continue
			}
			var evs []event
			for _, m := range rg.Events {
				for _, k := range []string{"introduced", "fixed", "last_affected"} {
					if x, ok := m[k]; ok {
						evs = append(evs, event{k, x})
					}
				}
			}
			if len(evs) > 0 {
				e.ranges = append(e.ranges, evs)
			}
		}
		if len(e.ranges) == 0 && len(e.versions) == 0 {
			continue
		}
		byName := db.pkgs[eco]
		if byName == nil {
			byName = map[string][]*entry{}
			db.pkgs[eco] = byName
		}
		byName[a.Package.Name] = append(byName[a.Package.Name], e)
		used = true
	}
	if used {
		db.records++
	}
	return nil
}

// severityOf picks the highest severity a record states: a CVSS v3 vector
// (its base score), an "Ubuntu" priority, or database_specific.severity.
// CVSS v2 and v4 vectors are not scored.
func severityOf(list []osvSeverity, dbSpecific json.RawMessage) (norm, vendor string) {
	consider := func(word string) {
		n := patch.NormalizeSeverity(word)
		if norm == "" || patch.SeverityRank(n) > patch.SeverityRank(norm) {
			norm, vendor = n, word
		}
	}
	for _, s := range list {
		switch s.Type {
		case "CVSS_V3":
			if score, err := cvss3BaseScore(s.Score); err == nil {
				consider(strconv.FormatFloat(score, 'f', 1, 64))
			}
		case "Ubuntu":
			consider(s.Score)
		}
	}
	if len(dbSpecific) > 0 {
		var d struct {
			Severity json.RawMessage `json:"severity"`
		}
		var word string
		if json.Unmarshal(dbSpecific, &d) == nil && json.Unmarshal(d.Severity, &word) == nil && word != "" {
			consider(word)
		}
	}
	return norm, vendor
}

// affects says whether version v of the entry's package is affected.
func (e *entry) affects(v string, cmp func(a, b string) int) bool {
	for _, x := range e.versions {
		if cmp(x, v) == 0 {
			return true
		}
	}
	for _, r := range e.ranges {
		if rangeAffects(r, v, cmp) {
			return true
		}
	}
	return false
}

// rangeAffects walks a range's events in version order: v is affected
// after an "introduced" at or below it, until a "fixed" at or below it or a
// "last_affected" below it.
func rangeAffects(events []event, v string, cmp func(a, b string) int) bool {
	sorted := append([]event(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].version, sorted[j].version
		if a == "0" || b == "0" {
			return a == "0" && b != "0"
		}
		return cmp(a, b) < 0
	})
	affected := false
	for _, ev := range sorted {
		switch ev.kind {
		case "introduced":
			if ev.version == "0" || cmp(v, ev.version) >= 0 {
				affected = true
			}
		case "fixed":
			if cmp(v, ev.version) >= 0 {
				affected = false
			}
		case "last_affected":
			if cmp(v, ev.version) > 0 {
				affected = false
			}
		}
	}
	return affected
}
