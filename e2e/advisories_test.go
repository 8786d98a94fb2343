package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Advisory files for the lab's packages, in the formats osv.dev, CISA and
// FIRST publish: labsec's update fixes a known-exploited CVE; labslow has
// an unfixed one.
const (
	labDSA = `{
  "schema_version": "1.7.3",
  "id": "DSA-9901-1",
  "published": "2026-11-20T00:00:00Z",
  "upstream": ["CVE-2026-90001"],
  "summary": "labsec - security update",
  "affected": [{
    "package": {"ecosystem": "Debian:12", "name": "labsec", "purl": "pkg:deb/debian/labsec?arch=source"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]
  }]
}`
	labUnfixed = `{
  "schema_version": "1.7.3",
  "id": "DEBIAN-CVE-2026-90002",
  "published": "2026-11-21T00:00:00Z",
  "upstream": ["CVE-2026-90002"],
  "affected": [{
    "package": {"ecosystem": "Debian:12", "name": "labslow", "purl": "pkg:deb/debian/labslow?arch=source"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
  }]
}`
	labKEV = `{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.22",
  "dateReleased": "2026-11-22T17:00:00.000Z", "count": 1,
  "vulnerabilities": [{"cveID": "CVE-2026-90001", "vendorProject": "Lab", "product": "labsec",
    "vulnerabilityName": "labsec test vulnerability", "dateAdded": "2026-11-22",
    "shortDescription": "A vulnerability for patchrun's lab.", "requiredAction": "Apply updates.",
    "dueDate": "2026-12-13", "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": []}]}`
)

// testScanWithAdvisories: scan --advisories --kev on the real hosts flags
// labsec's pending update with its CVE and the known-exploited due date,
// leaves labconf's alone, and lists labslow as vulnerable with no update.
func testScanWithAdvisories(t *testing.T, l *lab, p patchrun) {
	dir := t.TempDir()
	osv := filepath.Join(dir, "osv")
	if err := os.Mkdir(osv, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		filepath.Join(osv, "DSA-9901-1.json"):            labDSA,
		filepath.Join(osv, "DEBIAN-CVE-2026-90002.json"): labUnfixed,
		filepath.Join(dir, "kev.json"):                   labKEV,
	} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, code := p.run(t, 3*time.Minute, "scan", "--advisories", osv, "--kev", filepath.Join(dir, "kev.json"))
	if code != 0 {
		t.Fatalf("scan exit %d", code)
	}
	for _, lh := range l.hosts {
		h := rep.host(t, lh.name)
		if h.Status != "ok" {
			t.Errorf("%s: %s %s", h.Name, h.Status, h.Error)
			continue
		}
		sec, _ := h.update("labsec")
		if !slices.Equal(sec.CVEs, []string{"CVE-2026-90001"}) || !sec.KnownExploited || sec.KEVDue != "2026-12-13" || sec.Advisory != "DSA-9901-1" {
			t.Errorf("%s: labsec %+v; want DSA-9901-1 fixing CVE-2026-90001, known exploited, due 2026-12-13", h.Name, sec)
		}
		if conf, _ := h.update("labconf"); len(conf.CVEs) > 0 || conf.KnownExploited {
			t.Errorf("%s: labconf got risk data: %+v", h.Name, conf)
		}
		if len(h.Vulnerable) != 1 || h.Vulnerable[0].Name != "labslow" || !slices.Equal(h.Vulnerable[0].CVEs, []string{"CVE-2026-90002"}) {
			t.Errorf("%s: vulnerable %+v; want labslow with CVE-2026-90002", h.Name, h.Vulnerable)
		}
	}
}
