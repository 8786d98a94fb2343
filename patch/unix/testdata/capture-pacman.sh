#!/bin/sh
# Captures real pacman output for the pacman parser tests. See CAPTURE.md.
# Builds tiny packages (a .PKGINFO and one file, tarred: pacman reads any
# libarchive format), installs the old versions into a throwaway root,
# publishes newer ones in a file:// repository made with repo-add, and runs
# the backend's checkupdates-style scan (-Sy into a separate db path whose
# local db is a symlink to the root's, then -Qu on that db path), then the
# full upgrade. Needs pacman-package-manager and libarchive-tools (bsdtar,
# which repo-add uses). Run as root.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)/pacman
W=/tmp/lab
rm -rf "$W"
mkdir -p "$OUT" "$W/repo" "$W/root/var/lib/pacman" "$W/root/var/log"
trap 'rm -rf "$W"' EXIT

mkpkg() { # name version
	d=$(mktemp -d)
	mkdir -p "$d/usr/share/doc/$1"
	echo "$1 $2" >"$d/usr/share/doc/$1/README"
	printf 'pkgname = %s\npkgbase = %s\npkgver = %s\npkgdesc = patchrun capture package %s\nurl = https://example.invalid\nbuilddate = 1733400000\npackager = patchrun lab\nsize = 10\narch = x86_64\nlicense = MIT\n' "$1" "$1" "$2" "$1" >"$d/.PKGINFO"
	(cd "$d" && tar -czf "$W/repo/$1-$2-x86_64.pkg.tar.gz" .PKGINFO usr)
	rm -rf "$d"
}
cat >"$W/pacman.conf" <<C
[options]
Architecture = x86_64
SigLevel = Never
LocalFileSigLevel = Never
[core]
SigLevel = Never
Server = file://$W/repo
C
P="pacman --config $W/pacman.conf --root $W/root"
cap() { # name command...
	n=$1
	shift
	set +e
	LANG=C LC_ALL=C "$@" >"$OUT/$n.stdout" 2>"$OUT/$n.stderr" </dev/null
	echo $? >"$OUT/$n.exit"
	set -e
}

# Installed: the old versions.
mkpkg openssl 3.4.0-1
mkpkg linux 6.12.1.arch1-1
mkpkg curl 8.11.0-1
mkpkg sudo 1.9.16-1
$P --dbpath "$W/root/var/lib/pacman" -U --noconfirm "$W"/repo/*.pkg.tar.gz >/dev/null
rm "$W"/repo/*.pkg.tar.gz

# Published: newer openssl, linux, curl; sudo unchanged.
mkpkg openssl 3.4.1-1
mkpkg linux 6.12.4.arch1-1
mkpkg curl 8.11.1-2
mkpkg sudo 1.9.16-1
repo-add -q "$W/repo/core.db.tar.gz" "$W"/repo/*.pkg.tar.gz

DB=$W/db
mkdir -p "$DB"
ln -sf "$W/root/var/lib/pacman/local" "$DB/local"
cap sync $P -Sy --dbpath "$DB" --logfile /dev/null
cap query-upgrades $P -Qu --dbpath "$DB"
# The host's own sync db was never touched: no partial upgrade.
cap query-upgrades-hostdb $P -Qu --dbpath "$W/root/var/lib/pacman"
cap query-linux $P -Q --dbpath "$W/root/var/lib/pacman" linux
cap upgrade $P -Syu --noconfirm --dbpath "$W/root/var/lib/pacman"
cap query-upgrades-none $P -Qu --dbpath "$W/root/var/lib/pacman"
cap log tail -n 3 "$W/root/var/log/pacman.log"
pacman --version | sed -n 's/.*\(Pacman v[^ ]*\).*/\1/p' >"$OUT/VERSION"
