package cmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// commonOptions are the flags every fleet command takes.
type commonOptions struct {
	inventory      string
	limit          limitFlag
	forks          int
	output         string
	connectTimeout time.Duration
	timeout        time.Duration
	noProgress     bool
	verbose        bool
	order          string
	shard          string
	askPass        bool
	events         string
	noSSHConfig    bool
	// stateDir is --state-dir ("" = the default). recorded says the command
	// records its runs (every fleet command; demo does not); flags are its
	// flags, for the journal's header.
	stateDir string
	recorded bool
	// noHistory is --no-history: the run is not imported into patchrun.db.
	// db is --db: the history database ("" = PATCHRUN_DB, else patchrun.db).
	// localHistory: demo's simulated hosts stay in its own state
	// directory's patchrun.db, whatever PATCHRUN_DB says.
	noHistory    bool
	db           string
	localHistory bool
	flags        *pflag.FlagSet
	// reports are --report and --metrics (scan, patch, reboot, exec).
	reports runReports

	// Not flags: every host of the inventory before --limit and --shard
	// (set by loadHosts), and a step run on the finished report before it
	// is rendered (scan --save-plan).
	inventoryHosts []inventory.Host
	afterRun       func(report.Report) error
	// enricher holds the risk-data files scan and patch were given
	// (risk.go); nil for none.
	enricher runner.Enricher
}

func (o *commonOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file: patchrun YAML, Ansible YAML/INI, or one host per line (required)")
	f.VarP(&o.limit, "limit", "l", "hosts to act on: names, groups, globs, comma lists, !exclude, &intersect")
	f.IntVarP(&o.forks, "forks", "f", runner.DefaultForks, "parallel workers for connect/scan/install")
	addOutputFlag(c, &o.output)
	f.DurationVar(&o.connectTimeout, "connect-timeout", runner.DefaultConnectTimeout, "timeout for one connection attempt")
	f.DurationVar(&o.timeout, "timeout", runner.DefaultStepTimeout, "timeout for each per-host phase (scan, install, …)")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bars, even on a terminal")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log every remote command with its exit code and duration")
	f.StringVar(&o.order, "order", "inventory", "host order: inventory, sorted, shuffle, or risk (reboot batches and the text table take hosts with known-exploited, then critical, then most security fixes first)")
	f.StringVar(&o.shard, "shard", "", "act only on shard K of N of the selected hosts (K/N, e.g. 2/8)")
	f.BoolVar(&o.askPass, "ask-pass", false, "prompt once for a password used by hosts without password_env/password_file")
	f.BoolVar(&o.noSSHConfig, "no-ssh-config", false, "ignore ~/.ssh/config (by default it fills HostName, User, Port, IdentityFile and ProxyJump the inventory leaves unset)")
	f.StringVar(&o.events, "events", "", "also write every event (phases, steps, batches, results) as JSON lines to this file")
	addStateDirFlag(c, &o.stateDir)
	addNoHistoryFlag(c, &o.noHistory)
	addDBFlag(c, &o.db)
	o.recorded, o.flags = true, f
	_ = c.RegisterFlagCompletionFunc("order", cobra.FixedCompletions([]string{"inventory", "sorted", "shuffle", "risk"}, cobra.ShellCompDirectiveNoFileComp))
}

// addStateDirFlag adds --state-dir, where runs are recorded.
func addStateDirFlag(c *cobra.Command, dir *string) {
	c.Flags().StringVar(dir, "state-dir", "", "where runs are recorded (journals, locks); default $XDG_STATE_HOME/patchrun, ~/.local/state/patchrun, %LOCALAPPDATA%\\patchrun on Windows, /var/lib/patchrun for root without HOME")
	_ = c.MarkFlagDirname("state-dir")
}

// addOutputFlag adds -o/--output, its help and its completion, all from the
// report package's registry of formats.
func addOutputFlag(c *cobra.Command, output *string) {
	var completions []cobra.Completion
	for _, f := range report.Formats() {
		completions = append(completions, cobra.CompletionWithDesc(string(f), f.Describe()))
	}
	c.Flags().StringVarP(output, "output", "o", string(report.FormatText), "result format on stdout: "+report.FormatNames())
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(completions, cobra.ShellCompDirectiveNoFileComp))
}

// limitFlag is --limit, remembering whether it was given at all: -l "" (an
// unset variable in a script) must be refused, not mean every host.
type limitFlag struct {
	pattern string
	set     bool
}

func (l *limitFlag) String() string { return l.pattern }
func (l *limitFlag) Type() string   { return "string" }
func (l *limitFlag) Set(s string) error {
	l.pattern, l.set = s, true
	return nil
}

// validate checks flag values that cobra's types can't.
func (o *commonOptions) validate() error {
	if o.inventory == "" {
		return fmt.Errorf("no inventory given (hint: -i hosts.yaml; see examples/inventory.yaml)")
	}
	if o.forks < 1 {
		return fmt.Errorf("--forks %d: must be at least 1", o.forks)
	}
	if _, err := report.ParseFormat(o.output); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if o.connectTimeout <= 0 {
		return fmt.Errorf("--connect-timeout %s: must be positive", o.connectTimeout)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s: must be positive", o.timeout)
	}
	return o.reports.validate(o.noHistory)
}

// rebootOptions are the flags of the commands that reboot (patch, reboot).
type rebootOptions struct {
	batch          string
	maxFailures    string
	maxUnreachable string
	rebootTimeout  time.Duration
	dryRun         bool
}

func (o *rebootOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.batch, "batch", runner.DefaultBatches().String(), "hosts rebooted at once: a count (N), a percentage of the hosts to reboot (N%), or a canary then a ramp (1,10%,25%: the last size repeats)")
	f.StringVar(&o.maxFailures, "max-failures", "", "failure budget (N or N% of hosts): once more hosts than this have failed, no new reboot batch starts (default: no limit); unreachable hosts do not count here")
	f.StringVar(&o.maxUnreachable, "max-unreachable", "", "unreachable budget (N or N% of hosts): once more hosts than this were unreachable, no new reboot batch starts (default: no limit)")
	f.DurationVar(&o.rebootTimeout, "reboot-timeout", runner.DefaultRebootTimeout, "how long a host may take to go down and come back with a new boot id")
	f.BoolVar(&o.dryRun, "dry-run", false, "show what would be installed and which hosts would reboot; change nothing")
}

func (o *rebootOptions) apply(p *runner.Plan) error {
	batches, err := parseBatch(o.batch)
	if err != nil {
		return err
	}
	p.Batches = batches
	p.MaxFailures = runner.Budget{Unlimited: true}
	if o.maxFailures != "" {
		mf, err := parseBudget("--max-failures", o.maxFailures)
		if err != nil {
			return err
		}
		p.MaxFailures = mf
	}
	if o.maxUnreachable != "" {
		mu, err := parseBudget("--max-unreachable", o.maxUnreachable)
		if err != nil {
			return err
		}
		p.MaxUnreachable = &mu
	}
	if o.rebootTimeout <= 0 {
		return fmt.Errorf("--reboot-timeout %s: must be positive", o.rebootTimeout)
	}
	p.RebootTimeout = o.rebootTimeout
	p.DryRun = o.dryRun
	return nil
}

// parseBatch reads --batch: one size ("5", "20%"), or a canary then a ramp
// ("1,10%,25%": the first batch has 1 host, the second 10% of the hosts to
// reboot, then 25% per batch until done).
func parseBatch(s string) (runner.Batches, error) {
	var steps runner.Batches
	parts := strings.Split(s, ",")
	for i, part := range parts {
		b, err := parseBudget("--batch", part)
		if err != nil && len(parts) > 1 {
			// Quote the value given, not the one bad part ("1,,2" has "").
			return nil, fmt.Errorf("--batch %q: size %d of the ramp is %q: want counts like 5 or percentages like 20%% (a ramp like 1,10%%,25%%)", s, i+1, strings.TrimSpace(part))
		}
		if err != nil {
			return nil, fmt.Errorf("%w (or a ramp like 1,10%%,25%%)", err)
		}
		if b.N == 0 {
			return nil, fmt.Errorf("--batch %q: every batch needs at least 1 host", s)
		}
		steps = append(steps, b)
	}
	return steps, nil
}

// parseBudget reads "N" or "N%".
func parseBudget(flag, s string) (runner.Budget, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || n < 0 || (pct && n > 100) {
		return runner.Budget{}, fmt.Errorf("%s %q: want a count like 5 or a percentage like 20%%", flag, s)
	}
	return runner.Budget{N: n, Percent: pct}, nil
}

// validatePlan checks a plan built from flags by the runner's rules (the one
// place a plan is validated) and names the flag each bad value came from.
func validatePlan(p runner.Plan) error {
	err := p.Validate()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for i, e := range errs {
		var fe *runner.FieldError
		if errors.As(e, &fe) {
			if flag := flagOf(fe.Field); flag != "" {
				errs[i] = errors.New(fe.Describe(flag))
			}
		}
	}
	return errors.Join(errs...)
}

// flagOf names the flag that sets a runner.Plan field ("" if none does).
func flagOf(field string) string {
	switch field {
	case "Forks":
		return "--forks"
	case "Selection":
		return "--include/--exclude"
	case "Reboot":
		return "--reboot"
	case "Batches":
		return "--batch"
	case "MaxFailures":
		return "--max-failures"
	case "MaxUnreachable":
		return "--max-unreachable"
	case "MaxRounds":
		return "--max-rounds"
	case "ConnectTimeout":
		return "--connect-timeout"
	case "StepTimeout":
		return "--timeout"
	case "RebootTimeout":
		return "--reboot-timeout"
	case "Lock.TTL":
		return "--lock-ttl"
	case "Lock.Wait":
		return "--wait-lock"
	}
	return ""
}
