# shellcheck shell=bash
# The lab's apt repository: tiny real .deb packages (dpkg-deb) published with
# apt-ftparchive in three suites. It lives in the state dir and each host
# bind-mounts it read-only at /srv/labrepo, so new versions can be published
# while the hosts run (`lab repo publish 1.2`).
#
#   labconf  update in lab-updates; changes a conffile the hosts modified
#            locally; its postinst flags /run/reboot-required
#   labsec   update only in lab-security (the suite name says -security)
#   labslow  a slow install: 1.0 on the hosts, no update until `lab repo slow
#            VERSION [SECONDS]` publishes one in lab-updates whose postinst
#            takes SECONDS (default 20), printing a line a second, so a test
#            can cut the SSH session in the middle of a transaction

REPO_SUITES=(lab lab-updates lab-security)
REPO_GUEST_DIR=/srv/labrepo

# build_deb NAME VERSION OUTDIR [SECONDS]: SECONDS is labslow's postinst time.
build_deb() {
	local name=$1 version=$2 out=$3 secs=${4:-0} d
	d=$(mktemp -d "$LAB_STATE/build.XXXXXX")
	mkdir -p "$d/DEBIAN" "$d/usr/share/$name"
	printf '%s\n' "$version" >"$d/usr/share/$name/version"
	local desc="patchrun lab package"
	case $name in
	labconf)
		desc="patchrun lab: update changes a conffile and needs a reboot"
		mkdir -p "$d/etc/labconf"
		printf '# labconf %s default configuration\nsetting=%s\n' "$version" "$version" >"$d/etc/labconf/labconf.conf"
		printf '/etc/labconf/labconf.conf\n' >"$d/DEBIAN/conffiles"
		if [ "$version" != 1.0 ]; then
			cat >"$d/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	touch /run/reboot-required
	echo labconf >>/run/reboot-required.pkgs
fi
POSTINST
			chmod 0755 "$d/DEBIAN/postinst"
		fi
		;;
	labsec) desc="patchrun lab: update published only in the security suite" ;;
	labslow)
		desc="patchrun lab: an update whose configuration takes $secs seconds"
		# It marks its start and end under /run (for tests to see how far it
		# got) and writes to stdout every second: a package manager still
		# tied to a closed SSH session dies of SIGPIPE here, half-configured.
		cat >"$d/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
	echo $version >/run/labslow.configuring
	i=0
	while [ "\$i" -lt $secs ]; do
		i=\$((i + 1))
		echo "labslow: configuring, \$i of $secs seconds"
		sleep 1
	done
	echo $version >/run/labslow.configured
fi
POSTINST
		chmod 0755 "$d/DEBIAN/postinst"
		;;
	*) die "unknown lab package $name" ;;
	esac
	cat >"$d/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: all
Maintainer: patchrun lab <lab@patchrun.invalid>
Section: misc
Priority: optional
Description: $desc
 Built by lab/lib/repo.sh for patchrun's end-to-end tests.
CONTROL
	mkdir -p "$out"
	dpkg-deb --root-owner-group --build "$d" "$out/${name}_${version}_all.deb" >/dev/null ||
		die "dpkg-deb $name $version failed"
	rm -rf --one-file-system "$d"
}

# repo_index regenerates Packages and Release for every suite.
repo_index() {
	local repo=$LAB_STATE/repo arch suite label tmp
	arch=$(dpkg --print-architecture)
	for suite in "${REPO_SUITES[@]}"; do
		mkdir -p "$repo/pool/$suite" "$repo/dists/$suite/main/binary-$arch"
		(cd "$repo" && apt-ftparchive packages "pool/$suite") >"$repo/dists/$suite/main/binary-$arch/Packages" ||
			die "apt-ftparchive packages $suite failed"
		gzip -9nkf "$repo/dists/$suite/main/binary-$arch/Packages"
		case $suite in
		*-security) label=Lab-Security ;;
		*-updates) label=Lab-Updates ;;
		*) label=Lab ;;
		esac
		tmp=$(mktemp "$LAB_STATE/release.XXXXXX")
		apt-ftparchive \
			-o APT::FTPArchive::Release::Origin=Lab \
			-o APT::FTPArchive::Release::Label="$label" \
			-o APT::FTPArchive::Release::Suite="$suite" \
			-o APT::FTPArchive::Release::Codename="$suite" \
			-o APT::FTPArchive::Release::Architectures="$arch all" \
			-o APT::FTPArchive::Release::Components=main \
			release "$repo/dists/$suite" >"$tmp" || die "apt-ftparchive release $suite failed"
		chmod 0644 "$tmp"
		mv "$tmp" "$repo/dists/$suite/Release"
	done
}

# repo_init builds 1.0 (base suite) and the first round of updates.
repo_init() {
	build_deb labconf 1.0 "$LAB_STATE/repo/pool/lab"
	build_deb labsec 1.0 "$LAB_STATE/repo/pool/lab"
	build_deb labslow 1.0 "$LAB_STATE/repo/pool/lab"
	repo_publish 1.1
}

# repo_publish VERSION: a new round of updates (labconf in lab-updates,
# labsec in lab-security).
repo_publish() {
	[[ $1 =~ ^[0-9]+\.[0-9]+$ ]] || die "version must look like 1.2, got '$1'"
	build_deb labconf "$1" "$LAB_STATE/repo/pool/lab-updates"
	build_deb labsec "$1" "$LAB_STATE/repo/pool/lab-security"
	repo_index
}

# repo_slow VERSION [SECONDS]: publish labslow VERSION (lab-updates), whose
# configuration takes SECONDS (default 20).
repo_slow() {
	[[ $1 =~ ^[0-9]+\.[0-9]+$ ]] || die "version must look like 1.2, got '$1'"
	local secs=${2:-20}
	[[ $secs =~ ^[0-9]+$ ]] || die "seconds must be a whole number, got '$secs'"
	build_deb labslow "$1" "$LAB_STATE/repo/pool/lab-updates" "$secs"
	repo_index
}

# repo_sources prints the deb822 sources file the guests use.
repo_sources() {
	cat <<SOURCES
# patchrun lab repository (bind-mounted from the lab's state dir)
Types: deb
URIs: file:$REPO_GUEST_DIR
Suites: ${REPO_SUITES[*]}
Components: main
Trusted: yes
SOURCES
}
