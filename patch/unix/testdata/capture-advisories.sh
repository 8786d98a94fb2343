#!/bin/sh
# Captures real dnf and zypper advisory output (updateinfo) for the advisory
# parser tests. See CAPTURE.md. Builds tiny rpms at 1.0 (installed into a
# throwaway rpm root) and 1.1 (a repository made with createrepo_c), adds an
# updateinfo.xml with modifyrepo_c: a Critical security advisory with two
# CVEs and a bug reference covering two packages, a Moderate one with one
# CVE covering one of them again, a bugfix, an enhancement, and a security
# advisory with neither severity nor CVEs nor issue date; one package
# (labplain) has an update but no advisory. Needs rpm (rpmbuild),
# createrepo-c, dnf, zypper.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT/dnf" "$OUT/zypper"

mkrpm() { # name version destdir
	spec=$W/$1-$2.spec
	{
		echo "Name: $1"
		echo "Version: $2"
		echo "Release: 1"
		echo "Summary: patchrun capture package $1"
		echo "License: MIT"
		echo "BuildArch: x86_64"
		echo "%description"
		echo "patchrun capture package."
		echo "%files"
	} >"$spec"
	rpmbuild -bb --quiet --define "_topdir $W/top" "$spec" >/dev/null 2>&1
	mkdir -p "$3"
	mv "$W"/top/RPMS/x86_64/"$1"-*.rpm "$3"/
}
for p in labssl labcurl labtool labdoc labnodate labplain; do
	mkrpm $p 1.0 "$W/old"
	mkrpm $p 1.1 "$W/repo"
done
createrepo_c --quiet "$W/repo"

pkg() { # name
	echo "      <package name=\"$1\" version=\"1.1\" release=\"1\" epoch=\"0\" arch=\"x86_64\" src=\"$1-1.1-1.src.rpm\"><filename>$1-1.1-1.x86_64.rpm</filename></package>"
}
cve() { # id
	echo "      <reference href=\"https://example.invalid/$1\" id=\"$1\" type=\"cve\" title=\"$1\"/>"
}
update() { # type id title severity issued updated packages... (empty = absent)
	type=$1 id=$2 title=$3 sev=$4 issued=$5 updated=$6
	shift 6
	echo "  <update from=\"lab@example.invalid\" status=\"final\" type=\"$type\" version=\"2\">"
	echo "    <id>$id</id>"
	echo "    <title>$title</title>"
	[ -n "$sev" ] && echo "    <severity>$sev</severity>"
	echo "    <release>Lab</release>"
	[ -n "$issued" ] && echo "    <issued date=\"$issued\"/>"
	[ -n "$updated" ] && echo "    <updated date=\"$updated\"/>"
	echo "    <references>"
	cat "$W/refs"
	echo "    </references>"
	echo "    <description>$title.</description>"
	echo "    <pkglist><collection short=\"lab\"><name>Lab</name>"
	for p in "$@"; do pkg "$p"; done
	echo "    </collection></pkglist>"
	echo "  </update>"
}
{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<updates>'
	{
		cve CVE-2024-1111
		cve CVE-2023-9999
		echo '      <reference href="https://example.invalid/show_bug.cgi?id=42" id="42" type="bugzilla" title="a bug"/>'
	} >"$W/refs"
	update security LAB-2024:0101 "Critical: labssl security update" Critical "2024-03-04 05:06:07" "2024-03-05 00:00:00" labssl labcurl
	cve CVE-2024-2222 >"$W/refs"
	update security LAB-2024:0102 "Moderate: labcurl security update" Moderate "2024-04-01 00:00:00" "" labcurl
	: >"$W/refs"
	update bugfix LAB-2024:0103 "labtool bug fix update" "" "2024-05-02 00:00:00" "" labtool
	update enhancement LAB-2024:0104 "labdoc enhancement update" "" "2024-06-03 00:00:00" "" labdoc
	update security LAB-2024:0105 "labnodate security update" "" "" "" labnodate
	echo '</updates>'
} >"$W/updateinfo.xml"
modifyrepo_c --mdtype=updateinfo "$W/updateinfo.xml" "$W/repo/repodata" >/dev/null
cp "$W/updateinfo.xml" "$OUT/dnf/advisories-updateinfo.xml"

mkdir -p "$W/root"
rpm --root "$W/root" --initdb
rpm --root "$W/root" -i --nodeps --nosignature "$W"/old/*.rpm 2>/dev/null

capture() { # file command...: stdout, stderr and exit status of a real run
	f=$1
	shift
	set +e
	LANG=C LC_ALL=C "$@" >"$f.stdout" 2>"$f.stderr"
	echo $? >"$f.exit"
	set -e
}

# ---- dnf 4: the two listings CmdRPMAdvisories sends in one round trip ----
DNF="dnf --installroot=$W/root --releasever=lab --setopt=reposdir=/nonexistent --repofrompath=lab,file://$W/repo --repo=lab --setopt=gpgcheck=0 --setopt=cachedir=$W/dnfcache"
$DNF -q -y makecache >/dev/null
capture "$OUT/dnf/advisories-check-update" $DNF -q -y check-update
capture "$OUT/dnf/advisories-list" $DNF -q -v updateinfo list --updates
capture "$OUT/dnf/advisories-cves" $DNF -q updateinfo list --updates --with-cve
capture "$OUT/dnf/advisories-info" $DNF -q updateinfo info --updates

# ---- zypper: list-patches (XML), then info on the needed patches ----
Z="zypper --root $W/root -n"
$Z addrepo --no-gpgcheck "file://$W/repo" lab >/dev/null
$Z refresh >/dev/null
capture "$OUT/zypper/advisories-list-updates" $Z --xmlout list-updates
capture "$OUT/zypper/advisories-list-patches" $Z --xmlout list-patches
capture "$OUT/zypper/advisories-patch-info" $Z info -t patch LAB-2024:0101 LAB-2024:0102 LAB-2024:0103 LAB-2024:0104 LAB-2024:0105

for f in "$OUT"/dnf/advisories-* "$OUT"/zypper/advisories-*; do sed -i "s#$W#/tmp/lab#g" "$f"; done
echo "captured into $OUT/{dnf,zypper}/advisories-*"
