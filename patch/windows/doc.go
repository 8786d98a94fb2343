// Package windows is patchrun's Windows Update backend: it implements
// patch.Backend over a WinRM transport that can run PowerShell
// (transport/winrm's Client).
//
// Every remote step is a PowerShell script embedded from scripts/*.ps1. A
// script starts with a marker line ("# patchrun-script: NAME") so that a
// simulated host (internal/winsim) can recognise it, takes its arguments
// from $PatchrunArgs (JSON, inserted by Compose), and reports its result
// only through Write-PatchrunResult (a framed line of base64 JSON, see
// ParseFramed), so banners and warnings cannot break parsing. The framing
// lives here, with the scripts; transport/winrm only runs PowerShell.
//
// Windows Update refuses to download or install from a WinRM logon, so
// Install registers a one-off scheduled task running as SYSTEM, which writes
// a status file (phase, heartbeat, per-update results) that Install polls.
// The poll survives dropped connections: the task keeps running on the host,
// and the next poll (a new HTTP connection) reads where it got to.
package windows
