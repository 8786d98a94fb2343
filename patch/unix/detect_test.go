package unix

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// os-release samples as the distributions ship them (abridged).
const (
	osDebian = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian`
	osUbuntu = `PRETTY_NAME="Ubuntu 24.04 LTS"
VERSION_ID="24.04"
ID=ubuntu
ID_LIKE=debian`
	osRocky = `NAME="Rocky Linux"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"`
	osFedora = `NAME="Fedora Linux"
ID=fedora
VERSION_ID=41`
	osCentOS7 = `NAME="CentOS Linux"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"`
	osOpenSUSE = `NAME="openSUSE Leap"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.6"`
	osSLES = `NAME="SLES"
VERSION_ID="15.5"
ID="sles"
ID_LIKE="suse"`
	osAlpine = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.1`
	osArch = `NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling`
	osFreeBSD = `NAME=FreeBSD
VERSION="14.1-RELEASE"
VERSION_ID="14.1"
ID=freebsd`
)

func probeOutput(osRelease, managers, uid string) string {
	return sections(SectionOSRelease, osRelease, SectionKernel, "6.1.0-18-amd64",
		SectionBootID, "0b5f3c3e-1111-2222-3333-444455556666", SectionManagers, managers,
		SectionUID, uid, SectionSystemdRun, "/usr/bin/systemd-run")
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name     string
		osr      string
		managers string
		want     string // backend Name, "" = unsupported
		family   string
	}{
		{"debian", osDebian, "/usr/bin/apt-get", "apt", "debian"},
		// This build machine: Debian with dnf and zypper installed too.
		{"debian with dnf and zypper", osDebian, "/usr/bin/dnf\n/usr/bin/zypper\n/usr/bin/apt-get", "apt", "debian"},
		{"ubuntu", osUbuntu, "/usr/bin/apt-get", "apt", "debian"},
		{"rocky: dnf before yum", osRocky, "/usr/bin/dnf\n/usr/bin/yum", "dnf", "rhel"},
		{"fedora 41: dnf5", osFedora, "/usr/bin/dnf5\n/usr/bin/dnf", "dnf5", "rhel"},
		{"centos 7: yum only", osCentOS7, "/usr/bin/yum", "yum", "rhel"},
		{"opensuse", osOpenSUSE, "/usr/bin/zypper", "zypper", "suse"},
		{"sles", osSLES, "/usr/bin/zypper", "zypper", "suse"},
		{"alpine", osAlpine, "/sbin/apk", "apk", "alpine"},
		{"arch", osArch, "/usr/bin/pacman", "pacman", "arch"},
		{"freebsd", osFreeBSD, "/usr/sbin/pkg\n/usr/sbin/freebsd-update", "pkg", "freebsd"},
		// Another OS's pkg (Termux names its apt wrapper pkg) is not FreeBSD's.
		{"pkg on linux", osDebian, "/usr/bin/pkg", "", "debian"},
		{"no os-release, apt-get found", "", "/usr/bin/apt-get", "apt", ""},
		{"nothing at all", osDebian, "", "", "debian"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t).on(CmdProbe, ok(probeOutput(tt.osr, tt.managers, "0")))
			b, err := Detect(context.Background(), f, Options{})
			if tt.want == "" {
				if !errors.Is(err, patch.ErrUnsupported) {
					t.Fatalf("want ErrUnsupported, got %v, %v", b, err)
				}
				if tt.osr != "" && !strings.Contains(err.Error(), parseOSRelease(tt.osr).String()) {
					t.Fatalf("error should name the OS: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Name() != tt.want {
				t.Fatalf("backend %q, want %q", b.Name(), tt.want)
			}
			if got := parseOSRelease(tt.osr).Family(); got != tt.family {
				t.Fatalf("family %q, want %q", got, tt.family)
			}
			if len(f.sent) != 1 {
				t.Fatalf("detect must be one round trip, sent %q", f.sent)
			}
		})
	}
}

func TestDetectTransportError(t *testing.T) {
	f := newFake(t).on(CmdProbe, fail(transport.ErrConnLost))
	if _, err := Detect(context.Background(), f, Options{}); !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("want ErrConnLost, got %v", err)
	}
}

func TestDetectSudo(t *testing.T) {
	tests := []struct {
		uid  string
		sudo bool
		want string
	}{
		{"1000", true, "sudo -n " + CmdAptRefresh},
		{"0", true, CmdAptRefresh},
		{"1000", false, CmdAptRefresh},
	}
	for _, tt := range tests {
		f := newFake(t).on(CmdProbe, ok(probeOutput(osDebian, "/usr/bin/apt-get", tt.uid)))
		b, err := Detect(context.Background(), f, Options{Sudo: tt.sudo})
		if err != nil {
			t.Fatal(err)
		}
		f.on(tt.want, ok(""))
		if err := b.Refresh(context.Background(), f); err != nil {
			t.Fatalf("uid %s sudo %v: %v", tt.uid, tt.sudo, err)
		}
	}
}

func TestFacts(t *testing.T) {
	f := newFake(t).on(CmdProbe, ok(probeOutput(osRocky, "/usr/bin/dnf", "0")))
	b, err := Detect(context.Background(), f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.on(CmdRebootSignals, ok(sections(SectionKernel, "6.1.0-18-amd64", SectionModules, "6.1.0-18-amd64")))
	f.on(CmdRPMNeedsRestarting("dnf"), captured(t, "dnf/needs-restarting-glibc"))
	got, err := b.Facts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := patch.Facts{OS: "rocky 9.3", Family: "rhel", Kernel: "6.1.0-18-amd64", PackageManager: "dnf",
		BootID: "0b5f3c3e-1111-2222-3333-444455556666", RebootRequired: true, RebootReasons: []string{"needs-restarting (glibc)"}}
	if got.OS != want.OS || got.Family != want.Family || got.Kernel != want.Kernel || got.PackageManager != want.PackageManager ||
		got.BootID != want.BootID || got.RebootRequired != want.RebootRequired || strings.Join(got.RebootReasons, "|") != strings.Join(want.RebootReasons, "|") {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}
