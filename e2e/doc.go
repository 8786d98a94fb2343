// Package e2e holds patchrun's end-to-end tests: they build the real
// patchrun binary and drive it against the real multi-host lab of lab/
// (Debian hosts in namespaces with real sshd, apt and dpkg, and reboots that
// kill every process of a host). They need root and a few minutes, so they
// run only when PATCHRUN_LAB=1 or CI=true; elsewhere they skip and say how
// to run them. See lab/README.md.
package e2e
