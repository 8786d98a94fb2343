package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The examples directory must never go stale: every inventory there loads
// cleanly (cmd's TestExampleCommandLines runs every `patchrun` command line
// in them through the real command tree).

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

// exampleOthers are the remaining examples.
var exampleOthers = map[string]bool{
	"README.md":             true,
	"patchrun-nightly.cron": true,
	"patchrun.service":      true,
	"patchrun.timer":        true,
	"github-actions.yml":    true,
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
			case h.WinRM.Auth == "kerberos":
				kerberos++
				if h.WinRM.KerberosRealm == "" || strings.Contains(h.User, "@") {
					t.Errorf("inventory.yaml: kerberos host %s should show user@REALM split into user %q and a realm, got realm %q",
						h.Name, h.User, h.WinRM.KerberosRealm)
				}
			}
			if h.Transport == TransportWinRM {
				winrm++
				if h.WinRM.HTTPS {
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
