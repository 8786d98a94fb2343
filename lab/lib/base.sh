# shellcheck shell=bash
# The shared Debian root every host overlays. Built once with mmdebstrap and
# cached as tar.zst, keyed by suite and package list, so later runs only
# unpack it (seconds instead of a download).

base_tarball() {
	local key
	key=$(printf '%s\n' "$LAB_SUITE" "$LAB_INCLUDE" "$(dpkg --print-architecture)" | sha256sum | cut -c1-12)
	printf '%s/base-%s-%s.tar.zst' "$LAB_CACHE" "$LAB_SUITE" "$key"
}

# ensure_base builds the cached tarball when missing and prints its path.
ensure_base() {
	local tarball tmp t0
	tarball=$(base_tarball)
	if [ -s "$tarball" ]; then
		printf '%s' "$tarball"
		return 0
	fi
	mkdir -p "$LAB_CACHE"
	tmp=$(mktemp -d "$LAB_CACHE/build.XXXXXX")
	t0=$(now)
	say "building base root ($LAB_SUITE minbase + $LAB_INCLUDE) with mmdebstrap"
	if ! mmdebstrap --quiet --variant=minbase --mode=root --include="$LAB_INCLUDE" \
		"$LAB_SUITE" "$tmp/root" >&2; then
		rm -rf --one-file-system "$tmp"
		die "mmdebstrap failed"
	fi
	tar -C "$tmp/root" --numeric-owner -cf - . | zstd -q -T0 -3 -o "$tmp/base.tar.zst" ||
		{ rm -rf --one-file-system "$tmp"; die "packing the base root failed"; }
	mv "$tmp/base.tar.zst" "$tarball"
	rm -rf --one-file-system "$tmp"
	say "base root built in $(elapsed "$t0") s: $tarball ($(du -h "$tarball" | cut -f1))"
	printf '%s' "$tarball"
}

# unpack_base TARBALL DIR
unpack_base() {
	mkdir -p "$2"
	zstd -q -dc "$1" | tar -C "$2" --numeric-owner -xpf - || die "unpacking $1 failed"
}
