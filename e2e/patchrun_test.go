package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The `-o json` document, as docs/report.md describes it. Decoded into the
// test's own types so that a change of the JSON shape breaks these tests.
type report struct {
	Command string       `json:"command"`
	Hosts   []hostResult `json:"hosts"`
	Summary struct {
		Hosts            int `json:"hosts"`
		OK               int `json:"ok"`
		Failed           int `json:"failed"`
		Unreachable      int `json:"unreachable"`
		Skipped          int `json:"skipped"`
		UpdatesFound     int `json:"updates_found"`
		UpdatesInstalled int `json:"updates_installed"`
		Rebooted         int `json:"rebooted"`
	} `json:"summary"`
	Halted bool `json:"halted"`
}

type hostResult struct {
	Name       string   `json:"name"`
	Address    string   `json:"address"`
	OS         string   `json:"os"`
	Status     string   `json:"status"`
	Error      string   `json:"error"`
	ErrorKind  string   `json:"error_kind"`
	Updates    []update `json:"updates"`
	Vulnerable []struct {
		Name string   `json:"name"`
		CVEs []string `json:"cves"`
	} `json:"vulnerable"`
	RebootRequired bool   `json:"reboot_required"`
	Rebooted       bool   `json:"rebooted"`
	RebootBatch    int    `json:"reboot_batch"`
	BootIDBefore   string `json:"boot_id_before"`
	BootIDAfter    string `json:"boot_id_after"`
	RebootCancel   string `json:"reboot_cancel"`
	PlanDrift      *struct {
		Changed []struct {
			Name      string `json:"name"`
			Planned   string `json:"planned"`
			Available string `json:"available"`
		} `json:"changed"`
	} `json:"plan_drift"`
	Facts *struct {
		OSName        string    `json:"os_name"`
		OSVersion     string    `json:"os_version"`
		Kernel        string    `json:"kernel"`
		Arch          string    `json:"arch"`
		LastBoot      time.Time `json:"last_boot"`
		UptimeSeconds int64     `json:"uptime_seconds"`
		LastUpdated   time.Time `json:"last_updated"`
		Addresses     []string  `json:"addresses"`
		GatheredAt    time.Time `json:"gathered_at"`
	} `json:"facts"`
	Exec *struct {
		ExitCode int    `json:"exit_code"`
		Stdout   string `json:"stdout"`
		Stderr   string `json:"stderr"`
	} `json:"exec"`
}

type update struct {
	Name      string `json:"name"`
	Current   string `json:"current"`
	Available string `json:"available"`
	Security  bool   `json:"security"`
	Installed bool   `json:"installed"`
	// risk data (--advisories, --kev)
	Advisory       string   `json:"advisory"`
	CVEs           []string `json:"cves"`
	KnownExploited bool     `json:"known_exploited"`
	KEVDue         string   `json:"kev_due"`
}

func (r report) host(t *testing.T, name string) hostResult {
	t.Helper()
	for _, h := range r.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %s missing from the report", name)
	return hostResult{}
}

func (h hostResult) update(name string) (update, bool) {
	for _, u := range h.Updates {
		if u.Name == name {
			return u, true
		}
	}
	return update{}, false
}

// buildPatchrun builds the real binary from the repository root, or takes
// PATCHRUN_BIN when set (a binary built elsewhere, e.g. by CI).
func buildPatchrun(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PATCHRUN_BIN"); bin != "" {
		t.Logf("using PATCHRUN_BIN=%s", bin)
		return bin
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	bin := filepath.Join(t.TempDir(), "patchrun")
	start := time.Now()
	c := exec.Command(goTool, "build", "-o", bin, ".")
	c.Dir = ".."
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go build patchrun: %v\n%s", err, out)
	}
	t.Logf("TIMING go build patchrun: %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// patchrun runs the binary in the lab's control namespace.
type patchrun struct {
	bin string
	lab *lab
	env []string // extra environment for the runs ("KEY=value")
}

// run runs `patchrun ARGS… -o json` and returns the decoded report and the
// exit code. A missing or unparsable report fails the test.
func (p patchrun) run(t *testing.T, timeout time.Duration, args ...string) (report, int) {
	t.Helper()
	start := time.Now()
	rep, code, stderr, err := p.invoke(timeout, args...)
	if err != nil {
		t.Fatalf("patchrun %s: exit %d: %v", strings.Join(args, " "), code, err)
	}
	t.Logf("TIMING patchrun %s: %s (exit %d)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), code)
	if testing.Verbose() {
		t.Logf("patchrun stderr (tail):\n%s", tail(stderr, 1500))
	}
	return rep, code
}

// invoke runs `patchrun ARGS… -o json` and returns the decoded report, the
// exit code and stderr. It does not touch the test, so several may run at
// once from goroutines.
func (p patchrun) invoke(timeout time.Duration, args ...string) (report, int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// exec's COMMAND follows "--": the common flags go before it.
	flags, command := args, []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		flags, command = args[:i], args[i:]
	}
	full := append([]string{"run", "--", p.bin}, flags...)
	full = append(full, "-i", p.lab.inventory(), "-o", "json", "--no-progress")
	full = append(full, command...)
	var stdout, stderr bytes.Buffer
	c := p.lab.command(ctx, full...)
	c.Env = append(c.Env, p.env...)
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return report{}, 0, stderr.String(), err
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return report{}, code, stderr.String(), fmt.Errorf("stdout is not a JSON report: %v\nstdout:\n%s\nstderr:\n%s",
			err, stdout.String(), tail(stderr.String(), 4000))
	}
	return rep, code, stderr.String(), nil
}

// exitCode is the exit code of a finished command; a command that could
// not run at all fails the test.
func exitCode(t *testing.T, err error, what string) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", what, err)
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
