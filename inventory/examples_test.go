package inventory

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The examples directory must never go stale: every inventory there loads
// cleanly, every `patchrun` command line in any example uses real
// subcommands and flags, and every literal --limit selects hosts of the
// example inventory it names.

const examplesDir = "../examples"

// exampleInventories lists the inventory examples and the format each must
// be detected as; exampleOthers the remaining files. A new file must be
// added to one of them.
var exampleInventories = map[string]Format{
	"inventory.yaml":        FormatPatchrun,
	"ansible-inventory.yml": FormatAnsibleYAML,
	"hosts.ini":             FormatAnsibleINI,
	"hosts.txt":             FormatList,
}

// exampleOthers maps each non-inventory example to how many patchrun
// invocations it holds (so a garbled one that the scanner skips is noticed).
var exampleOthers = map[string]int{
	"README.md":             0,
	"patchrun-nightly.cron": 1,
	"patchrun.service":      1,
	"patchrun.timer":        0,
	"github-actions.yml":    2,
}

// exampleHome builds the home directory and environment the example
// inventories refer to: the key, the password file, the CA bundle.
func exampleHome(t *testing.T) LoadOptions {
	t.Helper()
	home := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		".ssh/id_ed25519":              0o600,
		".config/patchrun/winlab.pass": 0o600,
		".config/patchrun/lab-ca.pem":  0o644,
	} {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("placeholder\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"WIN_ADMIN_PASSWORD": "example"}
	return LoadOptions{Home: home, DefaultUser: "tester", Getenv: func(k string) string { return env[k] }}
}

func loadExamples(t *testing.T) map[string][]Host {
	t.Helper()
	opts := exampleHome(t)
	loaded := map[string][]Host{}
	for name, format := range exampleInventories {
		inv, err := LoadInventory(filepath.Join(examplesDir, name), opts)
		if err != nil {
			t.Errorf("examples/%s does not load:\n%v", name, err)
			continue
		}
		if inv.Format != format {
			t.Errorf("examples/%s detected as %q, want %q", name, inv.Format, format)
		}
		for _, w := range inv.Warnings {
			t.Errorf("examples/%s warns: %v", name, w)
		}
		if len(inv.Hosts) < 3 {
			t.Errorf("examples/%s has %d hosts; an example should show a few", name, len(inv.Hosts))
		}
		loaded[name] = inv.Hosts
	}
	return loaded
}

func TestExamplesAreAllKnown(t *testing.T) {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, inv := exampleInventories[e.Name()]
		_, other := exampleOthers[e.Name()]
		if !inv && !other {
			t.Errorf("examples/%s is not checked by any test: add it to exampleInventories or exampleOthers", e.Name())
		}
	}
	for name := range exampleInventories {
		if _, err := os.Stat(filepath.Join(examplesDir, name)); err != nil {
			t.Errorf("listed example missing: %v", err)
		}
	}
}

func TestExampleInventoriesLoad(t *testing.T) {
	loaded := loadExamples(t)
	// Spot checks that the showcase features really are in the showcase.
	if hosts := loaded["inventory.yaml"]; hosts != nil {
		var ssh, winrm, kerberos, https, fromFile int
		for _, h := range hosts {
			switch {
			case h.Transport == TransportSSH:
				ssh++
			case h.WinRMAuth == "kerberos":
				kerberos++
				if h.WinRMKerberosRealm == "" || strings.Contains(h.User, "@") {
					t.Errorf("inventory.yaml: kerberos host %s should show user@REALM split into user %q and a realm, got realm %q",
						h.Name, h.User, h.WinRMKerberosRealm)
				}
			}
			if h.Transport == TransportWinRM {
				winrm++
				if h.WinRMHTTPS {
					https++
				}
			}
			if strings.HasPrefix(h.Password.Source(), "file:") {
				fromFile++
			}
		}
		if ssh == 0 || winrm == 0 || kerberos == 0 || https == 0 || fromFile == 0 {
			t.Errorf("inventory.yaml should show ssh, winrm, https, kerberos and password_file hosts; got ssh=%d winrm=%d https=%d kerberos=%d file=%d",
				ssh, winrm, https, kerberos, fromFile)
		}
	}
	// The Ansible examples describe the same lab: both forms must agree.
	for _, name := range []string{"ansible-inventory.yml", "hosts.ini"} {
		for _, h := range loaded[name] {
			if h.Transport == TransportWinRM && (h.Password.Source() != "env:WIN_ADMIN_PASSWORD" || h.User != "Administrator") {
				t.Errorf("%s: %s should use Administrator with WIN_ADMIN_PASSWORD, got %s / %s", name, h.Name, h.User, h.Password.Source())
			}
		}
	}
}

// patchrunFlags are the flags of patchrun's commands (docs/cli/), by subcommand;
// the value says whether the flag takes an argument.
var commonFlags = map[string]bool{
	"-i": true, "--inventory": true, "-l": true, "--limit": true, "-f": true, "--forks": true,
	"-o": true, "--output": true, "--connect-timeout": true, "--timeout": true, "--no-progress": false,
}

var subcommandFlags = map[string]map[string]bool{
	"scan": {"--no-refresh": false},
	"patch": {"--security-only": false, "--include": true, "--exclude": true, "--reboot": true, "--batch": true,
		"--max-failures": true, "--reboot-timeout": true, "--dry-run": false, "--no-refresh": false},
	"reboot":    {"--only-if-required": false, "--batch": true, "--max-failures": true, "--reboot-timeout": true, "--dry-run": false},
	"exec":      {},
	"inventory": {},
	"demo":      {},
	"version":   {},
}

var (
	countOrPercent = regexp.MustCompile(`^[0-9]+%?$`)
	flagValues     = map[string]*regexp.Regexp{
		"-o": regexp.MustCompile(`^(text|json)$`), "--output": regexp.MustCompile(`^(text|json)$`),
		"--reboot": regexp.MustCompile(`^(if-required|always|never)$`),
		"--batch":  countOrPercent, "--max-failures": countOrPercent,
		"-f": regexp.MustCompile(`^[0-9]+$`), "--forks": regexp.MustCompile(`^[0-9]+$`),
	}
)

// invocation is one `patchrun SUBCOMMAND ...` found in an example.
type invocation struct {
	file, line string
	sub        string
	flags      map[string]string
}

func TestExampleCommandLines(t *testing.T) {
	loaded := loadExamples(t)
	files := make([]string, 0, len(exampleOthers)+len(exampleInventories))
	for name := range exampleOthers {
		files = append(files, name)
	}
	for name := range exampleInventories {
		files = append(files, name)
	}
	sort.Strings(files)
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(examplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		calls := findInvocations(t, name, string(data))
		if want, ok := exampleOthers[name]; ok && len(calls) != want {
			t.Errorf("%s: found %d patchrun invocations, want %d", name, len(calls), want)
		}
		if _, isInv := exampleInventories[name]; isInv && len(calls) == 0 {
			t.Errorf("%s: show at least one command using it in a comment", name)
		}
		for _, c := range calls {
			inv := c.flags["-i"] + c.flags["--inventory"]
			if c.sub != "demo" && c.sub != "version" && inv == "" {
				t.Errorf("%s: %q has no -i", c.file, c.line)
			}
			limit := c.flags["-l"] + c.flags["--limit"]
			hosts, known := loaded[filepath.Base(inv)]
			if limit == "" || strings.Contains(limit, "$") || !known {
				continue
			}
			if _, err := Select(hosts, limit); err != nil {
				t.Errorf("%s: %q: limit does not work on examples/%s: %v", c.file, c.line, filepath.Base(inv), err)
			}
		}
	}
}

// findInvocations scans text (joining "\" continuations) for patchrun
// command lines and checks their subcommand and flags.
func findInvocations(t *testing.T, file, text string) []invocation {
	t.Helper()
	var out []invocation
	text = strings.ReplaceAll(text, "\\\n", " ")
	if strings.HasSuffix(file, ".service") {
		text = strings.ReplaceAll(text, "%%", "%") // systemd specifier escape
	}
	for _, line := range strings.Split(text, "\n") {
		words := shellWords(line)
		for i := 0; i+1 < len(words); i++ {
			if filepath.Base(strings.TrimPrefix(words[i], "ExecStart=")) != "patchrun" {
				continue
			}
			sub := words[i+1]
			allowed, ok := subcommandFlags[sub]
			if !ok {
				continue // prose such as "the patchrun user"
			}
			c := invocation{file: file, line: strings.TrimSpace(line), sub: sub, flags: map[string]string{}}
			rest := words[i+2:]
			for j := 0; j < len(rest); j++ {
				w := rest[j]
				if isShellOperator(w) || w == "--" {
					break
				}
				if !strings.HasPrefix(w, "-") {
					if !strings.HasPrefix(w, "$") {
						t.Errorf("%s: %q: unexpected argument %q", file, c.line, w)
					}
					continue
				}
				takesValue, common := commonFlags[w]
				if !common {
					var known bool
					takesValue, known = allowed[w]
					if !known {
						t.Errorf("%s: %q: flag %s is not in the CLI contract for %s", file, c.line, w, sub)
						continue
					}
				}
				if !takesValue {
					c.flags[w] = "true"
					continue
				}
				if j+1 >= len(rest) {
					t.Errorf("%s: %q: %s needs a value", file, c.line, w)
					break
				}
				j++
				c.flags[w] = rest[j]
				if re := flagValues[w]; re != nil && !strings.Contains(rest[j], "$") && !re.MatchString(rest[j]) {
					t.Errorf("%s: %q: bad value %q for %s", file, c.line, rest[j], w)
				}
			}
			out = append(out, c)
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

func TestExampleServiceFiles(t *testing.T) {
	var gh struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"jobs"`
	}
	data, err := os.ReadFile(filepath.Join(examplesDir, "github-actions.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &gh); err != nil {
		t.Fatalf("github-actions.yml is not valid YAML: %v", err)
	}
	if len(gh.On) == 0 || len(gh.Jobs["patch"].Steps) == 0 {
		t.Errorf("github-actions.yml has no trigger or no patch job steps")
	}
	for file, sections := range map[string][]string{
		"patchrun.service": {"[Unit]", "[Service]"},
		"patchrun.timer":   {"[Unit]", "[Timer]", "[Install]"},
	} {
		data, err := os.ReadFile(filepath.Join(examplesDir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sections {
			if !strings.Contains(string(data), "\n"+s+"\n") {
				t.Errorf("%s lacks the %s section", file, s)
			}
		}
	}
	// The cron line must have five time fields, a user and a command.
	data, err = os.ReadFile(filepath.Join(examplesDir, "patchrun-nightly.cron"))
	if err != nil {
		t.Fatal(err)
	}
	jobs := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.Contains(f[0], "=") {
			continue
		}
		jobs++
		if len(f) < 7 || f[6] != "patchrun" {
			t.Errorf("cron line %q: want MIN HOUR DOM MON DOW USER patchrun ...", line)
		}
		if strings.Contains(strings.ReplaceAll(line, `\%`, ""), "%") {
			t.Errorf("cron line has an unescaped %%, which cron turns into a newline: %q", line)
		}
	}
	if jobs != 1 {
		t.Errorf("cron file has %d job lines, want 1", jobs)
	}
}
