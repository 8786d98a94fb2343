// Package advisory reads vulnerability data from files — OSV records
// (osv.dev's JSON schema, a directory or a zip of *.json as in its
// ecosystem exports), CISA's known-exploited list and FIRST's EPSS scores
// — and matches it against a host's packages with each ecosystem's own
// version ordering (dpkg, rpm, apk), to attach CVEs, severity, the
// known-exploited flag and EPSS to pending updates and to name installed
// packages that are vulnerable with no update yet. It reads files only;
// nothing is fetched.
package advisory
