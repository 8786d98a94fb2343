package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/patchrun/patchrun/connect"
	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// hostsFor checks the common flags and loads the inventory: everything that
// must hold before any host is contacted.
func (a *app) hostsFor(o *commonOptions) ([]inventory.Host, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if _, err := a.historyDB(o.db); err != nil {
		return nil, err
	}
	hosts, err := a.loadHosts(o)
	if err != nil {
		return nil, err
	}
	return hosts, nil
}

// loadHosts reads, validates and selects the inventory. Nothing is
// contacted before this succeeds.
func (a *app) loadHosts(o *commonOptions) ([]inventory.Host, error) {
	opts := inventory.LoadOptions{Getenv: a.streams.Getenv}
	if o.askPass {
		opts.AskPass = a.askPass
	}
	inv, err := inventory.LoadInventory(o.inventory, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(a.streams.Err, "patchrun: warning: %s\n", termtext.Text(w.Error()))
	}
	hosts := inv.Hosts
	o.inventoryHosts = inv.Hosts
	if o.limit.set {
		if hosts, err = inventory.Select(hosts, o.limit.pattern); err != nil {
			return nil, err
		}
	}
	// Shard before ordering: every CI job must cut the same inventory-order
	// list, or a shuffled order would make shards overlap.
	if o.shard != "" {
		total := len(hosts)
		if hosts, err = inventory.Shard(hosts, o.shard); err != nil {
			return nil, err
		}
		if len(hosts) == 0 {
			// More shards than hosts (a CI matrix sized for a bigger
			// fleet): this job has nothing to do, which is not a failure.
			fmt.Fprintf(a.streams.Err, "patchrun: shard %s of %d hosts is empty: nothing to do\n", o.shard, total)
			return []inventory.Host{}, nil
		}
	}
	order := o.order
	if order == "risk" { // known only once scanned: the runner orders by it
		order = "inventory"
	}
	if hosts, err = inventory.Order(hosts, order, time.Now().UnixNano()); err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s: no hosts selected", o.inventory)
	}
	return hosts, nil
}

// askPass prompts once on the terminal, without echo.
func (a *app) askPass(prompt string) (string, error) {
	if !a.streams.IsTerminal(a.streams.In) {
		return "", fmt.Errorf("--ask-pass needs a terminal on stdin (hint: use password_env or password_file in cron and CI)")
	}
	fmt.Fprint(a.streams.Err, prompt)
	pw, err := readPassword(a.streams.In)
	fmt.Fprintln(a.streams.Err)
	return pw, err
}

// logger is built once per run and passed down, never kept in a global.
func (a *app) logger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(a.streams.Err, &slog.HandlerOptions{Level: level}))
}

// runFleet is the one path every fleet command (and demo) goes through:
// build the plan, run it with two-stage Ctrl-C, render; its error is the
// run's outcome (see exitCode).
func (a *app) runFleet(ctx context.Context, o *commonOptions, plan runner.Plan, hosts []inventory.Host, tune ...func(*connect.Options)) error {
	if a.resuming != nil { // `patchrun resume`: the run's hosts, where each stopped
		var err error
		if hosts, plan.Resume, err = a.resuming.prepare(hosts); err != nil {
			return err
		}
	}
	if a.fleetRun != nil {
		return a.fleetRun(o, plan, hosts)
	}
	if len(hosts) == 0 { // an empty --shard: an empty report, exit 0
		return a.render(o.output, report.New(plan.Command, plan.DryRun, time.Now()))
	}
	plan.Hosts = hosts
	plan.OrderRisk = o.order == "risk"
	a.view = textView{detail: o.verbose, riskOrder: plan.OrderRisk}
	plan.Forks = o.forks
	plan.ConnectTimeout = o.connectTimeout
	plan.StepTimeout = o.timeout

	dialer, home, copts, err := a.newDialer(o, tune...)
	if err != nil {
		return err
	}
	defer dialer.Close()

	var rec *recording
	var jw *journal.Writer
	if o.recorded {
		var err error
		if rec, err = a.startRecording(o, &plan, hosts); err != nil {
			return err
		}
		defer rec.close()
		jw = rec.w
	}
	obs, err := a.newObserver(o, plan, runInputs(o.inventory, home, copts.SSHConfig, hosts), jw)
	if err != nil {
		rec.discard()
		return err
	}
	runCtx, stop, release := interrupts(ctx, func(msg string) { obs.notice(eventSignal, msg) })
	defer release()

	deps := runner.Deps{
		Dialer:   dialer,
		Detect:   dialer.Detect,
		Observer: obs,
		Stop:     stop,
		Enricher: o.enricher,
	}
	if jw != nil {
		deps.Journal = jw
	}
	report, err := runner.Run(runCtx, plan, deps)
	eventsErr := obs.finish()
	if err != nil {
		rec.discard()
		return err
	}
	var afterErr, renderErr error
	if o.afterRun != nil {
		full, err := fullReport(report, jw)
		if err == nil {
			err = o.afterRun(full)
		}
		afterErr = err
	}
	if err := a.renderRun(o.output, report, jw); err != nil {
		renderErr = &resultError{fmt.Errorf("write result: %w", err)}
	}
	result := errors.Join(afterErr, renderErr, eventsErr, outcome(report))
	if rec != nil {
		result = errors.Join(result, rec.end(report, result))
		a.recordHistory(o, rec)
		result = errors.Join(result, o.reports.write(a, o, rec.stateDir, plan.RunID))
	}
	return result
}

// newDialer builds the connections' dialer from the common flags; a
// malformed ssh config is an error here, before any host is contacted.
func (a *app) newDialer(o *commonOptions, tune ...func(*connect.Options)) (*connect.Dialer, string, connect.Options, error) {
	home, _ := os.UserHomeDir()
	copts := connect.Options{
		AgentSocket:    a.streams.Getenv("SSH_AUTH_SOCK"),
		ConnectTimeout: o.connectTimeout,
		Home:           home,
	}
	if !o.noSSHConfig && home != "" {
		// %USERPROFILE%\.ssh\config on Windows, as Win32-OpenSSH reads it.
		copts.SSHConfig = filepath.Join(home, ".ssh", "config")
	}
	for _, f := range tune {
		f(&copts)
	}
	dialer := connect.NewDialer(copts)
	// A malformed ssh config would fail every SSH host: stop before any.
	if err := dialer.CheckSSHConfig(); err != nil {
		dialer.Close()
		return nil, "", copts, err
	}
	return dialer, home, copts, nil
}

// outputWidth is the width the text result is fitted to: COLUMNS when set
// (as ls does), else stdout's terminal width, else 0, no limit (a file or a
// pipe gets whole rows).
func (a *app) outputWidth() int {
	if n, err := strconv.Atoi(a.streams.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return a.streams.Width(a.stdout)
}

// stderrIsTerminal decides between progress bars and plain lines.
func (a *app) stderrIsTerminal() bool {
	return a.streams.IsTerminal(a.streams.Err) && a.streams.Getenv("TERM") != "dumb"
}
