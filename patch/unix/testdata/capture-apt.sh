#!/bin/sh
# Captures real apt-get output for the apt parser tests. See CAPTURE.md.
# Builds tiny .debs at 1.0 and 1.1, publishes them in a file: repo with a
# "lab" suite (label Lab) and a "lab-security" suite (label Lab-Security),
# and runs this machine's apt-get against a throwaway apt root whose fake
# dpkg status lists the 1.0 versions as installed. Needs dpkg-dev, apt-utils.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)/apt
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"

mkdeb() { # name version depends suite
	d=$W/src/$1-$2
	mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1" "$W/repo/pool/$4"
	{
		echo "Package: $1"
		echo "Version: $2"
		echo "Architecture: all"
		echo "Maintainer: patchrun lab <lab@example.invalid>"
		[ -n "$3" ] && echo "Depends: $3"
		echo "Description: patchrun capture package $1"
	} >"$d/DEBIAN/control"
	echo "$1 $2" >"$d/usr/share/doc/$1/VERSION"
	dpkg-deb --root-owner-group --build "$d" "$W/repo/pool/$4/$1_$2_all.deb" >/dev/null
}

# 1.0: what the fake host has installed (only used to write the status file).
# 1.1: the pending updates.
mkdeb labtool 1.1 "labdep" lab          # plain update that pulls in a NEW package
mkdeb labdep 1.0 "" lab                  # the new dependency (Inst without [current])
mkdeb labsec 1.1 "" lab-security         # security-only update
mkdeb labboth 2:1.1-1 "" lab             # epoch + revision, in both suites
mkdeb labboth 2:1.1-1 "" lab-security
mkdeb linux-image-lab 6.1.99-1 "" lab-security

publish() { # suite label
	mkdir -p "$W/repo/dists/$1/main/binary-amd64" "$W/repo/dists/$1/main/binary-all"
	(cd "$W/repo" && apt-ftparchive packages "pool/$1") >"$W/repo/dists/$1/main/binary-amd64/Packages"
	cp "$W/repo/dists/$1/main/binary-amd64/Packages" "$W/repo/dists/$1/main/binary-all/Packages"
	(cd "$W/repo/dists/$1" && apt-ftparchive \
		-o APT::FTPArchive::Release::Origin="$2" \
		-o APT::FTPArchive::Release::Label="$2" \
		-o APT::FTPArchive::Release::Suite="$1" \
		-o APT::FTPArchive::Release::Codename="$1" \
		-o APT::FTPArchive::Release::Architectures="amd64 all" \
		-o APT::FTPArchive::Release::Components=main \
		release .) >"$W/Release" && mv "$W/Release" "$W/repo/dists/$1/Release"
}
publish lab Lab
publish lab-security Lab-Security

R=$W/root
mkdir -p "$R/etc/apt/sources.list.d" "$R/etc/apt/apt.conf.d" "$R/etc/apt/preferences.d" \
	"$R/var/lib/apt/lists/partial" "$R/var/cache/apt/archives/partial" "$R/var/lib/dpkg" "$R/var/log/apt"
cat >"$R/etc/apt/sources.list" <<SRC
deb [trusted=yes] file:$W/repo lab main
deb [trusted=yes] file:$W/repo lab-security main
SRC
status() { # name version [depends]
	cat <<ST
Package: $1${3:+
Depends: $3}
Status: install ok installed
Priority: optional
Maintainer: patchrun lab <lab@example.invalid>
Architecture: all
Version: $2
Description: patchrun capture package $1

ST
}
{
	status labtool 1.0
	status labsec 1.0
	status labboth 2:1.0-1
	status linux-image-lab 6.1.90-1
} >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"

APT="apt-get -o Dir=$R -o Dir::State::status=$R/var/lib/dpkg/status -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
LANG=C LC_ALL=C $APT -q update >/dev/null
apt-get --version | head -1 >"$OUT/VERSION"
# The scan command the backend sends (CmdAptScan), against the lab root.
LANG=C LC_ALL=C $APT -s dist-upgrade >"$OUT/dist-upgrade-s.txt"
# Nothing pending: the same after marking everything current.
{
	status labtool 1.1 labdep
	status labdep 1.0
	status labsec 1.1
	status labboth 2:1.1-1
	status linux-image-lab 6.1.99-1
} >"$R/var/lib/dpkg/status"
LANG=C LC_ALL=C $APT -s dist-upgrade >"$OUT/dist-upgrade-s-none.txt"
# A failure: asking to upgrade a package apt does not know (exit 100).
set +e
LANG=C LC_ALL=C $APT -s install --only-upgrade no-such-package >"$OUT/install-unknown.stdout" 2>"$OUT/install-unknown.stderr"
echo $? >"$OUT/install-unknown.exit"
set -e
# This machine's own Debian 12 apt, which has real pending updates (some
# from Debian-Security): the same scan command, unchanged.
LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade >"$OUT/dist-upgrade-s-debian12.txt"
# Paths of the throwaway dir would make the captures differ per run.
sed -i "s#$W#/tmp/lab#g" "$OUT"/*
echo "captured into $OUT"
