// Package winsim is a simulated Windows host behind internal/winrmemu's
// WinRM emulator, for tests and `patchrun demo`. It understands exactly
// what patchrun sends: PowerShell as -EncodedCommand, the chunked upload
// steps of transport/winrm (echo … > file, the decode-and-hash step, -File
// runs, del), the embedded scripts of patch/windows (recognised by their
// "# patchrun-script: NAME" marker) and a tiny cmd.exe subset. Behind it
// sits Windows Update state: pending updates, a SYSTEM scheduled task that
// installs asynchronously over simulated time, pending-reboot signals, and
// a LastBootUpTime that changes across a reboot with a down-time during
// which the listener refuses connections.
package winsim
