package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const examplesDir = "../examples"

// exampleInvocations is how many patchrun command lines each example
// holds, so a garbled one that the scanner skips is noticed. A new example
// must be added here.
var exampleInvocations = map[string]int{
	"README.md":             0,
	"patchrun-nightly.cron": 1,
	"patchrun.service":      1,
	"patchrun.timer":        0,
	"github-actions.yml":    2,
	"inventory.yaml":        3,
	"ansible-inventory.yml": 1,
	"hosts.ini":             1,
	"hosts.txt":             1,
}

// Every patchrun command line in examples/ goes through the real command
// tree, flags, defaults, validation, the example inventory it names and
// its --limit, up to the point where hosts would be contacted.
func TestExampleCommandLines(t *testing.T) {
	// The files the example inventories name, under a fresh home.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	for _, name := range []string{".ssh/id_ed25519", ".config/patchrun/winlab.pass", ".config/patchrun/lab-ca.pem"} {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"WIN_ADMIN_PASSWORD": "example"}

	subcommands := map[string]bool{}
	for _, c := range newApp(Streams{}).newRootCmd().Commands() {
		subcommands[c.Name()] = true
	}
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, known := exampleInvocations[e.Name()]
		if !known {
			t.Errorf("examples/%s is not checked: add it to exampleInvocations", e.Name())
			continue
		}
		data, err := os.ReadFile(filepath.Join(examplesDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := commandLines(e.Name(), string(data), subcommands)
		if len(lines) != want {
			t.Errorf("examples/%s: %d patchrun command lines, want %d", e.Name(), len(lines), want)
		}
		for _, args := range lines {
			got, r := parseCLI(t, env, args...)
			if r.code != ExitOK {
				t.Errorf("examples/%s: patchrun %s: exit %d:\n%s", e.Name(), strings.Join(args, " "), r.code, r.stderr)
				continue
			}
			if got != nil && len(got.hosts) == 0 {
				t.Errorf("examples/%s: patchrun %s selects no host", e.Name(), strings.Join(args, " "))
			}
		}
	}
}

// commandLines finds the patchrun command lines in an example (joining
// "\" continuations) and returns each one's arguments as a test can run
// them: the inventory path points into examples/, a shell variable given
// as a --limit becomes "all", any other one is dropped, and the line ends
// at a shell operator.
func commandLines(file, text string, subcommands map[string]bool) [][]string {
	text = strings.ReplaceAll(text, "\\\n", " ")
	if strings.HasSuffix(file, ".service") {
		text = strings.ReplaceAll(text, "%%", "%") // systemd specifier escape
	}
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		words := shellWords(line)
		for i := 0; i+1 < len(words); i++ {
			if filepath.Base(strings.TrimPrefix(words[i], "ExecStart=")) != "patchrun" || !subcommands[words[i+1]] {
				continue // prose such as "the patchrun user"
			}
			args := []string{words[i+1]}
			rest := words[i+2:]
			for j := 0; j < len(rest); j++ {
				w := rest[j]
				switch {
				case isShellOperator(w):
					j = len(rest)
				case (w == "-i" || w == "--inventory") && j+1 < len(rest):
					j++
					args = append(args, w, filepath.Join(examplesDir, filepath.Base(rest[j])))
				case (w == "-l" || w == "--limit") && j+1 < len(rest) && strings.Contains(rest[j+1], "$"):
					j++
					args = append(args, w, "all")
				case strings.HasPrefix(w, "$"):
				default:
					args = append(args, w)
				}
			}
			out = append(out, args)
			break
		}
	}
	return out
}

func isShellOperator(w string) bool {
	return strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>") || strings.HasPrefix(w, "<") ||
		w == "|" || w == "||" || w == "&&" || w == ";" || w == "&"
}

// shellWords splits like sh: quotes group, backslash escapes one character
// (so cron's \% reads as %), # at a word start begins a comment unless it
// is the first word (comment lines in examples show commands too).
func shellWords(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimLeft(line, "#")
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
