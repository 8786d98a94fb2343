# Sourced by .ci/run (as root): install Debian's PostgreSQL, start a server
# listening on loopback only, create a role and a database for the history
# store's conformance suite, and export PATCHRUN_TEST_POSTGRES (the suite
# fails under CI=true without it). The password is random per CI run and
# never printed.
if ! command -v pg_lsclusters >/dev/null; then
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
fi
pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
# awk reads all of pg_lsclusters' output (no early exit, so no SIGPIPE
# under pipefail) and succeeds when the cluster is listed.
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {found = 1} END {exit !found}'; then
	pg_createcluster "$pg_version" main
fi
pg_conftool "$pg_version" main remove listen_addresses
echo "listen_addresses = '127.0.0.1'" >"/etc/postgresql/$pg_version/main/conf.d/patchrun-ci.conf"
pg_port="$(pg_conftool -s "$pg_version" main show port)"
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" && $4 == "online" {found = 1} END {exit !found}'; then
	pg_ctlcluster "$pg_version" main start
fi
pg_password="$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')"
su postgres -c "psql -q -v ON_ERROR_STOP=1 -p $pg_port" <<SQL
SELECT 'CREATE ROLE patchrun_test LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'patchrun_test') \gexec
ALTER ROLE patchrun_test PASSWORD '$pg_password';
SELECT 'CREATE DATABASE patchrun_test OWNER patchrun_test' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'patchrun_test') \gexec
SQL
export PATCHRUN_TEST_POSTGRES="postgres://patchrun_test:${pg_password}@127.0.0.1:${pg_port}/patchrun_test?sslmode=disable"

echo "PostgreSQL $pg_version on 127.0.0.1 for the history store suite (PATCHRUN_TEST_POSTGRES)"
unset pg_version pg_port pg_password
