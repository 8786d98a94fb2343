package cmd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/runner"
)

func TestParseBudget(t *testing.T) {
	tests := []struct {
		in      string
		want    runner.Budget
		wantErr bool
	}{
		{"5", runner.Budget{N: 5}, false},
		{"0", runner.Budget{N: 0}, false},
		{"20%", runner.Budget{N: 20, Percent: true}, false},
		{" 100% ", runner.Budget{N: 100, Percent: true}, false},
		{"101%", runner.Budget{}, true},
		{"-1", runner.Budget{}, true},
		{"ten", runner.Budget{}, true},
		{"", runner.Budget{}, true},
		{"5%%", runner.Budget{}, true},
	}
	for _, tt := range tests {
		got, err := parseBudget("--batch", tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseBudget(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("parseBudget(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseBatchRamp(t *testing.T) {
	steps, err := parseBatch("1,10%, 25%")
	if err != nil {
		t.Fatal(err)
	}
	want := []runner.Budget{{N: 1}, {N: 10, Percent: true}, {N: 25, Percent: true}}
	if len(steps) != len(want) {
		t.Fatalf("parseBatch = %+v, want %+v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i+1, steps[i], want[i])
		}
	}
	for _, bad := range []string{"1,,2", "1,0", "0", "1,abc", "1;2"} {
		if _, err := parseBatch(bad); err == nil {
			t.Errorf("parseBatch(%q) accepted a bad ramp", bad)
		}
	}
	o := patchOptions{reboot: rebootOptions{batch: "1,50%", rebootTimeout: 1e9}, rebootPolicy: "if-required", maxRounds: 1}
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Batches) != 2 || p.Batches[1] != (runner.Budget{N: 50, Percent: true}) {
		t.Errorf("plan batches = %+v", p.Batches)
	}
}

func TestPatchPlanFromFlags(t *testing.T) {
	o := patchOptions{
		reboot:       rebootOptions{batch: "25%", maxFailures: "2", rebootTimeout: 60e9},
		rebootPolicy: "always",
		selectionOptions: selectionOptions{
			include: []string{" openssl* ", ""},
			exclude: []string{"/^linux-image/"},
		},
		maxRounds: 2,
	}
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Reboot != runner.RebootAlways || p.Batches.String() != "25%" || p.MaxFailures != (runner.Budget{N: 2}) {
		t.Errorf("plan = %+v", p)
	}
	if len(p.Selection.Include) != 1 || p.Selection.Include[0] != "openssl*" {
		t.Errorf("include = %q, want [openssl*]", p.Selection.Include)
	}
	if !p.Refresh {
		t.Error("refresh should default to on")
	}

	o.reboot.maxFailures = ""
	p, err = o.plan()
	if err != nil {
		t.Fatal(err)
	}
	if !p.MaxFailures.Unlimited {
		t.Errorf("no --max-failures should mean unlimited, got %+v", p.MaxFailures)
	}
	if p.MaxUnreachable != nil {
		t.Errorf("no --max-unreachable should mean no unreachable budget, got %+v", *p.MaxUnreachable)
	}
	o.reboot.maxUnreachable = "2"
	if p, err = o.plan(); err != nil {
		t.Fatal(err)
	}
	if p.MaxUnreachable == nil || *p.MaxUnreachable != (runner.Budget{N: 2}) {
		t.Errorf("--max-unreachable 2 gave %+v, want a budget of 2 hosts", p.MaxUnreachable)
	}
}

func TestPatchPlanRejectsBadFlags(t *testing.T) {
	base := func() patchOptions {
		return patchOptions{reboot: rebootOptions{batch: "1", rebootTimeout: 1e9}, rebootPolicy: "if-required", maxRounds: 3}
	}
	tests := map[string]func(*patchOptions){
		"reboot policy":          func(o *patchOptions) { o.rebootPolicy = "sometimes" },
		"zero batch":             func(o *patchOptions) { o.reboot.batch = "0" },
		"bad batch":              func(o *patchOptions) { o.reboot.batch = "lots" },
		"bad budget":             func(o *patchOptions) { o.reboot.maxFailures = "1.5" },
		"bad unreachable budget": func(o *patchOptions) { o.reboot.maxUnreachable = "101%" },
		"zero rounds":            func(o *patchOptions) { o.maxRounds = 0 },
		"bad regexp":             func(o *patchOptions) { o.include = []string{"/(/"} },
		"reboot timeout":         func(o *patchOptions) { o.reboot.rebootTimeout = 0 },
	}
	for name, mutate := range tests {
		o := base()
		mutate(&o)
		if _, err := o.plan(); err == nil {
			t.Errorf("%s: plan() accepted bad flags", name)
		}
	}
}

// The flags' defaults are the runner's: a default changed in one place
// changes what users get.
func TestFlagDefaultsAreTheRunners(t *testing.T) {
	c := (&app{}).newPatchCmd()
	want := map[string]string{
		"forks":           fmt.Sprint(runner.DefaultForks),
		"connect-timeout": runner.DefaultConnectTimeout.String(),
		"timeout":         runner.DefaultStepTimeout.String(),
		"reboot-timeout":  runner.DefaultRebootTimeout.String(),
		"max-rounds":      fmt.Sprint(runner.DefaultMaxRounds),
		"batch":           runner.DefaultBatches().String(),
	}
	for name, def := range want {
		if got := c.Flags().Lookup(name).DefValue; got != def {
			t.Errorf("--%s default %q, runner's default %q", name, got, def)
		}
	}
}

// A bad --batch is quoted as the user typed it, not as the empty part
// the parser tripped on.
func TestBatchErrorQuotesTheValueGiven(t *testing.T) {
	for _, in := range []string{"1,,2", ",", "1,x"} {
		_, err := parseBatch(in)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("--batch %q", in)) {
			t.Errorf("parseBatch(%q) = %v, want an error quoting --batch %q", in, err, in)
		}
	}
}
