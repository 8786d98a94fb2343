// Package fleet simulates a fleet of Linux hosts, each served by its own
// in-process SSH server on 127.0.0.1, for tests, benchmarks and
// `patchrun demo`. It is pure Go (no shell, no real package manager runs) and
// works on Linux, macOS and Windows.
//
// # Starting
//
//	f, err := fleet.Start(ctx, fleet.Config{Count: 12})       // spread over Distros()
//	f, err := fleet.Start(ctx, fleet.Config{PerDistro: map[fleet.Distro]int{fleet.Debian12: 3}})
//	f, err := fleet.Start(ctx, fleet.Config{Hosts: []fleet.HostSpec{{Name: "web1", Distro: fleet.Rocky9}}})
//	defer f.Close()                                          // joins every goroutine
//	inv, err := f.WriteInventory(dir)                        // inventory.yaml + id_ed25519 + known_hosts
//
// Each host listens on its own random port and keeps it across reboots.
// The servers accept one user (Config.User, default root) with the fleet's
// client key (ClientKey, written to id_ed25519) or Config.Password.
// ClientConfig returns a ready x/crypto/ssh client config with strict host
// key checking.
//
// # Hosts
//
// A SimHost has a distro profile (Debian 12 and Ubuntu 24.04 with apt,
// Rocky 9 with dnf 4, openSUSE Leap 15.5 with zypper, Alpine 3.20 with apk
// and OpenRC instead of systemd, Arch Linux with pacman), a virtual filesystem
// (/etc/os-release, /proc/sys/kernel/random/boot_id, /run/reboot-required
// and .pkgs, /run/reboot-needed, /lib/modules/<kernel>, …), installed
// packages and the updates its repositories offer: security ones (openssl,
// curl, …), a kernel that needs a reboot, ordinary ones. Installing moves
// versions, installs the new kernel beside the old, sets the distro's
// reboot signals; a rescan then finds nothing. Inspection: BootID, Installed,
// Pending, RebootRequired, Kernel, Reboots, CommandsSeen; AddUpdate publishes
// another update (a second patch round).
//
// # Commands
//
// A mini-shell (see shell_parse.go) runs each "exec" request: `;`, `&&`,
// `||`, `|`, a trailing `&`, VAR=value prefixes, redirections, quotes,
// $VAR and $(…). Programs: echo, printf, cat, test/[, command -v, true,
// false, exit, uname, id, whoami, hostname, uptime, who, date, sleep, ls,
// grep, tail, sort, ip -o addr, health-check and hook (for patch's health
// checks and hooks: rollout.go),
// mkdir, rm, touch, chmod, env, sudo -n, nohup, timeout, sh/bash -c,
// systemctl, systemd-run, reboot, poweroff, shutdown; per distro apt-get,
// apt, dpkg, dpkg-query / dnf, yum, rpm, needs-restarting / zypper, rpm /
// apk, stat / pacman, ln. apk and pacman replace a kernel in place: the
// running kernel's /lib/modules directory goes with the upgrade.
// Package-manager output follows real captures (patch/unix/testdata).
// patchrun's detached jobs (`sh -s -- patchrun-job start|wait|clean …` with
// patch/unix's job script on stdin) are answered in Go (jobs.go): the job
// runs in the background for the rest of the boot, a second start is
// refused while one runs, and RunningJobs/Jobs show them.
// Anything else prints "sh: 1: X: not found" and exits 127.
//
// # Time
//
// Delays a command names (sleep 5, systemd-run --on-active=5, shutdown -r
// +1, lock timeouts) are multiplied by Config.TimeScale. A reboot takes
// RebootDelay to cut the link, then the host is down (connections refused)
// for DownTime and boots with a new boot id, an empty /run and the newest
// kernel; packages on "disk" stay.
//
// # Faults
//
// Faults (Config.Faults, HostSpec.Faults, SimHost.SetFaults/UpdateFaults):
// RejectAuth, ChangedHostKey, DropDuringInstall (inside a detached job it
// cuts the connection and the transaction goes on), NeverReturn, Latency,
// LockHeld, HandshakeResets, ModifiedConffile, Unhealthy, UnhealthyChecks,
// FailHook. SimHost.Reboot power-cycles
// a host from outside.
package fleet
