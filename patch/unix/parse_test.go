package unix

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
)

func TestParseAptSimulationLab(t *testing.T) {
	// testdata/apt/dist-upgrade-s.txt: real apt-get 2.6.2 against the lab repo.
	got := parseAptSimulation(capturedFile(t, "apt/dist-upgrade-s.txt"))
	want := []patch.Update{
		{Name: "labboth", Current: "2:1.0-1", Available: "2:1.1-1", Arch: "all", Repo: "Lab-Security:lab-security", Security: true},
		{Name: "labdep", Current: "", Available: "1.0", Arch: "all", Repo: "Lab:lab"},
		{Name: "labsec", Current: "1.0", Available: "1.1", Arch: "all", Repo: "Lab-Security:lab-security", Security: true},
		{Name: "labtool", Current: "1.0", Available: "1.1", Arch: "all", Repo: "Lab:lab"},
		{Name: "linux-image-lab", Current: "6.1.90-1", Available: "6.1.99-1", Arch: "all", Repo: "Lab-Security:lab-security", Security: true, RebootRequired: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parse:\n got %+v\nwant %+v", got, want)
	}
	if none := parseAptSimulation(capturedFile(t, "apt/dist-upgrade-s-none.txt")); len(none) != 0 {
		t.Fatalf("nothing pending, got %+v", none)
	}
}

func TestParseAptSimulationDebian12(t *testing.T) {
	// A real Debian 12 host's own pending updates, with Debian-Security
	// origins and the trailing [..] annotations apt adds.
	text := capturedFile(t, "apt/dist-upgrade-s-debian12.txt")
	got := parseAptSimulation(text)
	// Independent oracle: count the Inst lines and those naming a -security suite.
	inst, sec := 0, 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "Inst ") {
			inst++
			if strings.Contains(l, "-security") {
				sec++
			}
		}
	}
	gotSec := 0
	for _, u := range got {
		if u.Security {
			gotSec++
		}
	}
	if len(got) != inst || gotSec != sec || inst == 0 || sec == 0 {
		t.Fatalf("got %d updates (%d security), file has %d Inst lines (%d security)", len(got), gotSec, inst, sec)
	}
	byName := map[string]patch.Update{}
	for _, u := range got {
		byName[u.Name] = u
	}
	checks := []patch.Update{
		{Name: "libssl3", Current: "3.0.19-1~deb12u2", Available: "3.0.22-1~deb12u2", Arch: "amd64", Repo: "Debian-Security:12/oldstable-security", Security: true},
		{Name: "libgcrypt20", Current: "1.10.1-3", Available: "1.10.1-3+deb12u1", Arch: "amd64", Repo: "Debian-Security:12/oldstable-security", Security: true},
		{Name: "base-files", Current: "12.4+deb12u11", Available: "12.4+deb12u15", Arch: "amd64", Repo: "Debian:12.15/oldstable"},
		{Name: "libpam-modules-bin", Current: "1.5.2-6+deb12u1", Available: "1.5.2-6+deb12u2", Arch: "amd64", Repo: "Debian:12.15/oldstable"},
		{Name: "libcap2", Current: "1:2.66-4+deb12u2+b2", Available: "1:2.66-4+deb12u3+b1", Arch: "amd64", Repo: "Debian:12.15/oldstable"},
	}
	for _, want := range checks {
		if g := byName[want.Name]; !reflect.DeepEqual(g, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", want.Name, g, want)
		}
	}
}

func TestParseCheckUpdateDNF(t *testing.T) {
	// Real dnf 4.14 check-update (exit 100) against the lab repo.
	got := parseCheckUpdate(string(captured(t, "dnf/check-update").res.Stdout))
	want := []patch.Update{
		{Name: "kernel-lab", Arch: "x86_64", Available: "6.1.99-1", Repo: "lab"},
		{Name: "labepoch", Arch: "noarch", Available: "2:1.1-1", Repo: "lab"},
		{Name: "labsec", Arch: "x86_64", Available: "1.1-1", Repo: "lab"},
		{Name: "labtool", Arch: "noarch", Available: "1.1-1", Repo: "lab"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseCheckUpdateYumWrapped(t *testing.T) {
	// Hand-written (yum is not packaged for Debian): yum 3 prints the same
	// columns as dnf-3 but moves version and repo to the next line when
	// name.arch is too long, and may append an "Obsoleting Packages" section.
	out := "\n" +
		"kernel.x86_64                         3.10.0-1160.119.1.el7        updates\n" +
		"python-perf-debuginfo-common-extra.x86_64\n" +
		"                                      3.10.0-1160.119.1.el7        updates\n" +
		"Obsoleting Packages\n" +
		"grub2.x86_64                          1:2.02-0.87.el7.centos.14    updates\n" +
		"    grub2.x86_64                      1:2.02-0.86.el7.centos       @anaconda\n"
	got := parseCheckUpdate(out)
	want := []patch.Update{
		{Name: "kernel", Arch: "x86_64", Available: "3.10.0-1160.119.1.el7", Repo: "updates", RebootRequired: true},
		{Name: "python-perf-debuginfo-common-extra", Arch: "x86_64", Available: "3.10.0-1160.119.1.el7", Repo: "updates"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseCheckUpdateYumVersionWrapped(t *testing.T) {
	// Hand-written from yum 3's fmtColumns (output.py): yum lays its table
	// out for 80 columns even without a terminal, and every column that
	// overflows its width ends the line, the next column continuing on an
	// indented line. So a long version pushes the repo down, and a long name
	// and a long version give three lines for one update.
	out := "\n" +
		"kernel-uek.x86_64                     5.4.17-2136.330.7.1.el7uek.long.release.x86\n" +
		"                                                                  ol7_UEKR6\n" +
		"python-perf-debuginfo-common-extra.x86_64\n" +
		"                                      5.4.17-2136.330.7.1.el7uek.long.release.x86\n" +
		"                                                                  ol7_UEKR6\n" +
		"zlib.x86_64                           1.2.7-21.el7_9               updates\n"
	got := parseCheckUpdate(out)
	want := []patch.Update{
		{Name: "kernel-uek", Arch: "x86_64", Available: "5.4.17-2136.330.7.1.el7uek.long.release.x86", Repo: "ol7_UEKR6", RebootRequired: true},
		{Name: "python-perf-debuginfo-common-extra", Arch: "x86_64", Available: "5.4.17-2136.330.7.1.el7uek.long.release.x86", Repo: "ol7_UEKR6"},
		{Name: "zlib", Arch: "x86_64", Available: "1.2.7-21.el7_9", Repo: "updates"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseCheckUpdateDNFLongRows(t *testing.T) {
	// Real dnf 4.14 (testdata/capture-dnf-wrap.sh): without a terminal dnf
	// does not wrap; a long name and a long version widen the columns.
	got := parseCheckUpdate(string(captured(t, "dnf/check-update-wrapped").res.Stdout))
	want := []patch.Update{
		{Name: "labtool", Arch: "noarch", Available: "1.1-1", Repo: "lab"},
		{Name: "labver", Arch: "x86_64", Available: "5.15.0.205.149.5.1.2024051401-205.149.5.1.el9uek.lab.long.release", Repo: "lab"},
		{Name: "python3-patchrun-capture-plugin-with-a-very-long-package-name", Arch: "noarch", Available: "1.1-1", Repo: "lab"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseRPMQuery(t *testing.T) {
	got := parseRPMQuery(string(captured(t, "rpm/query").res.Stdout))
	want := map[string]string{
		"labtool.noarch": "1.0-1", "labsec.x86_64": "1.0-1",
		"labepoch.noarch": "2:1.0-1", "kernel-lab.x86_64": "6.1.90-1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// rpmAdvisoryOutput renders the two captured listings the way
// CmdRPMAdvisories' marker sections arrive.
func rpmAdvisoryOutput(t *testing.T, list, cves string) string {
	return sections(SectionAdvisories, string(captured(t, list).res.Stdout), SectionCVEs, string(captured(t, cves).res.Stdout))
}

func day(s string) *time.Time {
	d, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return &d
}

// advisoryUpdates lists the pending updates of the capture-advisories.sh
// repository, as check-update / list-updates name them.
func advisoryUpdates() []patch.Update {
	var ups []patch.Update
	for _, n := range []string{"labcurl", "labdoc", "labnodate", "labplain", "labssl", "labtool"} {
		ups = append(ups, patch.Update{Name: n, Arch: "x86_64", Current: "1.0-1", Available: "1.1-1", Repo: "lab"})
	}
	return ups
}

// wantAdvisoryUpdates is what dnf and zypper both say about them. dnf and
// zypper print the advisory's updated date where it has one (LAB-2024:0101
// was issued 2024-03-04 and updated 2024-03-05).
func wantAdvisoryUpdates(securityCategory string) []patch.Update {
	ups := advisoryUpdates()
	ups[0].Security, ups[0].Categories, ups[0].Advisory = true, []string{securityCategory}, "LAB-2024:0101"
	ups[0].Severity, ups[0].VendorSeverity = "critical", "Critical"
	ups[0].CVEs = []string{"CVE-2023-9999", "CVE-2024-1111", "CVE-2024-2222"}
	ups[0].Issued = day("2024-04-01 00:00:00") // the newer of its two advisories
	ups[1].Categories, ups[1].Advisory, ups[1].Issued = []string{"enhancement"}, "LAB-2024:0104", day("2024-06-03 00:00:00")
	ups[2].Security, ups[2].Categories, ups[2].Advisory, ups[2].Severity = true, []string{securityCategory}, "LAB-2024:0105", "unknown"
	ups[4].Security, ups[4].Categories, ups[4].Advisory = true, []string{securityCategory}, "LAB-2024:0101"
	ups[4].Severity, ups[4].VendorSeverity = "critical", "Critical"
	ups[4].CVEs = []string{"CVE-2023-9999", "CVE-2024-1111"}
	ups[4].Issued = day("2024-03-05 00:00:00")
	ups[5].Categories, ups[5].Advisory, ups[5].Issued = []string{"bugfix"}, "LAB-2024:0103", day("2024-05-02 00:00:00")
	return ups
}

func TestParseRPMAdvisoriesCaptured(t *testing.T) {
	ups := advisoryUpdates()
	applyAdvisories(ups, parseRPMAdvisories(rpmAdvisoryOutput(t, "dnf/advisories-list", "dnf/advisories-cves"), false))
	want := wantAdvisoryUpdates("security")
	if !reflect.DeepEqual(ups, want) {
		t.Fatalf("dnf advisories:\n got %+v\nwant %+v", ups, want)
	}
	// The severity words come out of a real dnf in the case the vendor
	// wrote: zypper lower-cases them; the normalised one is the same.
	if ups[0].Severity != patch.NormalizeSeverity("critical") {
		t.Fatal(ups[0].Severity)
	}
}

func TestParseRPMAdvisoriesOtherTools(t *testing.T) {
	tests := []struct {
		name string
		out  string
		dnf5 bool
		want map[string][]advisory
	}{
		// Not captured: yum is not in Debian 12; its rows are dnf 4's without the date.
		{"yum documented", sections(SectionAdvisories, "RHSA-2024:1234 Important/Sec. openssl-libs-1:1.0.2k-26.el7_9.x86_64\n",
			SectionCVEs, "CVE-2024-0727 Important/Sec. openssl-libs-1:1.0.2k-26.el7_9.x86_64\n"), false,
			map[string][]advisory{"openssl-libs.x86_64": {{ID: "RHSA-2024:1234", Type: "security", Severity: "Important", CVEs: []string{"CVE-2024-0727"}}}}},
		// Not captured: dnf5 is not in Debian 12; the table layout is from dnf5-advisory(8).
		{"dnf5 documented", sections(SectionAdvisories, "Name                     Type        Severity  Package                               Issued\n"+
			"FEDORA-2024-1a2b3c4d5e security    Important openssl-libs-1:3.2.2-3.fc41.x86_64   2024-09-01 00:00:00\n"), true,
			map[string][]advisory{"openssl-libs.x86_64": {{ID: "FEDORA-2024-1a2b3c4d5e", Type: "security", Severity: "Important", Issued: *day("2024-09-01 00:00:00")}}}},
		{"empty", "", false, map[string][]advisory{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRPMAdvisories(tt.out, tt.dnf5); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

func TestParseZypperAdvisoriesCaptured(t *testing.T) {
	patches, err := parseZypperPatches(string(captured(t, "zypper/advisories-list-patches").res.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	if len(patches) != 5 {
		t.Fatalf("patches %+v", patches)
	}
	ups := advisoryUpdates()
	applyAdvisories(ups, zypperAdvisories(patches, parseZypperPatchInfo(string(captured(t, "zypper/advisories-patch-info").res.Stdout))))
	want := wantAdvisoryUpdates("security")
	// zypper prints severities lower-case.
	want[0].VendorSeverity, want[4].VendorSeverity = "critical", "critical"
	if !reflect.DeepEqual(ups, want) {
		t.Fatalf("zypper advisories:\n got %+v\nwant %+v", ups, want)
	}
	// A patch with a single package prints it on the Conflicts line itself.
	info := parseZypperPatchInfo(string(captured(t, "zypper/patch-info").res.Stdout))
	if !reflect.DeepEqual(info["LAB-2024-0002"], []string{"labtool"}) || len(info["LAB-2024-0001"]) != 4 {
		t.Fatalf("patch info %v", info)
	}
}

func TestParseZypper(t *testing.T) {
	ups, err := parseZypperListUpdates(string(captured(t, "zypper/list-updates").res.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	want := []patch.Update{
		{Name: "kernel-lab", Current: "6.1.90-1", Available: "6.1.99-1", Arch: "x86_64", Repo: "lab"},
		{Name: "labepoch", Current: "2:1.0-1", Available: "2:1.1-1", Arch: "noarch", Repo: "lab"},
		{Name: "labsec", Current: "1.0-1", Available: "1.1-1", Arch: "x86_64", Repo: "lab"},
		{Name: "labtool", Current: "1.0-1", Available: "1.1-1", Arch: "noarch", Repo: "lab"},
	}
	if !reflect.DeepEqual(ups, want) {
		t.Fatalf("list-updates:\n got %+v\nwant %+v", ups, want)
	}
	none, err := parseZypperListUpdates(string(captured(t, "zypper/list-updates-none").res.Stdout))
	if err != nil || len(none) != 0 {
		t.Fatalf("none: %v %+v", err, none)
	}
	if _, err := parseZypperListUpdates("<stream><update-status"); err == nil {
		t.Fatal("truncated XML must be an error, not an empty list")
	}
}

func TestParseNeedsRestarting(t *testing.T) {
	tests := []struct {
		capture string
		want    string
		needed  bool
	}{
		{"dnf/needs-restarting-glibc", "needs-restarting (glibc)", true},
		{"dnf/needs-restarting-clean", "", false},
		{"dnf/needs-restarting-noplugin", "", false}, // exit 1 too, but no such command
	}
	for _, tt := range tests {
		r, needed := parseNeedsRestarting(captured(t, tt.capture).res)
		if r != tt.want || needed != tt.needed {
			t.Errorf("%s: got %q %v, want %q %v", tt.capture, r, needed, tt.want, tt.needed)
		}
	}
}

func TestParseRebootSignals(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want []string
	}{
		{"nothing, empty /lib/modules (container)", sections(SectionRebootFile, "", SectionRebootPkgs, "", SectionRebootNeeded, "",
			SectionKernel, "6.1.0-18-amd64", SectionModules, ""), nil},
		{"running kernel present", sections(SectionKernel, "6.1.0-18-amd64", SectionModules, "6.1.0-17-amd64\n6.1.0-18-amd64"), nil},
		{"debian flag with packages", sections(SectionRebootFile, "present", SectionRebootPkgs, "linux-image-6.1.0-21-amd64\nlibc6\nlibc6",
			SectionKernel, "6.1.0-18-amd64", SectionModules, "6.1.0-18-amd64"),
			[]string{"/run/reboot-required (linux-image-6.1.0-21-amd64, libc6)"}},
		{"debian flag alone", sections(SectionRebootFile, "present"), []string{"/run/reboot-required"}},
		{"suse flag", sections(SectionRebootNeeded, "present"), []string{"/run/reboot-needed"}},
		{"running kernel's modules removed", sections(SectionKernel, "6.1.0-9-amd64", SectionModules, "6.1.0-10-amd64\n6.1.0-18-amd64"),
			[]string{"running kernel 6.1.0-9-amd64 has no /lib/modules entry (newest installed: 6.1.0-18-amd64)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRebootSignals(tt.out); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q want %q", got, tt.want)
			}
		})
	}
}

func TestSplitSectionsTruncated(t *testing.T) {
	// A probe cut off mid-way: later sections are absent, not empty.
	s := splitSections("junk\n@@patchrun:kernel@@\n6.1.0\n@@patchrun:boot-id@@\n")
	if s[SectionKernel] != "6.1.0" {
		t.Fatalf("kernel section %q", s[SectionKernel])
	}
	if _, ok := s[SectionUID]; ok {
		t.Fatal("uid section should be absent")
	}
}

func TestNeedsReboot(t *testing.T) {
	for name, want := range map[string]bool{
		"linux-image-6.1.0-21-amd64": true, "kernel-core": true, "kernel": true, "glibc": true,
		"libc6": true, "libc6:i386": true, "systemd": true, "kernel-default": true,
		"openssl": false, "libc-bin": false, "systemd-timesyncd": false, "linuxdoc-tools": false,
	} {
		if got := needsReboot(name); got != want {
			t.Errorf("needsReboot(%q) = %v, want %v", name, got, want)
		}
	}
}

// Both listings in the one round trip are privileged: with sudo each
// carries the prefix, not just the line's first command (an echo).
func TestRPMAdvisoriesCommandSudoEachListing(t *testing.T) {
	line := CmdRPMAdvisories("dnf", SudoPrefix)
	for _, want := range []string{
		"&& sudo -n LANG=C LC_ALL=C dnf -q -v updateinfo list --updates &&",
		"&& sudo -n LANG=C LC_ALL=C dnf -q updateinfo list --updates --with-cve",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	if strings.HasPrefix(line, SudoPrefix) {
		t.Errorf("the marker echo needs no sudo: %q", line)
	}
}
