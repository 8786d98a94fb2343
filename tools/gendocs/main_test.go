package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/cmd"
)

// TestCheckedInCLIReferenceIsCurrent fails when a flag or command changed
// without `go run ./tools/gendocs`.
func TestCheckedInCLIReferenceIsCurrent(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-check", "-dir", filepath.Join("..", "..", "docs", "cli")}, &out, &errOut); code != 0 {
		t.Fatalf("gendocs -check exited %d:\n%s", code, errOut.String())
	}
}

func TestCheckNamesEveryStalePage(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("gendocs exited %d:\n%s", code, errOut.String())
	}
	if code := run([]string{"-check", "-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("check right after generating exited %d:\n%s", code, errOut.String())
	}

	// A changed page, a missing page and a page for a removed command.
	if err := os.WriteFile(filepath.Join(dir, "patchrun_scan.md"), []byte("old text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "patchrun_exec.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "patchrun_gone.md"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"-check", "-dir", dir}, &out, &errOut); code != 1 {
		t.Fatalf("check on stale pages exited %d, want 1", code)
	}
	for _, want := range []string{
		"patchrun_scan.md: differs",
		"patchrun_exec.md: missing",
		"patchrun_gone.md: no such command",
		"hint: run go run ./tools/gendocs",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errOut.String())
		}
	}

	// Regenerating repairs all three.
	if code := run([]string{"-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("regenerate exited %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "patchrun_gone.md")); !os.IsNotExist(err) {
		t.Errorf("the page of a removed command is still there (stat: %v)", err)
	}
	if code := run([]string{"-check", "-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("check after regenerating exited %d:\n%s", code, errOut.String())
	}
}

// Every flag of every command appears in its page, with its default.
func TestEveryFlagIsDocumented(t *testing.T) {
	pages := render(cmd.CommandTree())
	page := string(pages["patchrun_patch.md"])
	for _, want := range []string{
		"# patchrun patch",
		"patchrun patch -i FILE [-l PATTERN] [flags]",
		"| `-i, --inventory string` |",
		"| `--batch string` | `10%` |",
		"| `--max-rounds int` | `3` |",
		"| `--dry-run` |",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("patchrun_patch.md lacks %q:\n%s", want, page)
		}
	}
	root := string(pages["patchrun.md"])
	for _, sub := range []string{"scan", "patch", "reboot", "exec", "inventory", "demo", "version", "completion"} {
		link := "[patchrun " + sub + "](patchrun_" + sub + ".md)"
		if !strings.Contains(root, link) {
			t.Errorf("patchrun.md does not link %s", link)
		}
	}
}
