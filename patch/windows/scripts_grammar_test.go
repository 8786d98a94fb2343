package windows

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pscheckDir is tools/pscheck, relative to this package.
var pscheckDir = filepath.Join("..", "..", "tools", "pscheck")

// runPSCheck runs tools/pscheck/check.mjs on files. It skips when the
// checker is not installed (npm ci --ignore-scripts --prefix tools/pscheck),
// except under CI=true, where a missing checker is a failure.
func runPSCheck(t *testing.T, files ...string) (string, int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pscheckDir, "node_modules", "web-tree-sitter")); err != nil {
		msg := "PowerShell grammar check not installed: run `npm ci --ignore-scripts --prefix tools/pscheck`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found")
		}
		t.Skip("node not found")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	abs := make([]string, len(files))
	for i, f := range files {
		a, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		abs[i] = a
	}
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(pscheckDir, "check.mjs")}, abs...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("pscheck: %v\n%s", err, out)
	}
	return string(out), 0
}

// TestScriptsParse checks every embedded script, as stored and as sent
// (with the arguments line and Write-PatchrunResult composed in), against
// the tree-sitter PowerShell grammar. The same run also checks a
// deliberately broken script, proving the check can fail (one node run:
// loading the grammar takes seconds).
func TestScriptsParse(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, name := range ScriptNames() {
		files = append(files, filepath.Join("scripts", name+".ps1"))
		text, err := Compose(name, map[string]any{"run_id": "0123abcd", "update_ids": []string{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "composed-"+name+".ps1")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	broken := filepath.Join("testdata", "broken.ps1")
	out, code := runPSCheck(t, append(files, broken)...)
	if code != 1 {
		t.Fatalf("checker exit %d, want 1 (only the broken script fails):\n%s", code, out)
	}
	var brokenLines int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.Contains(line, "broken.ps1:"):
			brokenLines++
		case strings.HasPrefix(line, "pscheck:"):
		default:
			t.Errorf("grammar error in an embedded script: %s", line)
		}
	}
	if !strings.Contains(out, "broken.ps1:4:") {
		t.Errorf("the broken script's bad function header (line 4) was not reported:\n%s", out)
	}
	if want := fmt.Sprintf("%d file(s), 1 with errors", len(files)+1); !strings.Contains(out, want) {
		t.Errorf("checker summary does not say %q:\n%s", want, out)
	}
}
