package advisory

import (
	"archive/zip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
)

func loadTestdata(t *testing.T, osv ...string) *Sources {
	t.Helper()
	if len(osv) == 0 {
		osv = []string{"testdata/osv"}
	}
	var s Sources
	if err := s.LoadOSV(osv); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadKEV("testdata/kev.json"); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadEPSS("testdata/epss.csv"); err != nil {
		t.Fatal(err)
	}
	return &s
}

func byName(us []patch.Update) map[string]patch.Update {
	m := map[string]patch.Update{}
	for _, u := range us {
		m[u.Name] = u
	}
	return m
}

// A Debian 12 host as dpkg-query and apt-get -s show it: advisories name
// source packages, the kernel's is "linux".
func debianHost() (patch.Facts, []patch.Package, []patch.Update) {
	f := patch.Facts{OS: "debian 12", Family: "debian"}
	installed := []patch.Package{
		{Name: "libssl3", Version: "3.0.19-1~deb12u2", Source: "openssl", SourceVersion: "3.0.19-1~deb12u2"},
		{Name: "openssl", Version: "3.0.19-1~deb12u2", Source: "openssl", SourceVersion: "3.0.19-1~deb12u2"},
		{Name: "libcurl4", Version: "7.88.1-10+deb12u12", Source: "curl", SourceVersion: "7.88.1-10+deb12u12"},
		{Name: "linux-image-amd64", Version: "6.1.140-1", Source: "linux-signed-amd64", SourceVersion: "6.1.140+1"},
		// the running kernel's image: its update is a new package
		{Name: "linux-image-6.1.0-37-amd64", Version: "6.1.140-1", Source: "linux-signed-amd64", SourceVersion: "6.1.140+1"},
		{Name: "openssh-server", Version: "1:9.2p1-2+deb12u7", Source: "openssh", SourceVersion: "1:9.2p1-2+deb12u7"},
		{Name: "bash", Version: "5.2.15-2+b8", Source: "bash", SourceVersion: "5.2.15-2"},
		{Name: "base-files", Version: "12.4+deb12u11", Source: "base-files", SourceVersion: "12.4+deb12u11"},
	}
	updates := []patch.Update{
		{Name: "libssl3", Current: "3.0.19-1~deb12u2", Available: "3.0.22-1~deb12u2", Security: true},
		{Name: "openssl", Current: "3.0.19-1~deb12u2", Available: "3.0.20-1~deb12u1", Security: true},
		{Name: "libcurl4", Current: "7.88.1-10+deb12u12", Available: "7.88.1-10+deb12u14", Security: true},
		{Name: "linux-image-amd64", Current: "6.1.140-1", Available: "6.1.153-1", Security: true},
		{Name: "base-files", Current: "12.4+deb12u11", Available: "12.4+deb12u15"},
	}
	return f, installed, updates
}

func TestEnrichDebianUpdatesBySourcePackage(t *testing.T) {
	s := loadTestdata(t)
	f, installed, updates := debianHost()
	// Only hosts of a release the records cover are asked for their
	// packages.
	if !s.WantsPackages(f) || s.WantsPackages(patch.Facts{OS: "debian 11"}) || s.WantsPackages(patch.Facts{OS: "fedora 41"}) {
		t.Error("WantsPackages: want it for debian 12 only")
	}
	got, vulnerable := s.Enrich(f, installed, updates)
	u := byName(got)

	ssl := u["libssl3"]
	if ssl.Source != "openssl" || !reflect.DeepEqual(ssl.CVEs, []string{"CVE-2025-9230", "CVE-2025-9231", "CVE-2025-9232"}) {
		t.Errorf("libssl3: source %q, CVEs %v; want openssl's three", ssl.Source, ssl.CVEs)
	}
	if ssl.Advisory != "DSA-6020-1" || ssl.Issued == nil || !ssl.Issued.Equal(time.Date(2025, 10, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("libssl3: advisory %q issued %v; want the newest, DSA-6020-1 of 2025-10-14", ssl.Advisory, ssl.Issued)
	}
	if ssl.KnownExploited || ssl.EPSS != 0.00042 {
		t.Errorf("libssl3: kev %v epss %v; want not exploited, the highest EPSS 0.00042", ssl.KnownExploited, ssl.EPSS)
	}
	// 3.0.20 fixes DSA-6011-1 but not DSA-6020-1 (fixed in 3.0.22).
	if o := u["openssl"]; !reflect.DeepEqual(o.CVEs, []string{"CVE-2025-9230", "CVE-2025-9232"}) || o.Advisory != "DSA-6011-1" {
		t.Errorf("openssl to 3.0.20: CVEs %v advisory %q; want only DSA-6011-1's", o.CVEs, o.Advisory)
	}
	k := u["linux-image-amd64"]
	if !k.KnownExploited || k.KEVDue != "2025-09-25" || k.EPSS != 0.00264 || k.Advisory != "DSA-6009-1" {
		t.Errorf("kernel: %+v; want DSA-6009-1, known exploited due 2025-09-25, EPSS 0.00264", k)
	}
	if c := u["libcurl4"]; c.Advisory != "DSA-5998-1" || len(c.CVEs) != 2 {
		t.Errorf("libcurl4: %+v", c)
	}
	if b := u["base-files"]; len(b.CVEs) != 0 || b.Advisory != "" || b.Severity != "" || b.Issued != nil {
		t.Errorf("base-files got risk data: %+v", b)
	}
	// openssh has an unfixed CVE and no pending update; bash and
	// base-files are not affected; the old kernel image's source has an
	// update pending.
	want := []patch.Vulnerable{{Name: "openssh-server", Version: "1:9.2p1-2+deb12u7", Source: "openssh",
		CVEs: []string{"CVE-2008-3234"}, EPSS: 0.01872}}
	if !reflect.DeepEqual(vulnerable, want) {
		t.Errorf("vulnerable = %+v, want %+v", vulnerable, want)
	}
}

// osv.dev's export is a zip of *.json; a directory may hold such zips.
func TestLoadOSVZip(t *testing.T) {
	dir := t.TempDir()
	zf, err := os.Create(filepath.Join(dir, "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	files, _ := filepath.Glob("testdata/osv/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		w, _ := zw.Create(filepath.Base(p))
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zf.Close()
	// A download in progress under a hidden name is not read.
	if err := os.WriteFile(filepath.Join(dir, ".Debian.zip"), []byte("PK\x03\x04 half"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "all.zip"), dir} {
		s := loadTestdata(t, path)
		if s.Records() != len(files) {
			t.Errorf("%s: %d records, want %d", path, s.Records(), len(files))
		}
		f, installed, updates := debianHost()
		got, _ := s.Enrich(f, installed, updates)
		if !byName(got)["linux-image-amd64"].KnownExploited {
			t.Errorf("%s: the kernel update is not flagged", path)
		}
	}
}

func TestEnrichOtherEcosystems(t *testing.T) {
	s := loadTestdata(t)
	for _, tc := range []struct {
		name      string
		facts     patch.Facts
		installed []patch.Package
		update    patch.Update
		cves      []string
		advisory  string
		severity  string
		vendor    string
	}{
		{"ubuntu: a listed version, an Ubuntu priority", patch.Facts{OS: "ubuntu 24.04"},
			[]patch.Package{{Name: "libssl3t64", Version: "3.0.13-0ubuntu3.5", Source: "openssl", SourceVersion: "3.0.13-0ubuntu3.5"}},
			patch.Update{Name: "libssl3t64", Current: "3.0.13-0ubuntu3.5", Available: "3.0.13-0ubuntu3.6"},
			[]string{"CVE-2025-9230", "CVE-2025-9231", "CVE-2025-9232"}, "USN-7790-1", "moderate", "medium"},
		{"ubuntu kernel metapackage", patch.Facts{OS: "ubuntu 24.04"},
			[]patch.Package{{Name: "linux-image-generic", Version: "6.8.0-79.79", Source: "linux-meta", SourceVersion: "6.8.0-79.79"},
				// the running kernel's image, covered by the metapackage's update
				{Name: "linux-image-6.8.0-79-generic", Version: "6.8.0-79.79", Source: "linux-signed", SourceVersion: "6.8.0-79.79"}},
			patch.Update{Name: "linux-image-generic", Current: "6.8.0-79.79", Available: "6.8.0-87.88"},
			[]string{"CVE-2025-38352"}, "USN-7802-1", "important", "high"},
		{"rocky: binary names, epochs, a CVSS vector", patch.Facts{OS: "rocky 9.6"}, nil,
			patch.Update{Name: "openssl-libs", Current: "1:3.2.2-6.el9_5.1", Available: "1:3.2.2-6.el9_6.2"},
			[]string{"CVE-2025-9230"}, "RLSA-2025:16046", "important", "8.1"},
		{"rocky: the host's own severity is kept", patch.Facts{OS: "rocky 9.6"}, nil,
			patch.Update{Name: "kernel-core", Current: "5.14.0-570.17.1.el9_6", Available: "5.14.0-570.58.1.el9_6",
				Advisory: "RLSA-2025:17797", Severity: "important", VendorSeverity: "Important", CVEs: []string{"CVE-2025-39682"}},
			[]string{"CVE-2025-38352", "CVE-2025-39682"}, "RLSA-2025:17797", "important", "Important"},
		{"almalinux", patch.Facts{OS: "almalinux 9.6"}, nil,
			patch.Update{Name: "openssl-libs", Current: "1:3.2.2-6.el9_5", Available: "1:3.2.2-6.el9_6.2"},
			[]string{"CVE-2025-9230"}, "ALSA-2025:16046", "", ""},
		{"sles 15 SP5", patch.Facts{OS: "sles 15.5"}, nil,
			patch.Update{Name: "libopenssl3", Current: "3.0.8-150500.5.40.1", Available: "3.0.8-150500.5.45.1"},
			[]string{"CVE-2024-9143"}, "SUSE-SU-2024:3891-1", "moderate", "6.5"},
		{"leap 15.5", patch.Facts{OS: "opensuse-leap 15.5"}, nil,
			patch.Update{Name: "openssl-3", Current: "3.0.8-150500.5.40.1", Available: "3.0.8-150500.5.45.1"},
			[]string{"CVE-2024-9143"}, "SUSE-SU-2024:3891-1", "moderate", "6.5"},
		{"alpine", patch.Facts{OS: "alpine 3.22.1"}, nil,
			patch.Update{Name: "openssl", Current: "3.5.2-r0", Available: "3.5.4-r0"},
			[]string{"CVE-2025-9230"}, "", "important", "8.1"},
		{"another release of the same distribution does not match", patch.Facts{OS: "alpine 3.21.3"}, nil,
			patch.Update{Name: "openssl", Current: "3.5.2-r0", Available: "3.5.4-r0"}, nil, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, vulnerable := s.Enrich(tc.facts, tc.installed, []patch.Update{tc.update})
			u := got[0]
			if len(vulnerable) != 0 {
				t.Errorf("vulnerable %+v, want none: every package has an update", vulnerable)
			}
			if !reflect.DeepEqual(u.CVEs, tc.cves) || u.Advisory != tc.advisory || u.Severity != tc.severity || u.VendorSeverity != tc.vendor {
				t.Errorf("got CVEs %v advisory %q severity %q (%q); want %v %q %q (%q)",
					u.CVEs, u.Advisory, u.Severity, u.VendorSeverity, tc.cves, tc.advisory, tc.severity, tc.vendor)
			}
			// Only advisories date an update; a CVE record's date is the CVE's.
			if (u.Issued != nil) != (tc.advisory != "") {
				t.Errorf("issued %v with advisory %q", u.Issued, tc.advisory)
			}
		})
	}
}

// KEV and EPSS apply to CVEs the host's own tools reported, with no OSV
// files at all.
func TestKEVAndEPSSWithoutOSV(t *testing.T) {
	var s Sources
	if err := s.LoadKEV("testdata/kev.json"); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadEPSS("testdata/epss.csv"); err != nil {
		t.Fatal(err)
	}
	if s.WantsPackages(patch.Facts{OS: "debian 12"}) {
		t.Error("KEV and EPSS alone need no package list")
	}
	got, vuln := s.Enrich(patch.Facts{OS: "windows"}, nil, []patch.Update{{Name: "log4j", CVEs: []string{"CVE-2021-44228"}}})
	if !got[0].KnownExploited || got[0].KEVDue != "2021-12-24" || got[0].EPSS != 0.94358 || vuln != nil {
		t.Errorf("got %+v %v", got[0], vuln)
	}
}

func TestBadFilesAreRefusedNamingTheProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var s Sources
	for _, tc := range []struct {
		name string
		load func() error
		want string
	}{
		{"broken record", func() error { return s.LoadOSV([]string{write("bad.json", `{"id": "DSA-1", "affected": [`)}) }, "bad.json: not OSV JSON"},
		{"record without id", func() error { return s.LoadOSV([]string{write("noid.json", `{"affected": []}`)}) }, `has no "id"`},
		{"bad published", func() error {
			return s.LoadOSV([]string{write("time.json", `{"id": "DSA-2", "published": "yesterday"}`)})
		}, `bad "published" time`},
		{"only other ecosystems", func() error {
			return s.LoadOSV([]string{write("pypi.json", `{"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}`)})
		}, "no OSV records for Debian"},
		{"empty directory", func() error { return s.LoadOSV([]string{t.TempDir()}) }, "no .json or .zip files"},
		{"other file", func() error { return s.LoadOSV([]string{write("x.txt", "")}) }, "not a directory, a .zip or a .json file"},
		{"missing", func() error { return s.LoadOSV([]string{filepath.Join(dir, "nope")}) }, "no such file"},
		{"kev not the feed", func() error { return s.LoadKEV(write("kev.json", `{"title": "x"}`)) }, `no "vulnerabilities" list`},
		{"kev bad date", func() error {
			return s.LoadKEV(write("kev2.json", `{"vulnerabilities": [{"cveID": "CVE-2024-1234", "dueDate": "soon"}]}`))
		}, "bad dueDate"},
		{"kev bad id", func() error { return s.LoadKEV(write("kev3.json", `{"vulnerabilities": [{"cveID": "1234"}]}`)) }, "bad cveID"},
		{"epss header", func() error { return s.LoadEPSS(write("e.csv", "#c\nfoo,bar\n")) }, "no cve and epss columns"},
		{"epss score", func() error { return s.LoadEPSS(write("e2.csv", "cve,epss,percentile\nCVE-2024-1,7,0.1\n")) }, "e2.csv:2: bad epss score"},
		{"epss empty", func() error { return s.LoadEPSS(write("e3.csv", "cve,epss,percentile\n")) }, "no EPSS scores"},
	} {
		err := tc.load()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}

func TestEcosystemNames(t *testing.T) {
	for in, want := range map[string]ecosystem{
		"Debian:12":                           {"debian", "12"},
		"Ubuntu:22.04:LTS":                    {"ubuntu", "22.04"},
		"Ubuntu:24.10":                        {"ubuntu", "24.10"},
		"AlmaLinux:8":                         {"almalinux", "8"},
		"Rocky Linux:9":                       {"rocky", "9"},
		"Alpine:v3.20":                        {"alpine", "3.20"},
		"openSUSE:Leap 15.6":                  {"opensuse-leap", "15.6"},
		"openSUSE:Tumbleweed":                 {"opensuse-tumbleweed", ""},
		"SUSE:Linux Enterprise Server 15 SP6": {"sles", "15.6"},
		"SUSE:Linux Enterprise Module for Basesystem 15 SP6": {"sles", "15.6"},
		"SUSE:Linux Enterprise Server 12":                    {"sles", "12"},
	} {
		if got, ok := osvEcosystem(in); !ok || got != want {
			t.Errorf("%q = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"PyPI", "Ubuntu:Pro:18.04:LTS", "Debian", "SUSE:CaaS Platform 4.0"} {
		if _, ok := osvEcosystem(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
	for os, want := range map[string]ecosystem{
		"debian 12": {"debian", "12"}, "ubuntu 24.04": {"ubuntu", "24.04"}, "rocky 9.6": {"rocky", "9"},
		"almalinux 8.10": {"almalinux", "8"}, "alpine 3.20.3": {"alpine", "3.20"}, "sles 15.6": {"sles", "15.6"},
		"opensuse-leap 15.5": {"opensuse-leap", "15.5"},
	} {
		if got, ok := hostEcosystem(patch.Facts{OS: os}); !ok || got != want {
			t.Errorf("%q = %v %v, want %v", os, got, ok, want)
		}
	}
}
