package unix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// probe is what CmdProbe learned about a host.
type probe struct {
	os         osRelease
	kernel     string
	bootID     string
	bootTime   time.Time       // FreeBSD: kern.boottime (Linux: from the uptime)
	managers   map[string]bool // base names found by `command -v`
	uid        string
	systemdRun bool
	facts      hostFacts
	at         time.Time // when the probe's output arrived (uptime is relative to it)
}

// parseProbe reads CmdProbe's output.
func parseProbe(out string) probe {
	s := splitSections(out)
	bootID, bootTime := parseBootID(firstLine(s[SectionBootID]))
	p := probe{
		os:         parseOSRelease(s[SectionOSRelease]),
		kernel:     firstLine(s[SectionKernel]),
		bootID:     bootID,
		bootTime:   bootTime,
		managers:   map[string]bool{},
		uid:        firstLine(s[SectionUID]),
		systemdRun: firstLine(s[SectionSystemdRun]) != "",
		facts:      parseHostFacts(s),
		at:         time.Now(),
	}
	for _, l := range nonEmptyLines(s[SectionManagers]) {
		// `command -v` prints a path, or the bare name for a builtin/alias.
		p.managers[l[strings.LastIndex(l, "/")+1:]] = true
	}
	return p
}

// host is the state and behaviour every Linux backend shares: facts,
// pending-reboot files, boot id, reboot and readiness. A host (and the
// backend embedding it) belongs to one worker at a time.
type host struct {
	opts    Options
	manager string // "apt", "dnf", "yum", "zypper"
	probe   probe  // refreshed by Facts
	// fresh: probe was just taken by Detect, so the first Facts uses it
	// instead of a second round trip; later Facts calls probe again.
	fresh bool
	sudo  bool // prefix privileged commands with SudoPrefix
	// scheduled names the reboot the last Reboot scheduled (a transient
	// unit, or the sleeping shell's name without systemd), for CancelReboot.
	scheduled        string
	scheduledSystemd bool
	// jobRun and jobN name the detached jobs (JobName).
	jobRun string
	jobN   int
	// plan is the backend's install plan (set by backendFor), so that
	// ReattachInstall can follow a job another process started.
	plan func() installPlan
}

// base is the host itself, for code that holds a backend embedding it.
func (h *host) base() *host { return h }

func newHost(p probe, manager string, opts Options) host {
	return host{opts: opts.withDefaults(), manager: manager, probe: p, fresh: true, sudo: opts.Sudo && p.uid != "0", jobRun: randomRunID()}
}

// Name is the package manager's name.
func (h *host) Name() string { return h.manager }

// priv prefixes a privileged command line with sudo when needed.
func (h *host) priv(line string) string {
	if h.sudo {
		return SudoPrefix + line
	}
	return line
}

// refreshProbe runs CmdProbe again (kernel and boot id change on reboot).
func (h *host) refreshProbe(ctx context.Context, t transport.Transport) error {
	res, err := run(ctx, t, "probe", CmdProbe)
	if err != nil {
		return err
	}
	p := parseProbe(string(res.Stdout))
	if p.bootID == "" && p.kernel == "" {
		return commandFailed("probe", res)
	}
	h.probe = p
	return nil
}

// facts builds Facts from a fresh probe and the backend's reboot check.
func (h *host) facts(ctx context.Context, t transport.Transport, rebootRequired func(context.Context, transport.Transport) (bool, []string, error)) (patch.Facts, error) {
	if !h.fresh {
		if err := h.refreshProbe(ctx, t); err != nil {
			return patch.Facts{}, fmt.Errorf("facts: %w", err)
		}
	}
	h.fresh = false
	f := patch.Facts{
		OS:             h.probe.os.String(),
		Family:         h.probe.os.Family(),
		Kernel:         h.probe.kernel,
		PackageManager: h.manager,
		BootID:         h.probe.bootID,
		OSName:         h.probe.os.Name,
		OSVersion:      h.probe.os.VersionID,
		Arch:           h.probe.facts.arch,
		Uptime:         h.probe.facts.uptime,
		LastUpdated:    h.probe.facts.lastUpdated,
		Addresses:      h.probe.facts.addresses,
	}
	if f.Uptime > 0 {
		f.LastBoot = h.probe.at.Add(-f.Uptime).UTC().Truncate(time.Second)
	} else if !h.probe.bootTime.IsZero() {
		f.LastBoot = h.probe.bootTime.Truncate(time.Second)
		f.Uptime = h.probe.at.Sub(h.probe.bootTime).Truncate(time.Second)
	}
	need, reasons, err := rebootRequired(ctx, t)
	if err != nil {
		return f, fmt.Errorf("facts: %w", err)
	}
	f.RebootRequired, f.RebootReasons = need, reasons
	return f, nil
}

// fileRebootSignals checks the flag files and the /lib/modules backstop.
func (h *host) fileRebootSignals(ctx context.Context, t transport.Transport) ([]string, error) {
	res, err := run(ctx, t, "reboot signals", CmdRebootSignals)
	if err != nil {
		return nil, err
	}
	return parseRebootSignals(string(res.Stdout)), nil
}

// fileRebootRequired is RebootRequired for a backend whose only signals
// are the flag files and the kernel backstop.
func (h *host) fileRebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	reasons, err := h.fileRebootSignals(ctx, t)
	if err != nil {
		return false, nil, fmt.Errorf("reboot required: %w", err)
	}
	return len(reasons) > 0, reasons, nil
}

// BootID returns /proc/sys/kernel/random/boot_id.
func (h *host) BootID(ctx context.Context, t transport.Transport) (string, error) {
	res, err := run(ctx, t, "boot id", CmdBootID)
	if err != nil {
		return "", err
	}
	id, _ := parseBootID(firstLine(string(res.Stdout)))
	if res.ExitCode != 0 || id == "" {
		return "", commandFailed("boot id", res)
	}
	return id, nil
}

// rebootLine is the detached reboot command for this host.
func (h *host) rebootLine(now time.Time) string {
	h.scheduled = RebootUnitPrefix + strconv.FormatInt(now.UnixNano(), 36)
	h.scheduledSystemd = h.probe.systemdRun
	if h.scheduledSystemd {
		return h.priv(CmdSystemdReboot(h.opts.RebootDelay, h.scheduled))
	}
	return h.priv(CmdNohupReboot(h.opts.RebootDelay, h.scheduled))
}

// Reboot issues a detached reboot. A lost connection or EOF while it runs
// means "maybe started": the caller confirms by a changed boot id.
func (h *host) Reboot(ctx context.Context, t transport.Transport) error {
	res, err := t.Run(ctx, transport.Command{Line: h.rebootLine(time.Now())})
	return rebootOutcome(res, err)
}

// rebootOutcome is what a reboot command's result means: a lost connection
// or EOF means "maybe started".
func rebootOutcome(res transport.Result, err error) error {
	switch {
	case err == nil && res.ExitCode == 0:
		return nil
	case err == nil:
		return commandFailed("reboot", res)
	case errors.Is(err, transport.ErrConnLost) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil
	}
	return fmt.Errorf("reboot: %w", err)
}

// exitBootChanged is CmdRebootIfBoot's exit status when the boot differs.
const exitBootChanged = 97

// CmdRebootIfBoot runs reboot (a reboot command line) only if the running
// boot's id is id; otherwise it exits exitBootChanged.
func CmdRebootIfBoot(id, reboot string) string {
	return `test "$(` + CmdBootID + `)" = ` + shQuote(id) + " || exit " + strconv.Itoa(exitBootChanged) + "; " + reboot
}

// RebootIfBoot is Reboot on condition that the host still runs boot id,
// checked by the same command.
func (h *host) RebootIfBoot(ctx context.Context, t transport.Transport, id string) error {
	res, err := t.Run(ctx, transport.Command{Line: CmdRebootIfBoot(id, h.rebootLine(time.Now()))})
	if err == nil && res.ExitCode == exitBootChanged {
		return fmt.Errorf("reboot: %w (not %s)", patch.ErrBootChanged, id)
	}
	return rebootOutcome(res, err)
}

// CancelReboot stops the transient unit's timer of the reboot Reboot
// scheduled (or, without systemd, kills the shell sleeping before it).
func (h *host) CancelReboot(ctx context.Context, t transport.Transport) error {
	if h.scheduled == "" {
		return fmt.Errorf("cancel reboot: %w", patch.ErrRebootNotPending)
	}
	if !h.scheduledSystemd {
		res, err := run(ctx, t, "cancel reboot", h.priv(CmdNohupCancelReboot(h.scheduled)))
		switch {
		case err != nil:
			return err
		case res.ExitCode == 1:
			return fmt.Errorf("cancel reboot: %w (no sleeping %s process)", patch.ErrRebootNotPending, h.scheduled)
		case res.ExitCode != 0:
			return commandFailed("cancel reboot", res)
		}
		return nil
	}
	line := CmdSystemdCancelReboot(h.scheduled)
	if h.sudo {
		line = SudoPrefix + "sh -c '" + line + "'"
	}
	res, err := run(ctx, t, "cancel reboot", line)
	if err != nil {
		return err
	}
	switch out := strings.TrimSpace(string(res.Stdout)); {
	case res.ExitCode != 0 || out == "waiting":
		// waiting: the timer is still set, so systemctl stop failed.
	case out == CancelledOut:
		return nil
	case out == "elapsed" || out == "running":
		return fmt.Errorf("cancel reboot: %w (%s.timer has fired)", patch.ErrRebootNotPending, h.scheduled)
	default:
		return fmt.Errorf("cancel reboot: %w (no %s.timer is loaded)", patch.ErrRebootNotPending, h.scheduled)
	}
	return commandFailed("cancel reboot", res)
}

// Ready runs the readiness probe; nil when it exits 0.
//
// The default probe, "true", only proves that the host runs commands, which
// the boot id just read over the same connection proved already: it costs
// no round trip.
func (h *host) Ready(ctx context.Context, t transport.Transport) error {
	if h.opts.ReadyCommand == DefaultReadyCommand {
		return nil
	}
	res, err := run(ctx, t, "ready", h.opts.ReadyCommand)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return commandFailed("ready check "+strconv.Quote(h.opts.ReadyCommand), res)
	}
	return nil
}

// fileBootState is patch.BootStater for a backend whose only signals are
// the files fileRebootRequired reads: the boot id and those signals in one
// command, and when q asks for it, the scan sc on a new boot. With a
// readiness command of its own the host may still change them before it is
// ready, so then only the id is read.
func (h *host) fileBootState(ctx context.Context, t transport.Transport, q patch.BootQuery, sc scanCommand) (patch.BootState, error) {
	if h.opts.ReadyCommand != DefaultReadyCommand {
		id, err := h.BootID(ctx, t)
		return patch.BootState{ID: id}, err
	}
	line := CmdBootState
	if q.Scan {
		line = CmdBootStateScan(q.Before, sc.line)
	}
	res, err := run(ctx, t, "boot id", line)
	if err != nil {
		return patch.BootState{}, err
	}
	s := splitSections(string(res.Stdout))
	id := firstLine(s[SectionBootID])
	if _, complete := s[SectionEnd]; res.ExitCode != 0 || id == "" || !complete {
		return patch.BootState{}, commandFailed("boot id", res)
	}
	reasons := parseRebootSignals(string(res.Stdout))
	st := patch.BootState{ID: id, Signals: true, RebootRequired: len(reasons) > 0, RebootReasons: reasons}
	if q.Scan {
		st.Updates, st.Scanned, st.ScanErr = scanSections(s, res, sc)
	}
	return st, nil
}
