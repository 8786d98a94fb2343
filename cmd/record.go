package cmd

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/state"
)

// defaultStateDir is the state directory when --state-dir is not given.
// Tests replace it, so they never write to the real one.
var defaultStateDir = func(getenv func(string) string) (string, error) {
	return state.Default(state.Env{Getenv: getenv, UID: os.Geteuid()})
}

// recording is a run's record in the state directory: its journal and,
// for a run that changes hosts, the local guard on its inventory.
type recording struct {
	stateDir string
	w        *journal.Writer
	guard    *state.Lock
}

// guardHolder is what a guard's lock file says about its holder.
type guardHolder struct {
	RunID     string    `json:"run_id"`
	PID       int       `json:"pid"`
	Host      string    `json:"host,omitempty"`
	Command   string    `json:"command"`
	StartedAt time.Time `json:"started_at"`
}

// startRecording resolves the state directory, takes the local guard
// (unless the run only reads: scan, --dry-run), names the run and creates
// its journal. Nothing is contacted before it succeeds.
func (a *app) startRecording(o *commonOptions, plan *runner.Plan, hosts []inventory.Host) (*recording, error) {
	dir := o.stateDir
	if a.resuming != nil {
		dir = a.resuming.stateDir
	}
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(a.streams.Getenv); err != nil {
			return nil, err
		}
	}
	if err := state.Ensure(dir); err != nil {
		return nil, err
	}
	now := time.Now()
	plan.RunID = state.NewRunID(now)
	if a.resuming != nil {
		plan.RunID = a.resuming.run.ID
	}
	absInv, err := filepath.Abs(o.inventory)
	if err != nil {
		return nil, fmt.Errorf("-i %s: %w", o.inventory, err)
	}
	hostname, _ := os.Hostname()
	rec := &recording{stateDir: dir}
	if plan.Command != report.CmdScan && plan.Command != report.CmdFacts && !plan.DryRun {
		holder := guardHolder{RunID: plan.RunID, PID: os.Getpid(), Host: hostname, Command: string(plan.Command), StartedAt: now.UTC()}
		if rec.guard, err = takeGuard(dir, absInv, holder); err != nil {
			return nil, err
		}
	}
	digest, err := fileSHA256(absInv)
	if err != nil {
		rec.close()
		return nil, fmt.Errorf("-i %s: %w", o.inventory, err)
	}
	if a.resuming != nil {
		if rec.w, err = a.resuming.appendJournal(a.args, digest); err != nil {
			rec.close()
			return nil, err
		}
		fmt.Fprintf(a.streams.Err, "run %s resumed: journal %s\n", plan.RunID, rec.w.Path())
		return rec, nil
	}
	hostNames := make([]string, len(hosts))
	var groups map[string][]string
	for i, h := range hosts {
		hostNames[i] = h.Name
		if len(h.Groups) > 0 {
			if groups == nil {
				groups = map[string][]string{}
			}
			groups[h.Name] = h.Groups
		}
	}
	h := journal.Header{
		RunID: plan.RunID, Command: plan.Command, DryRun: plan.DryRun,
		Argv: absPathArgv(a.args, absInv), Inventory: absInv, InventorySHA256: digest,
		Hosts: hostNames, Flags: setFlags(o.flags), Groups: groups,
		Controller: journal.Controller{Hostname: hostname, User: currentUser(), PID: os.Getpid()},
		StartedAt:  now.UTC(),
	}
	if rec.w, err = journal.Create(dir, h); err != nil {
		rec.close()
		return nil, fmt.Errorf("--state-dir %s: %w", dir, err)
	}
	fmt.Fprintf(a.streams.Err, "run %s: journal %s\n", plan.RunID, rec.w.Path())
	return rec, nil
}

// takeGuard locks <state-dir>/locks/<sha256 of the inventory path>.lock
// without waiting; when another run holds it, the error names that run
// and what to do.
func takeGuard(dir, absInv string, holder guardHolder) (*state.Lock, error) {
	locks := state.LocksDir(dir)
	if err := os.MkdirAll(locks, 0o700); err != nil {
		return nil, fmt.Errorf("--state-dir %s: %w", dir, err)
	}
	sum := sha256.Sum256([]byte(absInv))
	path := filepath.Join(locks, hex.EncodeToString(sum[:])+".lock")
	text, _ := json.Marshal(holder)
	l, err := state.TryLock(path, append(text, '\n'))
	if errors.Is(err, state.ErrLocked) {
		return nil, guardBusy(dir, absInv, path)
	}
	if err != nil {
		return nil, fmt.Errorf("--state-dir %s: %w", dir, err)
	}
	return l, nil
}

// guardBusy is the refusal of a second run on the same inventory.
func guardBusy(dir, absInv, path string) error {
	who := "another patchrun run"
	var h guardHolder
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &h) == nil && h.RunID != "" {
		who = fmt.Sprintf("run %s (%s, pid %d on %s, started %s)", h.RunID, h.Command, h.PID, h.Host, h.StartedAt.Local().Format(time.DateTime))
	}
	return fmt.Errorf("inventory %s is in use by %s from state directory %s\n"+
		"hint: wait for that run to finish, or see what it is doing with 'patchrun runs --state-dir %s'; "+
		"two runs changing the same hosts at once would fight over their package managers and reboots",
		absInv, who, dir, dir)
}

// close ends the recording: the journal's lock and the guard are released
// (also done by the OS if the process dies).
func (r *recording) close() {
	if r == nil {
		return
	}
	if r.w != nil {
		_ = r.w.Close()
	}
	_ = r.guard.Unlock()
}

// discard removes the record of a run that never started (its plan was
// refused, an output file could not be opened): there is nothing to list
// or resume.
func (r *recording) discard() {
	if r == nil || r.w == nil {
		return
	}
	dir := filepath.Dir(r.w.Path())
	r.close()
	_ = os.RemoveAll(dir)
}

// end writes the journal's end record: finished, or interrupted, with the
// exit code the run's outcome maps to.
func (r *recording) end(rep report.Report, outcome error) error {
	st := journal.StateFinished
	if rep.Interrupted {
		st = journal.StateInterrupted
	}
	if err := r.w.End(journal.End{State: st, ExitCode: exitCode(outcome), HaltedBy: rep.HaltedBy}); err != nil {
		return &resultError{err}
	}
	return nil
}

// fileSHA256 is the digest of a regular file's content; "" for anything
// else (a pipe cannot be read twice).
func fileSHA256(path string) (string, error) {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, fsread.LimitInventory+1)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pathFlags are the flags whose value the journal records rewritten: a
// local file path absolute, so that `resume` runs the same command line
// from any directory; --db without its password (the journal never holds
// one). long name → shorthand ("" if none).
var pathFlags = map[string]string{"inventory": "i", "plan": "", "report": "", "metrics": "", "db": "", "advisories": "", "kev": "", "epss": ""}

// absPathArgv is args with the values of pathFlags rewritten (the
// inventory's is absInv, already resolved).
func absPathArgv(args []string, absInv string) []string {
	abs := func(flag, v string) string {
		switch flag {
		case "inventory":
			return absInv
		case "db":
			return history.StripPassword(v)
		}
		if a, err := filepath.Abs(v); err == nil && v != "" {
			return a
		}
		return v
	}
	out := append([]string(nil), args...)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			return out
		}
		for long, short := range pathFlags {
			switch {
			case a == "--"+long || (short != "" && a == "-"+short):
				if i+1 < len(out) {
					out[i+1] = abs(long, out[i+1])
					i++
				}
			case strings.HasPrefix(a, "--"+long+"="):
				out[i] = "--" + long + "=" + abs(long, strings.TrimPrefix(a, "--"+long+"="))
			case short != "" && strings.HasPrefix(a, "-"+short) && !strings.HasPrefix(a, "--"):
				out[i] = "-" + short + abs(long, strings.TrimPrefix(a, "-"+short))
			default:
				continue
			}
			break
		}
	}
	return out
}

// setFlags are the flags given on the command line, name → value.
func setFlags(fs *pflag.FlagSet) map[string]string {
	if fs == nil {
		return nil
	}
	m := map[string]string{}
	fs.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "ask-pass":
			return
		case "db":
			m[f.Name] = history.StripPassword(f.Value.String())
			return
		}
		m[f.Name] = f.Value.String()
	})
	return m
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// renderRun writes the run's result. A journaled run's finished hosts are
// compact in memory: their full results are read back from the journal
// one at a time, in run order (the JSON document is streamed).
func (a *app) renderRun(format string, rep report.Report, jw *journal.Writer) error {
	if jw == nil {
		return a.render(format, rep)
	}
	if report.Format(format) != report.FormatJSON {
		full, err := fullReport(rep, jw)
		if err != nil {
			return err
		}
		return a.render(format, full)
	}
	if rep.Command == report.CmdScan { // the risk line needs every update, one host at a time
		var t report.RiskTally
		if err := eachFullResult(rep.Hosts, jw, func(h report.HostResult) error { t.Add(h); return nil }); err != nil {
			return err
		}
		a.printRisk(t)
	}
	return streamJSON(a.streams.Out, rep, jw)
}

// fullReport is rep with every host's full result, read back from the
// journal: for the text table's details and a saved plan, which need
// every update.
func fullReport(rep report.Report, jw *journal.Writer) (report.Report, error) {
	if jw == nil {
		return rep, nil
	}
	full := make([]report.HostResult, 0, len(rep.Hosts))
	err := eachFullResult(rep.Hosts, jw, func(h report.HostResult) error {
		full = append(full, h)
		return nil
	})
	rep.Hosts = full
	return rep, err
}

// eachFullResult calls fn with each host's full result, in the order of
// hosts: from the journal where it holds one, else the one in memory (a
// host whose journal write failed kept its full result).
func eachFullResult(hosts []report.HostResult, jw *journal.Writer, fn func(report.HostResult) error) error {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	i := 0
	err := jw.Results(names, func(full report.HostResult) error {
		for ; hosts[i].Name != full.Name; i++ {
			if err := fn(hosts[i]); err != nil {
				return err
			}
		}
		i++
		if full.Updates == nil {
			full.Updates = []report.Update{}
		}
		return fn(full)
	})
	if err != nil {
		return err
	}
	for ; i < len(hosts); i++ {
		if err := fn(hosts[i]); err != nil {
			return err
		}
	}
	return nil
}

// streamJSON writes rep as report.WriteJSON would, byte for byte, with
// the hosts read one at a time from the journal.
func streamJSON(w io.Writer, rep report.Report, jw *journal.Writer) error {
	hosts := rep.Hosts
	rep.Hosts = []report.HostResult{}
	var doc strings.Builder
	if err := report.WriteJSON(&doc, rep); err != nil {
		return err
	}
	const empty = "\n  \"hosts\": [],\n"
	head, tail, ok := strings.Cut(doc.String(), empty)
	if !ok || len(hosts) == 0 {
		_, err := io.WriteString(w, doc.String())
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(head + "\n  \"hosts\": [")
	sep := "\n    "
	err := eachFullResult(hosts, jw, func(h report.HostResult) error {
		b, err := json.MarshalIndent(h, "    ", "  ")
		if err != nil {
			return err
		}
		bw.WriteString(sep)
		_, err = bw.Write(b)
		sep = ",\n    "
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n  ],\n" + tail)
	return bw.Flush()
}
