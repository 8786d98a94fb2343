#!/bin/sh
# Captures dnf check-update output whose columns overflow and wrap (see
# CAPTURE.md): dnf lays its table out for 80 columns when stdout is not a
# terminal, and a name.arch or a version too wide for its column ends that
# line, the rest following on an indented line. Needs rpm (rpmbuild),
# createrepo-c, dnf.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT/dnf"

mkrpm() { # name version release arch destdir
	spec=$W/$1-$2.spec
	printf '%s\n' "Name: $1" "Version: $2" "Release: $3" "Summary: patchrun capture package $1" \
		"License: MIT" "BuildArch: $4" "%description" "patchrun capture package." "%files" >"$spec"
	rpmbuild -bb --quiet --define "_topdir $W/top" "$spec" >/dev/null 2>&1
	mkdir -p "$5"
	mv "$W"/top/RPMS/"$4"/"$1"-*.rpm "$5"/
}
LONG=python3-patchrun-capture-plugin-with-a-very-long-package-name
mkrpm "$LONG" 1.0 1 noarch "$W/old"
mkrpm labver 1.0 1 x86_64 "$W/old"
mkrpm labtool 1.0 1 noarch "$W/old"
mkrpm "$LONG" 1.1 1 noarch "$W/repo"
mkrpm labver 5.15.0.205.149.5.1.2024051401 205.149.5.1.el9uek.lab.long.release x86_64 "$W/repo"
mkrpm labtool 1.1 1 noarch "$W/repo"
createrepo_c --quiet "$W/repo"

mkdir -p "$W/root"
rpm --root "$W/root" --initdb
rpm --root "$W/root" -i --nodeps --nosignature "$W"/old/*.rpm
DNF="dnf --installroot=$W/root --releasever=lab --setopt=reposdir=/nonexistent --repofrompath=lab,file://$W/repo --repo=lab --setopt=gpgcheck=0 --setopt=cachedir=$W/dnfcache"
f=$OUT/dnf/check-update-wrapped
set +e
$DNF -q -y makecache >/dev/null 2>&1
LANG=C LC_ALL=C $DNF -q -y check-update </dev/null >"$f.stdout" 2>"$f.stderr"
echo $? >"$f.exit"
set -e
sed -i "s#$W#/tmp/lab#g" "$f".*
echo "captured $f.*"
