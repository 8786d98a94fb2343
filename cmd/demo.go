package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/connect"
	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/state"
)

// demoOptions are `demo`'s flags: the fleet to simulate, plus the output
// flags every command has.
type demoOptions struct {
	hosts     int
	windows   int
	faults    bool
	rolling   bool
	healthCmd string
	batch     string
	keep      bool
	output    string
	forks     int
	verbose   bool
	noProg    bool
	timeScale float64
	risk      riskOptions
	stateDir  string
}

func (a *app) newDemoCmd() *cobra.Command {
	var o demoOptions
	c := &cobra.Command{
		Use:   "demo",
		Short: "Patch a simulated fleet end to end, in process, with nothing to set up",
		Long: `demo starts simulated Debian (apt), Rocky (dnf), openSUSE (zypper), Ubuntu,
Alpine (apk, OpenRC) and Arch (pacman) hosts as SSH servers, and Windows hosts as WinRM servers (NTLM with message
encryption, Windows Update behind it), all on loopback. It writes their
inventory (key, known_hosts, password files, hosts) to a temporary directory
and runs a real 'patch' sweep against them through the same code as real
hosts: scan, install, reboot, confirm a new boot id, rescan, on Windows a
second install round for updates offered only after a reboot, and a health
check on every patched host (--health-cmd; each simulated host has a
health-check program, PowerShell on Windows).

By default the sweep is rolling (patch --rolling) with a canary: the first
host is patched, rebooted and healthy before any other host installs
anything, then batches of 25% follow (--batch 1,25%). --rolling=false
installs on every host in parallel and only paces the reboots.

The run is recorded like any other, in a new temporary state directory
(kept, and named on stderr) unless --state-dir is given, and ends by writing
an HTML report of it into that directory and printing the report's path;
'patchrun hosts --state-dir DIR' and 'patchrun report --state-dir DIR' then
work on the demo's history.

--faults adds a Linux host whose package lock is held for a while, one that
drops its first SSH handshakes, one that never passes its health check, one
that never comes back from its reboot; a Windows host whose connection drops
mid-install, one whose update fails with 0x80240016, and one stuck in an
update loop.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.runDemo(c, o)
		},
	}
	f := c.Flags()
	f.IntVar(&o.hosts, "hosts", 12, "number of simulated Linux hosts")
	f.IntVar(&o.windows, "windows", 4, "number of simulated Windows hosts (WinRM, Windows Update)")
	f.BoolVar(&o.faults, "faults", false, "inject faults: a held package lock, handshake resets, a host that never passes its health check, one that never comes back")
	f.BoolVar(&o.rolling, "rolling", true, "rolling sweep: each batch is patched, rebooted and healthy before the next starts (--rolling=false: parallel installs, paced reboots)")
	f.StringVar(&o.healthCmd, "health-cmd", "health-check", "health check run on each patched host (\"\" for none)")
	f.StringVar(&o.batch, "batch", "1,25%", "batch sizes: N, N% or a canary then a ramp (1,25%)")
	f.BoolVar(&o.keep, "keep", false, "keep the temporary inventory directory (the fleet itself stops when demo ends)")
	addOutputFlag(c, &o.output)
	f.IntVarP(&o.forks, "forks", "f", 20, "parallel workers")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log every remote command")
	f.BoolVar(&o.noProg, "no-progress", false, "no progress bars, even on a terminal")
	f.StringVar(&o.stateDir, "state-dir", "", "record the run here (default: a new temporary directory, kept and named on stderr)")
	_ = c.MarkFlagDirname("state-dir")
	f.Float64Var(&o.timeScale, "time-scale", 0.2, "how fast simulated time runs (1 = real time for reboot delays and lock waits)")
	o.risk.addFlags(c)
	return c
}

func (a *app) runDemo(c *cobra.Command, o demoOptions) error {
	if o.hosts < 1 || o.hosts > 2000 {
		return fmt.Errorf("--hosts %d: want 1 to 2000", o.hosts)
	}
	if o.windows < 0 || o.windows > 200 {
		return fmt.Errorf("--windows %d: want 0 to 200", o.windows)
	}
	if o.timeScale <= 0 || o.timeScale > 1 {
		return fmt.Errorf("--time-scale %g: want a value in (0, 1]", o.timeScale)
	}
	po := patchOptions{
		common: commonOptions{
			inventory: "(demo)", forks: o.forks, output: o.output, verbose: o.verbose, noProgress: o.noProg,
			connectTimeout: 5 * time.Second, timeout: 5 * time.Minute, order: "inventory",
		},
		// Simulated reboots take a few seconds at most: one that never
		// ends (--faults) is given up on soon.
		reboot:       rebootOptions{batch: o.batch, rebootTimeout: max(3*time.Second, time.Duration(100*float64(time.Second)*o.timeScale))},
		steps:        stepsOptions{healthCmd: o.healthCmd, healthTimeout: 3 * time.Second},
		rebootPolicy: string(runner.RebootIfRequired),
		maxRounds:    3,
	}
	plan, err := po.plan()
	if err != nil {
		return err
	}
	// Simulated hosts come back in a second or two: poll them faster than
	// real hosts so the demo stays brisk.
	plan.Timing = runner.Timing{PollInterval: 100 * time.Millisecond, PollMax: 500 * time.Millisecond, ProbeTimeout: 2 * time.Second}
	plan.Steps.HealthInterval = 200 * time.Millisecond
	plan.Rolling = o.rolling
	// Check every flag before anything starts: a bad --batch must not
	// cost a fleet start-up first.
	if err := po.common.validate(); err != nil {
		return err
	}
	if err := o.risk.apply(&po.common); err != nil {
		return err
	}
	stateDir, reportPath, err := a.demoState(o.stateDir)
	if err != nil {
		return err
	}
	po.common.recorded, po.common.stateDir, po.common.flags = true, stateDir, c.Flags()
	po.common.localHistory = true
	po.common.reports.files = []string{reportPath}
	dir, err := os.MkdirTemp("", "patchrun-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if o.keep {
		fmt.Fprintf(a.streams.Err, "demo: inventory directory %s (kept)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	cfg := fleet.Config{
		Count:       o.hosts,
		TimeScale:   o.timeScale,
		RebootDelay: 200 * time.Millisecond,
		DownTime:    time.Duration(float64(4*time.Second) * o.timeScale * 2),
		InstallTime: 40 * time.Millisecond,
	}
	ctx := c.Context()
	fl, err := fleet.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: start simulated fleet: %w", err)
	}
	defer fl.Close()
	if o.faults {
		injectDemoFaults(a, fl)
	}
	invPath, err := fl.WriteInventory(dir)
	if err != nil {
		return fmt.Errorf("demo: write inventory: %w", err)
	}
	if o.windows > 0 {
		wcfg := winsim.FleetConfig{Count: o.windows, TimeScale: o.timeScale, Faults: o.faults}
		if o.healthCmd != "" {
			wcfg.PowerShell = map[string]winsim.PSAnswer{o.healthCmd: {Stdout: "healthy\r\n"}}
		}
		wf, err := winsim.StartFleet(ctx, wcfg)
		if err != nil {
			return fmt.Errorf("demo: start simulated windows hosts: %w", err)
		}
		defer wf.Close()
		if err := winsim.AppendInventory(invPath, wf.Hosts()); err != nil {
			return fmt.Errorf("demo: add windows hosts to the inventory: %w", err)
		}
		if o.faults {
			fmt.Fprintf(a.streams.Err, "demo: windows faults: %s\n", wf.FaultSummary())
		}
	}
	fmt.Fprintf(a.streams.Err, "demo: %d simulated Linux and %d Windows hosts on 127.0.0.1; inventory %s\n", len(fl.Hosts()), o.windows, invPath)

	po.common.inventory = invPath
	hosts, err := a.hostsFor(&po.common)
	if err != nil {
		return err
	}
	// The simulated Windows installer finishes in a second or two: poll its
	// status file often. A developer's own ~/.ssh/config must not redirect
	// the simulated hosts.
	fastWindows := func(c *connect.Options) {
		c.Windows = windows.Options{PollInterval: 200 * time.Millisecond, ReadyPause: 200 * time.Millisecond}
		c.SSHConfig = ""
	}
	err = a.runFleet(ctx, &po.common, plan, hosts, fastWindows)
	if _, statErr := os.Stat(reportPath); statErr == nil {
		fmt.Fprintf(a.streams.Err, "demo: report %s\n", reportPath)
	}
	return err
}

// demoState is the demo's state directory (dir, else a new temporary
// one, kept) and the report it writes there: HTML, or Markdown in a
// build without the HTML renderer.
func (a *app) demoState(dir string) (string, string, error) {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "patchrun-demo-state-"); err != nil {
			return "", "", fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(a.streams.Err, "demo: state directory %s (kept: patchrun hosts --state-dir %s)\n", dir, dir)
	}
	if err := state.Ensure(dir); err != nil {
		return "", "", fmt.Errorf("--state-dir %s: %w", dir, err)
	}
	ext := ".html"
	if htmlRenderer() == nil {
		ext = ".md"
	}
	return dir, filepath.Join(dir, "report-"+time.Now().UTC().Format("20060102T150405Z")+ext), nil
}

// injectDemoFaults gives three or four hosts something to overcome, so the demo
// shows what patchrun does when hosts misbehave.
func injectDemoFaults(a *app, fl *fleet.Fleet) {
	hosts := fl.Hosts()
	pick := func(i int) *fleet.SimHost { return fl.Host(hosts[i%len(hosts)].Name) }
	if len(hosts) < 3 {
		return
	}
	lock := pick(0)
	lock.SetFaults(fleet.Faults{LockHeld: 3 * time.Second})
	resets := pick(1)
	resets.SetFaults(fleet.Faults{HandshakeResets: 2})
	gone := pick(len(hosts) - 1)
	gone.SetFaults(fleet.Faults{NeverReturn: true})
	unhealthy := ""
	if len(hosts) >= 4 {
		pick(2).SetFaults(fleet.Faults{Unhealthy: true})
		unhealthy = "; " + hosts[2].Name + " never passes its health check"
	}
	fmt.Fprintf(a.streams.Err, "demo: faults: %s holds its package lock for 3s; %s resets its first 2 SSH handshakes%s; %s never comes back from its reboot\n",
		hosts[0].Name, hosts[1].Name, unhealthy, hosts[len(hosts)-1].Name)
}
