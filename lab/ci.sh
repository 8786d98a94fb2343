#!/bin/bash
# The lab's CI entry point; .ci/run calls `bash lab/ci.sh` as root.
# It runs patchrun's end-to-end tests against a real lab of
# PATCHRUN_LAB_HOSTS (default 20) hosts with CI semantics (the tests fail
# rather than skip), checks that they really ran, and always tears the lab
# down and verifies that nothing is left. Prerequisites (mmdebstrap,
# iproute2, nftables, apt-utils, openssh-client, zstd) are installed from
# Debian's archive by `lab up` itself when missing; Go must be installed.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
[ "$(id -u)" -eq 0 ] || { echo "lab/ci.sh: must run as root" >&2; exit 1; }
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
export CI=true PATCHRUN_LAB=1 PATCHRUN_LAB_HOSTS=${PATCHRUN_LAB_HOSTS:-20}
export LAB_NAME=prlabe2e # the name e2e/lab_test.go uses

log=$(mktemp)
finish() {
	status=$?
	# A no-op that re-checks the machine when the tests tore down already.
	lab/lab down || status=1
	rm -f "$log"
	exit "$status"
}
trap finish EXIT

start=$SECONDS
go test -race -count=1 -v -timeout 20m ./e2e/ 2>&1 | tee "$log"
if ! grep -q '^--- PASS: TestLab ' "$log" || grep -q -- '--- SKIP' "$log"; then
	echo "lab/ci.sh: the lab tests did not run and pass (skipped or missing)" >&2
	exit 1
fi
echo "lab/ci.sh: e2e lab tests passed in $((SECONDS - start)) s"
