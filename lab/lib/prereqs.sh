# shellcheck shell=bash
# Installs, from Debian's archive, the host tools the lab uses, only when a
# command is missing. The guest's sshd comes from the mmdebstrap root, so the
# machine itself needs only the OpenSSH client tools (installing
# openssh-server here would start a system sshd the lab never uses).

ensure_prereqs() {
	local -A pkg_of=(
		[mmdebstrap]=mmdebstrap
		[dpkg-deb]=dpkg
		[apt-ftparchive]=apt-utils
		[ip]=iproute2
		[nft]=nftables
		[ssh-keygen]=openssh-client
		[ssh-keyscan]=openssh-client
		[ssh]=openssh-client
		[zstd]=zstd
		[nsenter]=util-linux
		[unshare]=util-linux
	)
	local cmd missing=()
	for cmd in "${!pkg_of[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_of[$cmd]}")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -q update >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}
