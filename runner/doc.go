// Package runner drives a patch run across many hosts: a worker pool for the
// per-host phases (connect → facts → scan → install), a reboot orchestrator
// that works in batches under a failure budget, and typed events for
// progress, logs and results. It knows no concrete transport, backend or UI.
//
// # Flow
//
// Run first validates the Plan; a bad plan is the only error it returns.
// Everything that goes wrong on a host is a report.HostResult, never an error.
//
// Pool phase: Plan.Forks workers take hosts in inventory order. Per host:
// connect (Dialer.Dial bounded by the connect timeout; a host's own
// ConnectTimeout wins) → facts (DetectFunc, then Backend.Facts) → refresh (if
// Plan.Refresh) → scan → selection (Plan.Selection.Filter, or a saved plan:
// Plan.Planned, see planned.go) → install. Each
// phase gets its own context.WithTimeout of Plan.StepTimeout, except install,
// which gets InstallTimeoutFactor × StepTimeout because package managers and
// Windows Update legitimately run long. One Transport is opened per host and
// reused by all of its phases; it is closed as soon as the host needs it no
// more, and when the host starts waiting for its reboot batch (the batch
// redials), so open connections never exceed Forks plus one batch.
//
// Per command:
//   - scan: connect, facts, refresh, scan. Never installs or reboots.
//   - patch: all phases, then reboot orchestration. Nothing selected → no
//     install. Reboot policy: always → every successfully patched host, even
//     with nothing installed; if-required → hosts whose facts, install result
//     or post-install Backend.RebootRequired say so (reasons recorded);
//     never → none, but reboot_required is reported.
//   - reboot: connect, facts; with OnlyIfRequired, hosts whose facts say no
//     reboot is needed end ok (not rebooted); the rest go to batches. After
//     the reboot only the pending-reboot flag is rechecked (no rescan); a
//     host on which it is still set fails ("still requires a reboot after 1
//     reboot").
//   - facts: connect, facts; each host ends ok with its facts. Read-only:
//     no refresh, no scan.
//   - exec: connect, run Plan.ExecCommand through the transport, keep at most
//     Plan.ExecMaxOutput bytes per stream; a non-zero exit fails the host with
//     "exit code N" (ErrorKind "exit-code").
//
// report.HostResult.Updates lists every pending update the scan found; those
// the selection picked (in any round, and in a dry-run) carry Selected, and
// after an install Installed or Error. Dry-run installs and
// reboots nothing: updates stay Installed=false, WouldInstall names the
// selected updates, and WouldReboot is computed (always → true; if-required →
// the host already requires a reboot or a selected update is known to need
// one; never → false). Refresh still runs in a dry-run when asked: it changes
// package metadata only, and a dry-run against a stale index would lie.
//
// Errors: dial failures end a host unreachable, except authentication and
// host-key failures, which end it failed (ErrorKind "auth" / "host-key"):
// those are not network trouble and retrying cannot help. Other failures end
// a host failed with report.HostResult.Phase set to where it happened; ErrorKind is
// the transport kind (e.g. "connection-lost"), "timeout" for a phase past its
// deadline, "unsupported", "command-failed", "exit-code", "reboot-timeout",
// "update-loop", "install", "still-reboot-required", "interrupted" or
// "internal" (a backend or transport panicked: the panic is recovered and
// fails only that host, because killing the process would also kill other
// hosts' package managers mid-transaction).
// Selected updates that report an Error fail the host ("install") unless a
// later install round installs them.
//
// # Reboots
//
// After the pool phase, hosts that need a reboot are put, in inventory order,
// into batches sized by Plan.Batches: batch k has Batches[k-1].Of(number of
// such hosts) hosts (at least 1), the last size repeating. Each
// batch starts with EventBatch; its hosts reboot in parallel and the next
// batch starts only when every host of the current one is back and verified,
// or failed, and its result journaled (its lease is released meanwhile). Per host: redial, read the boot id → Backend.Reboot (a nil error, a lost
// connection or a hung reboot command all mean "maybe started": the boot id
// decides) → watch the connection that issued it (if it answered): its boot
// id is re-read with pauses of Timing.PollInterval doubling to
// Timing.PollMax until a read fails, the old boot's end → poll: connection
// attempts at once and then every Timing.PollInterval (jittered into its
// upper half) without waiting for earlier ones, each bounded by
// Timing.ProbeTimeout (at most 16 in flight; without room for a new one
// the oldest gives way after two intervals); after a minute without an
// answer the interval doubles to Timing.PollMax. From one PollInterval
// before a host is expected back (its reboot command plus the time the
// last host to come back took) until four after, the interval is a fifth
// of PollInterval and the oldest attempt gives way after one
// (docs/reboot.md).
// A dial failure means the host is down (waiting-up); the same boot id means
// it is still going down (waiting-down; the next try backs off, doubling to
// PollMax); a new boot id is followed by Backend.Ready, retried until it
// succeeds. A boot id read while polling is bounded by 6 × ProbeTimeout (at
// most StepTimeout), so a host stalled half way through its boot cannot eat
// the whole wait in one probe. Then verifying: Backend.RebootRequired and (patch) a rescan
// without refresh. The whole wait is bounded by Plan.RebootTimeout (a host's
// own RebootTimeout wins); past it the host fails with ErrorKind
// "reboot-timeout" and an Error naming the last thing seen (a probe the
// deadline cut off is named as such, not blamed on an older error). A
// changed host key while polling fails the host at once. Rejected
// credentials are retried until the deadline — right after a boot sshd may
// answer before sssd/LDAP or an automounted home is up, and WinRM before
// domain logons work — and fail the host with ErrorKind "auth" if they are
// still rejected then.
//
// Rounds (patch only): after a verified reboot, if selected updates are still
// pending and fewer than Plan.MaxRounds (0 → 3) install rounds have run, they
// are installed again within the same batch slot, followed by another reboot
// if the policy asks for one. report.HostResult.Rounds counts install rounds. If an
// update reported installed in an earlier round is pending again the host
// fails with "update loop: <names> reappeared after install". If the
// reboot-required flag is still set when no further round runs, the host
// fails with "still requires a reboot after N reboots". Selected updates that
// are still pending after the last round are listed with Selected and
// Installed=false; the
// host is not failed for them.
//
// # Rolling batches, waves and the maintenance window
//
// With Plan.Rolling the batches are not reboot batches but lifecycle
// batches: batch k takes the next Batches.Size(k, len(Plan.Hosts)) hosts
// (every host counts, whether it needs a reboot or not) and each goes
// through the whole lifecycle — the pool's phases on Forks workers, then,
// at once, its reboot cycle — and batch k+1 starts only once every host of
// batch k has ended. A host of a later batch is not even dialled before
// then. Every host of a rolling batch carries it in RebootBatch.
//
// Plan.Waves splits the hosts (inventory order within each): a host goes to
// the first wave that lists it, hosts in none to a last wave; empty waves
// are dropped. Wave n+1 starts (EventWaveStart) only once every host of
// wave n has ended (EventWaveEnd); within a wave the batches run as above
// (Rolling) or as usual (installs in parallel, reboots in batches). Batch
// numbers are the run's, and the ramp goes on across waves.
//
// Before each wave and each batch the run checks, in this order: Stop, the
// window, the budgets. Plan.WindowEnd closing (by Deps.Now) stops new work
// like Stop does, but the hosts kept from starting end skipped with
// ErrorKindWindowClosed (EventWindowClosed once, Report.WindowClosed): no
// host is handed to a pool worker and no host starts its first install
// after it; hosts past that point finish. A WindowEnd not after the start
// is refused.
//
// # Failure budget
//
// failures = hosts that ended failed so far (pool phase included);
// unreachable hosts are counted apart, against Plan.MaxUnreachable (nil: no
// limit). Before each batch, unless Plan.MaxFailures is Unlimited, if
// failures > Plan.MaxFailures.Of(len(Plan.Hosts)) — or the unreachable
// count exceeds its budget — the run halts (Report.HaltedBy says which): EventHalt, no new
// batch starts, every host still awaiting a batch ends skipped with an Error
// saying the budget was spent and that its updates are installed and its
// reboot still pending (the installed updates stay in its result), and
// Report.Halted is set. The zero Budget allows no failure. Hosts of a batch
// that already started always finish.
//
// # Interrupts
//
// Deps.Stop closing (the first Ctrl-C) stops scheduling: no new host starts
// in the pool (those end skipped, "interrupted before start"), a host in the
// pool finishes the phase it is in and then ends skipped ("interrupted before
// <next phase>") — an install already running always completes, an install
// not yet started never starts — no new reboot batch or install round starts
// (hosts waiting end skipped, "interrupted: reboot not started; …"), and
// reboot waits in flight finish. Cancelling ctx (the second Ctrl-C) aborts
// everything promptly: hosts in flight end failed with "interrupted during
// <phase>", plus a half-patched warning when the phase was installing. A
// host whose reboot was issued but not yet seen to happen gets it cancelled
// under a fresh, short context (one connect and one command; the run's is
// dead): redial, and if the boot id is unchanged, Backend.CancelReboot.
// HostResult.RebootCancel and the error say "cancelled", "may still happen"
// (the redial or the cancel failed, or nothing was left to cancel) or
// "already rebooted". Either way Report.Interrupted is set and
// EventInterrupt is emitted once.
//
// # Resuming a run
//
// Plan.Resume continues an earlier run of the same plan that was
// interrupted (see ResumeState). A host that ended (EndedForGood) is not
// contacted: its result is kept and counts in the summary and the failure
// budget. A host Skip names ends skipped without being contacted. Every
// other host continues from its last Checkpoint: not past scanning or
// installing, it runs the per-host phases again (the rescan shows what an
// interrupted install left, and only that is installed; a detached install
// would be re-attached to in resumeInstall); awaiting its batch, or picked
// for one before its boot id was read, it reconnects and awaits a batch; in
// a reboot whose boot id was recorded, it is dialled (for up to the reboot
// timeout) and its boot id read: a new one, or a connection lost while
// reading it, is waited for and verified as after any reboot; the old one is
// watched until a minute after the recorded read (a reboot scheduled a few
// seconds ahead may still come) and then rebooted in a batch, so no host is
// rebooted twice; after a verified reboot, it is rescanned and goes on as
// after that reboot. Batch numbers continue after ResumeState.Batches, and
// batch percentages count the hosts earlier batches rebooted.
//
// # Events and concurrency
//
// Every phase change is an EventPhase, every remote command an EventLog (its
// command line, exit code or error, and duration; emitted by a transport
// decorator, so Backends need not log), every finished step an EventLog with
// its duration, and every host ends with exactly one EventHostEnd.
//
// Output: a remote command that exits non-zero or loses its exit status
// carries a bounded tail of its output in its EventLog (successful ones stay
// one line); an install round's step EventLog carries the round's output
// (the backend's InstallResult.Output when it gave one, else the install
// command's tail), as does a failed step whose command succeeded but printed
// something unusable. The same tails — each install round's and the failing
// step's — are kept in report.HostResult.Output (at most report.MaxStepOutputs entries of
// 40 lines / 4 KiB), so the JSON report says why a host failed. Only tails
// of the transport's capped Result are ever kept: memory stays bounded. Observer
// calls are serialised by a mutex, so observers need no locks; no event is
// emitted after Run returns.
//
// A host's state (hostRun) and its Transport belong to one goroutine at a
// time: the pool worker that took it, then the batch goroutine rebooting it.
// Hand-overs go through channels and WaitGroups, which order the accesses.
package runner
