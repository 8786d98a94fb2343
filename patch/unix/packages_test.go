package unix

import (
	"os"
	"testing"

	"github.com/patchrun/patchrun/patch"
)

// testdata/packages/dpkg-query.txt is CmdDpkgPackages' real output on a
// Debian 12 machine (a selection of its lines).
func TestParseDpkgPackagesCapture(t *testing.T) {
	b, err := os.ReadFile("testdata/packages/dpkg-query.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]patch.Package{}
	for _, p := range parseDpkgPackages(string(b)) {
		got[p.Name] = p
	}
	for _, want := range []patch.Package{
		{Name: "libc6", Version: "2.36-9+deb12u14", Arch: "amd64", Source: "glibc", SourceVersion: "2.36-9+deb12u14"},
		// a binNMU: the binary's version is not its source's
		{Name: "bash", Version: "5.2.15-2+b8", Arch: "amd64", Source: "bash", SourceVersion: "5.2.15-2"},
		{Name: "openssh-server", Version: "1:9.2p1-2+deb12u10", Arch: "amd64", Source: "openssh", SourceVersion: "1:9.2p1-2+deb12u10"},
		{Name: "tzdata", Version: "2025b-0+deb12u2", Arch: "all", Source: "tzdata", SourceVersion: "2025b-0+deb12u2"},
	} {
		if got[want.Name] != want {
			t.Errorf("%s: got %+v, want %+v", want.Name, got[want.Name], want)
		}
	}
	if len(got) != 23 {
		t.Errorf("%d packages, want the file's 23", len(got))
	}
	// Removed packages whose config files remain ("rc") are not installed.
	if n := len(parseDpkgPackages("rc \tfoo\t1.0\tamd64\tfoo\t1.0\n")); n != 0 {
		t.Errorf("an rc package was listed")
	}
}

// rpm's query format output: NAME, EPOCH ("(none)" when unset),
// VERSION-RELEASE, ARCH, SOURCERPM.
func TestParseRPMPackages(t *testing.T) {
	out := "openssl-libs\t1\t3.2.2-6.el9_5.1\tx86_64\topenssl-3.2.2-6.el9_5.1.src.rpm\n" +
		"kernel-core\t(none)\t5.14.0-570.17.1.el9_6\tx86_64\tkernel-5.14.0-570.17.1.el9_6.src.rpm\n" +
		"gpg-pubkey\t(none)\t350d275d-6279464b\t(none)\t(none)\n" +
		"libopenssl3\t(none)\t3.0.8-150500.5.40.1\tx86_64\topenssl-3-3.0.8-150500.5.40.1.src.rpm\n"
	got := parseRPMPackages(out)
	want := []patch.Package{
		{Name: "openssl-libs", Version: "1:3.2.2-6.el9_5.1", Arch: "x86_64", Source: "openssl", SourceVersion: "1:3.2.2-6.el9_5.1"},
		{Name: "kernel-core", Version: "5.14.0-570.17.1.el9_6", Arch: "x86_64", Source: "kernel", SourceVersion: "5.14.0-570.17.1.el9_6"},
		{Name: "libopenssl3", Version: "3.0.8-150500.5.40.1", Arch: "x86_64", Source: "openssl-3", SourceVersion: "3.0.8-150500.5.40.1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %+v, want %+v", got[i], want[i])
		}
	}
}
