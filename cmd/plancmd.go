package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/savedplan"
)

// selectionOptions are the flags that pick updates: patch's, and scan's
// when it saves a plan.
type selectionOptions struct {
	securityOnly   bool
	include        []string
	exclude        []string
	includeOpt     bool
	minSeverity    string
	cves           []string
	knownExploited bool
	minAge         ageFlag
}

// selectionFlags are the names selectionOptions adds.
var selectionFlags = []string{"security-only", "include", "exclude", "include-optional",
	"min-severity", "cve", "known-exploited", "min-age"}

func (o *selectionOptions) addFlags(c *cobra.Command, verb string) {
	f := c.Flags()
	f.BoolVar(&o.securityOnly, "security-only", false, verb+" only security updates")
	f.StringSliceVar(&o.include, "include", nil, verb+" only updates matching these patterns: package names, KB numbers or titles; globs, or /regexp/ (repeatable, comma-separated)")
	f.StringSliceVar(&o.exclude, "exclude", nil, "never "+verb+" updates matching these patterns (repeatable, comma-separated)")
	f.BoolVar(&o.includeOpt, "include-optional", false, "also "+verb+" optional updates (Windows BrowseOnly: previews, feature packs), skipped by default")
	f.StringVar(&o.minSeverity, "min-severity", "", verb+" only updates at least this severe: critical, important, moderate or low (normalised severity; an update without one never qualifies)")
	f.StringSliceVar(&o.cves, "cve", nil, verb+" only updates fixing one of these CVE ids (repeatable, comma-separated)")
	f.BoolVar(&o.knownExploited, "known-exploited", false, verb+" only updates fixing a CVE on the known-exploited list given with --kev")
	f.Var(&o.minAge, "min-age", verb+" only updates whose advisory was issued at least this long ago (e.g. 7d, 36h); updates without an issue date are held back")
	_ = c.RegisterFlagCompletionFunc("min-severity", cobra.FixedCompletions([]string{"critical", "important", "moderate", "low"}, cobra.ShellCompDirectiveNoFileComp))
}

func (o *selectionOptions) selection() patch.Selection {
	return o.saved().PatchSelection()
}

func (o *selectionOptions) saved() savedplan.Selection {
	var cves []string
	for _, c := range trimAll(o.cves) {
		cves = append(cves, strings.ToUpper(c))
	}
	return savedplan.Selection{SecurityOnly: o.securityOnly, Include: trimAll(o.include), Exclude: trimAll(o.exclude), IncludeOptional: o.includeOpt,
		MinSeverity: strings.ToLower(strings.TrimSpace(o.minSeverity)), CVEs: cves, KnownExploited: o.knownExploited,
		MinAgeSeconds: int64(time.Duration(o.minAge) / time.Second)}
}

// check refuses selection values that cannot work, naming the flag, before
// any host is contacted.
func (o *selectionOptions) check(c *cobra.Command) error {
	sel := o.selection()
	if err := sel.Validate(); err != nil {
		return fmt.Errorf("--include/--exclude: %w", err)
	}
	var pe *patch.PolicyError
	if err := sel.ValidatePolicy(); errors.As(err, &pe) {
		flag := map[string]string{"MinSeverity": "--min-severity", "CVEs": "--cve", "MinAge": "--min-age"}[pe.Field]
		return fmt.Errorf("%s %w", flag, err)
	} else if err != nil {
		return err
	}
	// Only the known-exploited list marks updates: without it nothing
	// would ever be selected.
	if kev := c.Flags().Lookup("kev"); o.knownExploited && (kev == nil || !kev.Changed) {
		return fmt.Errorf("--known-exploited needs the known-exploited list: add --kev FILE (CISA's known_exploited_vulnerabilities.json)")
	}
	return nil
}

// givenSelectionFlag names the first selection flag given on c, "" if none.
func givenSelectionFlag(c *cobra.Command) string {
	for _, name := range selectionFlags {
		if c.Flags().Changed(name) {
			return "--" + name
		}
	}
	return ""
}

// ageFlag is a duration that also takes days ("7d", "36h", "90m").
type ageFlag time.Duration

func (a *ageFlag) String() string { return savedplan.FormatAge(time.Duration(*a)) }
func (a *ageFlag) Type() string   { return "duration" }
func (a *ageFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return fmt.Errorf("want a positive number of days like 7d, or a duration like 36h")
		}
		*a = ageFlag(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration like 36h, or days like 7d")
	}
	*a = ageFlag(d)
	return nil
}

// planOptions are patch's saved-plan flags.
type planOptions struct {
	path   string
	maxAge ageFlag
	strict bool
}

func (o *planOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	o.maxAge = ageFlag(savedplan.DefaultMaxAge)
	f.StringVar(&o.path, "plan", "", "install exactly the updates and versions a plan saved by scan --save-plan holds, never newer ones; hosts it does not hold are skipped")
	f.Var(&o.maxAge, "plan-max-age", "refuse a --plan older than this (e.g. 36h, 14d)")
	f.BoolVar(&o.strict, "strict-plan", false, "with --plan: fail a host whose pending updates differ from its plan (error_kind plan-drift) and install nothing on it")
}

// check refuses plan flags that make no sense together, before anything
// is read or contacted.
func (o *planOptions) check(c *cobra.Command) error {
	if o.path == "" {
		for _, name := range []string{"plan-max-age", "strict-plan"} {
			if c.Flags().Changed(name) {
				return fmt.Errorf("--%s works only with --plan FILE", name)
			}
		}
		return nil
	}
	if flag := givenSelectionFlag(c); flag != "" {
		return fmt.Errorf("--plan and %s: the plan already holds the selection its scan made; drop %s (or scan again with it and --save-plan)", flag, flag)
	}
	return nil
}

// apply reads the plan, refuses it if it is too old, corrupt or names
// hosts the inventory lacks, and puts it into the runner plan.
func (o *planOptions) apply(p *runner.Plan, inventoryPath string, all []inventory.Host, warn io.Writer, now time.Time) error {
	sp, err := savedplan.Read(o.path)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(all))
	for _, h := range all {
		names = append(names, h.Name)
	}
	if err := sp.Check(now, time.Duration(o.maxAge), names); err != nil {
		return fmt.Errorf("--plan %s: %w", o.path, err)
	}
	if abs, err := filepath.Abs(inventoryPath); err == nil && sp.Inventory != "" && abs != sp.Inventory {
		fmt.Fprintf(warn, "patchrun: warning: --plan %s was made from inventory %s, this run reads %s\n",
			termtext.Text(o.path), termtext.Text(sp.Inventory), termtext.Text(abs))
	}
	p.Planned = map[string]runner.PlannedHost{}
	for _, h := range sp.Hosts {
		sel, rest := h.Planned()
		p.Planned[h.Name] = runner.PlannedHost{Updates: sel, NotSelected: rest}
	}
	p.StrictPlan = o.strict
	return nil
}

// savePlan writes the plan a finished scan selected and says on warn what
// it holds and which hosts it left out.
func savePlan(path string, r report.Report, sel savedplan.Selection, inventoryPath, limit string, warn io.Writer, now time.Time) error {
	abs, err := filepath.Abs(inventoryPath)
	if err != nil {
		abs = inventoryPath
	}
	sp := savedplan.Build(r, sel, abs, limit, now)
	if err := sp.Write(path); err != nil {
		return &resultError{err}
	}
	n := 0
	for _, h := range sp.Hosts {
		n += len(h.Updates)
	}
	fmt.Fprintf(warn, "patchrun: plan saved to %s: %d hosts, %d updates\n", termtext.Text(path), len(sp.Hosts), n)
	for _, l := range sp.LeftOut {
		fmt.Fprintf(warn, "patchrun: plan: left out %s (%s): %s\n", termtext.Text(l.Name), l.Status, termtext.Text(l.Reason))
	}
	return nil
}

// reportDrift says on warn which hosts' pending updates differed from the
// plan, so a text run shows it too (the JSON has it in plan_drift).
func reportDrift(r report.Report, warn io.Writer) error {
	for _, h := range r.Hosts {
		if h.PlanDrift != nil {
			fmt.Fprintf(warn, "patchrun: plan drift on %s: %s\n", termtext.Text(h.Name), termtext.Text(h.PlanDrift.String()))
		}
	}
	return nil
}
