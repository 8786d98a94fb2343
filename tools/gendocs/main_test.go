package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
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

// TestDocLinksStayInTheRepository: every markdown link in the README and
// docs/ is a relative path to a file that exists, so the docs never send a
// reader outside the repository or to a page that is gone.
func TestDocLinksStayInTheRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".md" {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" {
				continue
			}
			if strings.Contains(target, "://") || filepath.IsAbs(target) {
				t.Errorf("%s: link %q leaves the repository", f, m[1])
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s: link %q: %v", f, m[1], err)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Errorf("only %d links checked; the link pattern is broken", checked)
	}
}
