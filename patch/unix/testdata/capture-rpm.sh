#!/bin/sh
# Captures real dnf, rpm and zypper output for the rpm-family parser tests.
# See CAPTURE.md. Builds tiny rpms at an old and a new version with rpmbuild,
# publishes the new ones with createrepo_c plus an updateinfo.xml (one
# security advisory, one bugfix advisory) added by modifyrepo_c, installs the
# old ones into a throwaway rpm root, and runs this machine's dnf and zypper
# against that root. Needs rpm (rpmbuild), createrepo-c, dnf, zypper.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT/dnf" "$OUT/zypper" "$OUT/rpm"

mkrpm() { # name epoch version release arch destdir [provides]
	spec=$W/$1-$3.spec
	{
		echo "Name: $1"
		[ -n "${7:-}" ] && echo "Provides: $7"
		[ "$2" != 0 ] && echo "Epoch: $2"
		echo "Version: $3"
		echo "Release: $4"
		echo "Summary: patchrun capture package $1"
		echo "License: MIT"
		echo "BuildArch: $5"
		echo "%description"
		echo "patchrun capture package."
		echo "%files"
	} >"$spec"
	rpmbuild -bb --quiet --define "_topdir $W/top" "$spec" >/dev/null 2>&1
	mkdir -p "$6"
	mv "$W"/top/RPMS/"$5"/"$1"-*.rpm "$6"/
}
# Old versions: installed on the fake host.
mkrpm labtool 0 1.0 1 noarch "$W/old"
mkrpm labsec 0 1.0 1 x86_64 "$W/old"
mkrpm labepoch 2 1.0 1 noarch "$W/old"
mkrpm kernel-lab 0 6.1.90 1 x86_64 "$W/old"
mkrpm labsame 0 1.0 1 noarch "$W/old"
# New versions: the repository.
mkrpm labtool 0 1.1 1 noarch "$W/repo"
mkrpm labsec 0 1.1 1 x86_64 "$W/repo"
mkrpm labepoch 2 1.1 1 noarch "$W/repo"
# installhint(reboot-needed) is how a SUSE package asks libzypp for a reboot
# (zypper then exits 102 and writes /run/reboot-needed).
mkrpm kernel-lab 0 6.1.99 1 x86_64 "$W/repo" "installhint(reboot-needed)"
mkrpm labsame 0 1.0 1 noarch "$W/repo"

createrepo_c --quiet "$W/repo"
cat >"$W/updateinfo.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="lab@example.invalid" status="stable" type="security" version="1.4">
    <id>LAB-2024-0001</id>
    <title>labsec and kernel-lab security update</title>
    <severity>Important</severity>
    <release>Lab</release>
    <issued date="2024-05-01 00:00:00"/>
    <references>
      <reference href="https://example.invalid/CVE-2024-0001" id="CVE-2024-0001" type="cve" title="CVE-2024-0001"/>
    </references>
    <description>Fixes CVE-2024-0001.</description>
    <pkglist>
      <collection short="lab">
        <name>Lab</name>
        <package name="labsec" version="1.1" release="1" epoch="0" arch="x86_64" src="labsec-1.1-1.src.rpm">
          <filename>labsec-1.1-1.x86_64.rpm</filename>
        </package>
        <package name="kernel-lab" version="6.1.99" release="1" epoch="0" arch="x86_64" src="kernel-lab-6.1.99-1.src.rpm">
          <filename>kernel-lab-6.1.99-1.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="lab@example.invalid" status="stable" type="bugfix" version="1.4">
    <id>LAB-2024-0002</id>
    <title>labtool bug fix update</title>
    <severity>None</severity>
    <release>Lab</release>
    <issued date="2024-05-02 00:00:00"/>
    <description>Fixes a bug.</description>
    <pkglist>
      <collection short="lab">
        <name>Lab</name>
        <package name="labtool" version="1.1" release="1" epoch="0" arch="noarch" src="labtool-1.1-1.src.rpm">
          <filename>labtool-1.1-1.noarch.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
XML
modifyrepo_c --mdtype=updateinfo "$W/updateinfo.xml" "$W/repo/repodata" >/dev/null

fresh_root() {
	rm -rf "$W/root"
	mkdir -p "$W/root"
	rpm --root "$W/root" --initdb
	rpm --root "$W/root" -i --nodeps --nosignature "$W"/old/*.rpm
}

capture() { # file command...: stdout, stderr and exit status of a real run
	f=$1
	shift
	set +e
	LANG=C LC_ALL=C "$@" >"$f.stdout" 2>"$f.stderr"
	echo $? >"$f.exit"
	set -e
}

# ---- dnf (dnf-3 4.x, the same check-update format as yum) ----
fresh_root
DNF="dnf --installroot=$W/root --releasever=lab --setopt=reposdir=/nonexistent --repofrompath=lab,file://$W/repo --repo=lab --setopt=gpgcheck=0 --setopt=cachedir=$W/dnfcache"
dnf --version | head -1 >"$OUT/dnf/VERSION"
capture "$OUT/dnf/makecache" $DNF -q -y makecache
capture "$OUT/dnf/check-update" $DNF -q -y check-update
capture "$OUT/dnf/updateinfo-security" $DNF -q updateinfo list --updates --security
# The two listings CmdRPMAdvisories sends (all advisory types with dates; CVEs).
capture "$OUT/dnf/updateinfo-list-v" $DNF -q -v updateinfo list --updates
capture "$OUT/dnf/updateinfo-cves" $DNF -q updateinfo list --updates --with-cve
capture "$OUT/dnf/upgrade-labtool" $DNF -y upgrade labtool
capture "$OUT/dnf/upgrade-unknown" $DNF -y upgrade no-such-package
capture "$OUT/dnf/check-update-after" $DNF -q -y check-update
capture "$OUT/dnf/upgrade-all" $DNF -y upgrade
capture "$OUT/dnf/check-update-none" $DNF -q -y check-update
# A broken repository: check-update must fail with exit 1, not look "clean".
# (Debian's /etc/dnf/dnf.conf sets skip_if_unavailable=True; Fedora/RHEL default to False.)
capture "$OUT/dnf/check-update-broken" dnf --installroot=$W/root --releasever=lab --setopt=reposdir=/nonexistent \
	--repofrompath=broken,file://$W/nonexistent --repo=broken --setopt=cachedir=$W/dnfcache2 \
	--setopt=skip_if_unavailable=False -q -y check-update

# ---- dnf needs-restarting -r (dnf-plugins-core) ----
# It compares the install time of core packages (glibc, kernel, systemd, …)
# with the boot time: a "glibc" installed now, after boot, needs a reboot.
mkrpm glibc 0 2.99 1 x86_64 "$W/core"
NR="dnf --installroot=$W/nr --releasever=lab --setopt=reposdir=/nonexistent -q"
mkdir -p "$W/nr"
rpm --root "$W/nr" --initdb
rpm --root "$W/nr" -i --nodeps --nosignature "$W"/old/labtool-*.rpm
# On Debian 12 dnf-plugins-core conflicts with zypper (installing one removes
# the other), so these two were captured once with the plugin installed and
# are kept unless the plugin is present now.
if $NR needs-restarting --help >/dev/null 2>&1; then
	capture "$OUT/dnf/needs-restarting-clean" $NR needs-restarting -r
	rpm --root "$W/nr" -i --nodeps --nosignature "$W"/core/glibc-*.rpm
	capture "$OUT/dnf/needs-restarting-glibc" $NR needs-restarting -r
fi
# Without the plugin the command does not exist, and dnf also exits 1.
capture "$OUT/dnf/needs-restarting-noplugin" $NR --disableplugin=needs_restarting needs-restarting -r

# ---- rpm -q --qf (current versions), as CmdRPMInstalled sends it ----
fresh_root
rpm --version >"$OUT/rpm/VERSION"
capture "$OUT/rpm/query" rpm --root "$W/root" -q --qf '%{NAME}.%{ARCH} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\n' labtool labsec labepoch kernel-lab no-such-package

# ---- zypper ----
fresh_root
zypper --version >"$OUT/zypper/VERSION"
Z="zypper --root $W/root -n"
$Z addrepo --no-gpgcheck "file://$W/repo" lab >/dev/null
capture "$OUT/zypper/refresh" $Z refresh
capture "$OUT/zypper/list-updates" $Z --xmlout list-updates
capture "$OUT/zypper/list-patches-security" $Z --xmlout list-patches --category security
capture "$OUT/zypper/list-updates-text" $Z list-updates
# list-patches ignores --category in --xmlout mode (the bugfix patch is listed
# too), and it names no packages: the security packages come from a dry run.
capture "$OUT/zypper/patch-security-dry-run" $Z --xmlout patch --with-interactive --category security --dry-run
# The backend's scan: list-patches, then info on the patches it lists.
capture "$OUT/zypper/list-patches" $Z --xmlout list-patches
capture "$OUT/zypper/patch-info" $Z info -t patch LAB-2024-0001 LAB-2024-0002
capture "$OUT/zypper/needs-rebooting" $Z needs-rebooting
capture "$OUT/zypper/update-labtool" $Z update --auto-agree-with-licenses labtool
capture "$OUT/zypper/update-unknown" $Z update --auto-agree-with-licenses no-such-package
capture "$OUT/zypper/update-all" $Z update --auto-agree-with-licenses
capture "$OUT/zypper/needs-rebooting-after" $Z needs-rebooting
capture "$OUT/zypper/list-updates-none" $Z --xmlout list-updates
capture "$OUT/zypper/patch-security-dry-run-none" $Z --xmlout patch --with-interactive --category security --dry-run

for f in "$OUT"/dnf/* "$OUT"/zypper/* "$OUT"/rpm/*; do sed -i "s#$W#/tmp/lab#g" "$f"; done
echo "captured into $OUT/{dnf,zypper,rpm}"
