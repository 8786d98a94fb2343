// Command gendocs writes the CLI reference (docs/cli/*.md) from patchrun's
// cobra command tree, so every command and flag is documented as the binary
// defines it. With -check it writes nothing and exits 1 when the checked-in
// files differ from what it would write (CI runs it that way).
//
//	go run ./tools/gendocs          # regenerate docs/cli
//	go run ./tools/gendocs -check   # fail if docs/cli is stale
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/patchrun/patchrun/cmd"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", filepath.Join("docs", "cli"), "directory of the generated markdown")
	check := fs.Bool("check", false, "write nothing; exit 1 if the files in -dir are stale")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pages := render(cmd.CommandTree())
	if *check {
		stale, err := compare(*dir, pages)
		if err != nil {
			fmt.Fprintf(stderr, "gendocs: %v\n", err)
			return 1
		}
		if len(stale) > 0 {
			fmt.Fprintf(stderr, "gendocs: the CLI reference in %s is stale:\n", *dir)
			for _, s := range stale {
				fmt.Fprintf(stderr, "  %s\n", s)
			}
			fmt.Fprintln(stderr, "hint: run go run ./tools/gendocs and commit the result")
			return 1
		}
		return 0
	}
	if err := write(*dir, pages); err != nil {
		fmt.Fprintf(stderr, "gendocs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "gendocs: wrote %d pages to %s\n", len(pages), *dir)
	return 0
}

// header marks a page as generated; compare and write only ever touch
// .md files in the directory.
const header = "<!-- Generated from the command tree by `go run ./tools/gendocs`. Do not edit. -->\n\n"

// render returns one markdown page per visible command, keyed by file name.
func render(root *cobra.Command) map[string][]byte {
	pages := map[string][]byte{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		pages[fileName(c)] = page(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return pages
}

func fileName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

func page(c *cobra.Command) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", c.CommandPath(), c.Short)
	if long := strings.TrimSpace(c.Long); long != "" {
		fmt.Fprintf(&b, "%s\n\n", long)
	}
	if c.Runnable() {
		fmt.Fprintf(&b, "## Usage\n\n```\n%s\n```\n\n", c.UseLine())
	}
	if ex := strings.TrimSpace(c.Example); ex != "" {
		fmt.Fprintf(&b, "## Examples\n\n```\n%s\n```\n\n", ex)
	}
	flagTable(&b, "Flags", c.NonInheritedFlags())
	flagTable(&b, "Inherited flags", c.InheritedFlags())
	var subs []*cobra.Command
	for _, sub := range c.Commands() {
		if !sub.Hidden && sub.Name() != "help" {
			subs = append(subs, sub)
		}
	}
	if len(subs) > 0 {
		b.WriteString("## Commands\n\n| command | what it does |\n|---|---|\n")
		for _, sub := range subs {
			fmt.Fprintf(&b, "| [%s](%s) | %s |\n", sub.CommandPath(), fileName(sub), cell(sub.Short))
		}
		b.WriteString("\n")
	}
	if p := c.Parent(); p != nil {
		fmt.Fprintf(&b, "Part of [%s](%s).\n", p.CommandPath(), fileName(p))
	} else {
		b.WriteString("Every command also takes `-h, --help`.\n")
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n')
}

// flagTable writes the visible flags of fs in cobra's (sorted) order.
func flagTable(b *bytes.Buffer, title string, fs *pflag.FlagSet) {
	var rows []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", " + name
		}
		typ, usage := pflag.UnquoteUsage(f)
		if typ != "" {
			name += " " + typ
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | %s |", name, defaultCell(f), cell(usage)))
	})
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n| flag | default | meaning |\n|---|---|---|\n%s\n\n", title, strings.Join(rows, "\n"))
}

func defaultCell(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "[]", "false":
		return ""
	}
	return "`" + f.DefValue + "`"
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// compare lists what differs between dir and pages: changed, missing and
// extra .md files.
func compare(dir string, pages map[string][]byte) ([]string, error) {
	have, err := existing(dir)
	if err != nil {
		return nil, err
	}
	var stale []string
	for name, want := range pages {
		got, ok := have[name]
		switch {
		case !ok:
			stale = append(stale, name+": missing")
		case !bytes.Equal(got, want):
			stale = append(stale, name+": differs from the command tree")
		}
	}
	for name := range have {
		if _, ok := pages[name]; !ok {
			stale = append(stale, name+": no such command any more")
		}
	}
	slices.Sort(stale)
	return stale, nil
}

// existing reads the .md files in dir; a missing dir has none.
func existing(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	have := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".md" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, e.Name()), err)
		}
		have[e.Name()] = data
	}
	return have, nil
}

// write makes dir hold exactly pages: stale .md files are removed.
func write(dir string, pages map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	have, err := existing(dir)
	if err != nil {
		return err
	}
	for name := range have {
		if _, ok := pages[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("remove stale page: %w", err)
			}
		}
	}
	for name, data := range pages {
		// Source files of the repository, readable like the rest of it.
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write page: %w", err)
		}
	}
	return nil
}
