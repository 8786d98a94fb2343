package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/internal/atomicfile"
	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/state"
)

// reportOptions are `report`'s flags.
type reportOptions struct {
	dir, db, output, file, since, csvRows string
	last                                  bool
	trend                                 int
	metrics                               string
}

func (a *app) newReportCmd() *cobra.Command {
	var o reportOptions
	c := &cobra.Command{
		Use:   "report [RUN-ID | --last | --since 30d] -o html|junit|csv|md|json [--file PATH]",
		Short: "Write a report of recorded runs from the history database (HTML, JUnit, CSV, Markdown, JSON)",
		Long: `report writes a report of one run (by its id, or the newest with --last, the
default) or of every run started within --since, from the history database
(patchrun.db in the state directory, or --db). No host is contacted; the database is
brought up to date from the run journals first.

Every format shows the selected runs and each host's result in them. The
figures (compliance, pending security updates by age and by OS, reboots
needed, failures) are the estate as of the end of the newest selected run,
over the hosts of the selected runs; the trend covers the last --trend runs
up to it, and "changed since the previous run" compares each host of the
newest selected run with its own previous result.

Formats: html (one self-contained page: a management page and a technician
page with each host's timeline), junit (one testsuite per run, one testcase
per host), csv (--csv-rows hosts or updates), md (a short summary), json
(the whole report). Without --file the report goes to stdout; with it, the
file is replaced atomically and readable by its owner only. --metrics FILE
also writes the estate in Prometheus text format (for node_exporter's
textfile collector).`,
		Example: `  patchrun report --last -o html --file report.html
  patchrun report 20261205T021500Z-3f9c -o junit --file junit.xml
  patchrun report --since 30d -o csv --csv-rows updates > updates.csv
  patchrun report -o md                       # paste into a ticket
  patchrun report --metrics /var/lib/node_exporter/textfile/patchrun.prom`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runReport(c, o, args)
		},
	}
	addStateDirFlag(c, &o.dir)
	addDBFlag(c, &o.db)
	fl := c.Flags()
	fl.BoolVar(&o.last, "last", false, "the newest run (the default)")
	fl.StringVar(&o.since, "since", "", "every run started within this long before now (30d, 36h)")
	fl.StringVarP(&o.output, "output", "o", "html", "format: html, junit, csv, md or json")
	fl.StringVar(&o.file, "file", "", "write the report to this file (atomically, mode 0600) instead of stdout")
	fl.StringVar(&o.csvRows, "csv-rows", estate.CSVHosts, "with -o csv: one row per host and run (hosts) or per update (updates)")
	fl.IntVar(&o.trend, "trend", estate.DefaultTrendRuns, "runs shown in the trend")
	addMetricsFlag(c, &o.metrics)
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"html", "junit", "csv", "md", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("csv-rows", cobra.FixedCompletions([]string{estate.CSVHosts, estate.CSVUpdates}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func addMetricsFlag(c *cobra.Command, path *string) {
	c.Flags().StringVar(path, "metrics", "", "also write the estate as Prometheus metrics to this file, atomically (node_exporter's textfile collector)")
}

func (a *app) runReport(c *cobra.Command, o reportOptions, args []string) error {
	sel := estate.Selection{Last: o.last, TrendRuns: o.trend, Now: time.Now()}
	n := 0
	for _, set := range []bool{len(args) == 1, o.last, o.since != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("give one of RUN-ID, --last and --since")
	}
	if len(args) == 1 {
		if !state.ValidRunID(args[0]) {
			return fmt.Errorf("run id %q: a run id looks like 20261205T021500Z-3f9c (see patchrun runs)", args[0])
		}
		sel.RunID = args[0]
	}
	if o.since != "" {
		d, err := history.ParseAge(o.since)
		if err != nil || d == 0 {
			return fmt.Errorf("--since %s: want a number of days like 30d, or a duration like 36h", o.since)
		}
		sel.Since = d
	}
	if o.trend < 1 {
		return fmt.Errorf("--trend %d: must be at least 1", o.trend)
	}
	f, err := estate.ParseFormat(o.output)
	if err != nil {
		return fmt.Errorf("--output %w", err)
	}
	if o.csvRows != estate.CSVHosts && o.csvRows != estate.CSVUpdates {
		return fmt.Errorf("--csv-rows %s: want hosts or updates", o.csvRows)
	}
	opts := estate.Options{CSVRows: o.csvRows, HTML: htmlRenderer()}
	if f == estate.FormatHTML && opts.HTML == nil {
		return fmt.Errorf("-o html: %w (hint: -o md, json, junit or csv)", estate.ErrNoHTML)
	}
	for _, p := range []struct{ flag, path string }{{"--file", o.file}, {"--metrics", o.metrics}} {
		if err := checkOutputPath(p.flag, p.path); err != nil {
			return err
		}
	}
	db, err := a.historyDB(o.db)
	if err != nil {
		return err
	}
	dir, err := historyDir(a, o.dir)
	if err != nil {
		return err
	}
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openSyncedHistory(ctx, a, dir, db)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := estate.Load(ctx, st, sel)
	if errors.Is(err, estate.ErrNoRuns) {
		return err
	}
	if err != nil {
		return fmt.Errorf("history database: %w", err)
	}
	if o.file != "" {
		if err := estate.WriteFile(o.file, f, rep, opts); err != nil {
			return fmt.Errorf("--file %s: %w", o.file, err)
		}
	} else if err := a.writeReportOut(f, rep, opts); err != nil {
		return &resultError{fmt.Errorf("write report: %w", err)}
	}
	if o.metrics != "" {
		return writeMetrics(ctx, st, o.metrics)
	}
	return nil
}

// writeReportOut writes the report to stdout. On a terminal, what a
// terminal would act on in remote text (escape sequences) is shown
// escaped; a pipe or a file gets the bytes.
func (a *app) writeReportOut(f estate.Format, rep *estate.Report, opts estate.Options) error {
	if !a.streams.IsTerminal(a.stdout) {
		return estate.Write(a.streams.Out, f, rep, opts)
	}
	var b strings.Builder
	if err := estate.Write(&b, f, rep, opts); err != nil {
		return err
	}
	_, err := io.WriteString(a.streams.Out, termtext.Text(b.String()))
	return err
}

// openSyncedHistory opens the history database (db as history.OpenDB
// takes it: "" is patchrun.db in dir) and brings it up to date with dir's
// journals.
func openSyncedHistory(ctx context.Context, a *app, dir, db string) (history.Store, error) {
	st, err := history.OpenDB(ctx, dir, db)
	if err != nil {
		return nil, err
	}
	res, err := history.Sync(ctx, st, dir, "")
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("history database: %w", err)
	}
	a.warnSkippedJournals(res)
	return st, nil
}

// writeMetrics writes the estate's metrics to path, atomically.
func writeMetrics(ctx context.Context, st history.Store, path string) error {
	m, err := estate.LoadMetrics(ctx, st)
	if err != nil {
		return fmt.Errorf("--metrics: history database: %w", err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return estate.WriteMetrics(w, m) }); err != nil {
		return fmt.Errorf("--metrics %s: %w", path, err)
	}
	return nil
}

// checkOutputPath refuses, before anything runs, an output file that
// could not be written: "-", a directory, or one whose directory is
// missing.
func checkOutputPath(flag, path string) error {
	if path == "" {
		return nil
	}
	if path == "-" {
		return fmt.Errorf("%s -: leave the flag out to write to stdout", flag)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s %s: is a directory (hint: name a file in it)", flag, path)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s %s: directory %s does not exist (hint: create it first)", flag, path, filepath.Dir(path))
	}
	return nil
}

// runReports are the files a run writes as it ends: --report FILE
// (repeatable, format from the extension) and --metrics FILE.
type runReports struct {
	files   []string
	metrics string
}

func (r *runReports) addFlags(c *cobra.Command) {
	c.Flags().StringArrayVar(&r.files, "report", nil, "write a report of this run as it ends, format from the extension: .html, .xml (JUnit), .csv, .md, .json (repeatable; reads the history database)")
	addMetricsFlag(c, &r.metrics)
}

// validate checks the files before the run starts.
func (r *runReports) validate(noHistory bool) error {
	if (len(r.files) > 0 || r.metrics != "") && noHistory {
		return fmt.Errorf("--report and --metrics read the history database: drop --no-history")
	}
	for _, p := range r.files {
		f, err := estate.FormatOfPath(p)
		if err != nil {
			return fmt.Errorf("--report %w", err)
		}
		if f == estate.FormatHTML && htmlRenderer() == nil {
			return fmt.Errorf("--report %s: %w (hint: .md, .json, .xml or .csv)", p, estate.ErrNoHTML)
		}
		if err := checkOutputPath("--report", p); err != nil {
			return err
		}
	}
	return checkOutputPath("--metrics", r.metrics)
}

// write writes the run's reports from the history database (the run was
// just imported). A failure is the run's result not written (exit 5).
func (r *runReports) write(a *app, o *commonOptions, stateDir, runID string) error {
	if len(r.files) == 0 && r.metrics == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	err := func() error {
		db, err := a.runDB(o)
		if err != nil {
			return err
		}
		st, err := openSyncedHistory(ctx, a, stateDir, db)
		if err != nil {
			return err
		}
		defer st.Close()
		if len(r.files) > 0 {
			rep, err := estate.Load(ctx, st, estate.Selection{RunID: runID})
			if err != nil {
				return err
			}
			for _, p := range r.files {
				f, _ := estate.FormatOfPath(p)
				if err := estate.WriteFile(p, f, rep, estate.Options{HTML: htmlRenderer()}); err != nil {
					return fmt.Errorf("--report %s: %w", p, err)
				}
			}
		}
		if r.metrics != "" {
			return writeMetrics(ctx, st, r.metrics)
		}
		return nil
	}()
	if err != nil {
		return &resultError{fmt.Errorf("report not written: %w", err)}
	}
	return nil
}
