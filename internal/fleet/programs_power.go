package fleet

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"
)

// Programs that reboot or schedule: reboot, poweroff, shutdown, systemctl,
// systemd-run. Command-named delays are scaled by Config.TimeScale; an
// immediate reboot cuts the link after Config.RebootDelay so the command can
// still report its exit status (usually: as on a real host, it may not).

func progReboot(_ context.Context, p *proc) int {
	for _, a := range p.args[1:] {
		if a == "--help" {
			p.outf("%s [OPTIONS...]\n", p.args[0])
			return 0
		}
	}
	halt := p.args[0] != "reboot"
	for _, a := range p.args[1:] {
		if a == "--reboot" || a == "-r" {
			halt = false
		}
	}
	p.h.scheduleReboot(p.h.f.cfg.RebootDelay, halt)
	return 0
}

// progShutdown: shutdown -r now|+M|HH:MM, -h/-P (power off), -c (cancel).
func progShutdown(_ context.Context, p *proc) int {
	halt, when := true, "+1" // shutdown's default is power-off in a minute
	for _, a := range p.args[1:] {
		switch {
		case a == "-c":
			if !p.h.cancelReboot() {
				p.errf("No scheduled shutdown to cancel.\n")
			}
			return 0
		case a == "-r" || a == "--reboot":
			halt = false
		case a == "-h" || a == "-P" || a == "-H" || a == "--poweroff" || a == "--halt":
			halt = true
		case strings.HasPrefix(a, "-"):
		default:
			if when == "+1" {
				when = a
			}
		}
	}
	delay := time.Duration(0)
	switch {
	case when == "now":
	case strings.HasPrefix(when, "+"):
		m, err := strconv.Atoi(strings.TrimPrefix(when, "+"))
		if err != nil {
			p.errf("Failed to parse time specification: %s\n", when)
			return 1
		}
		delay = time.Duration(m) * time.Minute
	default:
		t, err := time.Parse("15:04", when)
		if err != nil {
			p.errf("Failed to parse time specification: %s\n", when)
			return 1
		}
		now := time.Now().UTC()
		at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
		if at.Before(now) {
			at = at.Add(24 * time.Hour)
		}
		delay = at.Sub(now)
	}
	if delay == 0 {
		p.h.scheduleReboot(p.h.f.cfg.RebootDelay, halt)
		return 0
	}
	at := time.Now().UTC().Add(delay)
	verb := "Reboot"
	if halt {
		verb = "Shutdown"
	}
	p.errf("%s scheduled for %s, use 'shutdown -c' to cancel.\n", verb, at.Format("Mon 2006-01-02 15:04:05 MST"))
	p.h.scheduleReboot(max(p.h.f.cfg.scale(delay), p.h.f.cfg.RebootDelay), halt)
	return 0
}

func progSystemctl(ctx context.Context, p *proc) int {
	var verb string
	var rest []string
	for _, a := range p.args[1:] {
		switch {
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			rest = append(rest, a)
		}
	}
	switch verb {
	case "reboot", "poweroff", "halt", "kexec", "soft-reboot":
		p.h.scheduleReboot(p.h.f.cfg.RebootDelay, verb != "reboot" && verb != "kexec" && verb != "soft-reboot")
		return 0
	case "is-system-running":
		p.outf("running\n")
		return 0
	case "is-active":
		for range rest {
			p.outf("active\n")
		}
		return 0
	case "stop":
		p.h.stopUnits(rest)
		return 0
	case "show":
		// show -p SubState --value UNIT: the one property patchrun reads.
		if len(rest) == 2 && rest[0] == "SubState" {
			p.outf("%s\n", p.h.subState(rest[1]))
		}
		return 0
	case "start", "restart", "reload", "daemon-reload", "enable", "disable", "try-restart":
		return 0
	case "status":
		p.outf("● %s\n    State: running\n    Units: 231 loaded (incl. loaded aliases)\n     Jobs: 0 queued\n   Failed: 0 units\n", p.h.name)
		return 0
	case "list-timers":
		p.outf("NEXT LEFT LAST PASSED UNIT ACTIVATES\n\n0 timers listed.\n")
		return 0
	case "":
		p.outf("  UNIT                        LOAD   ACTIVE SUB     DESCRIPTION\n  sshd.service                loaded active running OpenSSH server daemon\n")
		return 0
	}
	p.errf("Unknown command verb '%s'.\n", verb)
	return 1
}

// progSystemdRun runs a command in a transient unit, now or (with
// --on-active) later, detached from the caller's session.
func progSystemdRun(_ context.Context, p *proc) int {
	args := p.args[1:]
	var unit string
	var delay time.Duration
	timer := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		name, val, hasVal := strings.Cut(a, "=")
		needVal := func() string {
			if hasVal {
				return val
			}
			if len(args) > 0 {
				v := args[0]
				args = args[1:]
				return v
			}
			return ""
		}
		switch name {
		case "--":
			goto cmd
		case "--on-active", "--on-boot", "--on-startup", "--on-unit-active":
			d, ok := parseSystemdTime(needVal())
			if !ok {
				p.errf("Failed to parse timer value: %s\n", val)
				return 1
			}
			delay, timer = d, true
		case "--unit", "-u":
			unit = needVal()
		case "--description", "--property", "-p", "--timer-property", "--slice", "--uid", "--gid",
			"--working-directory", "--setenv", "-E", "--on-calendar", "--machine", "-M", "--host", "-H":
			needVal()
		}
	}
cmd:
	if len(args) == 0 {
		p.errf("Command line to execute required.\n")
		return 1
	}
	h := p.h
	h.mu.Lock()
	if unit == "" {
		unit = "run-u" + strconv.Itoa(100+len(h.units))
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, ".service"), ".timer")
	if h.units[unit] != nil {
		h.mu.Unlock()
		kind := "service"
		if timer {
			kind = "timer"
		}
		p.errf("Failed to start transient %s unit: Unit %s.%s was already loaded or has a fragment file.\n", kind, unit, kind)
		return 1
	}
	bgCtx, stopUnit := context.WithCancel(p.sh.sess.bgCtx)
	tu := &transientUnit{timer: timer, state: "running", stop: stopUnit}
	if timer {
		tu.state = "waiting"
	}
	h.units[unit] = tu
	h.mu.Unlock()
	if timer {
		p.errf("Running timer as unit: %s.timer\nWill run service as unit: %s.service\n", unit, unit)
	} else {
		p.errf("Running as unit: %s.service; invocation ID: %s\n", unit, strings.ReplaceAll(h.BootID(), "-", ""))
	}
	child := p.sh.clone()
	child.vars = copyEnv(p.env)
	argv := append([]string(nil), args...)
	wait := h.f.cfg.scale(delay)
	h.f.goTracked(func() {
		defer stopUnit()
		if !sleepCtx(bgCtx, wait) {
			return
		}
		h.mu.Lock()
		tu.state = "elapsed"
		h.mu.Unlock()
		child.exec(bgCtx, argv, child.vars, stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	})
	return 0
}

// transientUnit is a unit systemd-run started. Concurrency: guarded by the
// host's mu.
type transientUnit struct {
	timer bool               // started with --on-active: NAME.timer and NAME.service
	state string             // the timer's SubState: waiting, elapsed; "running" for a plain service
	stop  context.CancelFunc // systemctl stop: the command never runs
}

// unitFor finds the transient unit a systemctl argument names ("NAME",
// "NAME.timer", "NAME.service"). Called with mu held.
func (h *SimHost) unitFor(arg string) *transientUnit {
	return h.units[strings.TrimSuffix(strings.TrimSuffix(arg, ".service"), ".timer")]
}

// stopUnits is `systemctl stop UNIT…`: a stopped timer never fires; the
// unit is unloaded, as systemd unloads a stopped transient unit.
func (h *SimHost) stopUnits(args []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range args {
		if u := h.unitFor(a); u != nil && (u.state == "waiting" || !strings.HasSuffix(a, ".timer")) {
			u.stop()
			delete(h.units, strings.TrimSuffix(strings.TrimSuffix(a, ".service"), ".timer"))
		}
	}
}

// subState is `systemctl show -p SubState --value UNIT`.
func (h *SimHost) subState(arg string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.unitFor(arg); u != nil {
		return u.state
	}
	return "dead"
}

// parseSystemdTime reads systemd time spans: "5", "5s", "2min", "1h", "500ms".
func parseSystemdTime(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"min", time.Minute}, {"sec", time.Second}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return time.Duration(f * float64(u.d)), err == nil && f >= 0
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Second)), err == nil && f >= 0
}
