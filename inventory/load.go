package inventory

import (
	"bytes"
	"fmt"
	"os/user"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/patchrun/patchrun/internal/fsread"
)

// LoadOptions carries what Load needs from the outside world, so tests (and
// the CLI) decide where environment, home and prompts come from. Read-only
// during Load.
type LoadOptions struct {
	// Getenv reads environment variables for password_env; nil means os.Getenv.
	Getenv func(string) string
	// Home is the directory "~" expands to; "" means os.UserHomeDir.
	Home string
	// DefaultUser is the login used when no user is set; "" means the
	// current OS user.
	DefaultUser string
	// AskPass, when set (--ask-pass), is called at most once per Load, after
	// the file validated, and its answer is given to every host without a
	// password_env or password_file.
	AskPass func(prompt string) (string, error)
	// Format forces a format; "" detects it from the file.
	Format Format
}

// Inventory is everything Load learned from one file. Plain data, owned by
// the caller.
type Inventory struct {
	Path     string
	Format   Format
	Hosts    []Host   // in inventory order
	Warnings []*Error // problems worth telling the user that do not stop a run
}

// Load and LoadInventory keep no state between calls and may run
// concurrently; the LoadOptions functions are called from the calling
// goroutine only.

// Load reads one inventory file, detects its format (patchrun YAML, Ansible
// YAML, Ansible INI or a plain host list), applies defaults and group vars,
// resolves password references and validates everything. All problems found
// in the file come back together (errors.Join of *Error).
func Load(path string, opts LoadOptions) ([]Host, error) {
	inv, err := LoadInventory(path, opts)
	if err != nil {
		return nil, err
	}
	return inv.Hosts, nil
}

// LoadInventory is Load that also returns the detected format and warnings.
func LoadInventory(path string, opts LoadOptions) (Inventory, error) {
	inv := Inventory{Path: path}
	data, err := fsread.ReadFile(path, fsread.LimitInventory)
	if err != nil {
		return inv, fmt.Errorf("read inventory: %w", err)
	}
	// Notepad writes a UTF-8 byte order mark; it must not become part of
	// the first host's name.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	inv.Format = opts.Format
	if inv.Format == "" {
		inv.Format = detectFormat(path, data)
	}
	probs, warns := newProblems(path), newProblems(path)
	var root *yaml.Node
	switch inv.Format {
	case formatYAML, FormatPatchrun, FormatAnsibleYAML:
		root = yamlRoot(data, probs)
		if inv.Format == formatYAML {
			inv.Format = yamlFlavour(root)
		}
	}
	var specs []hostSpec
	switch inv.Format {
	case FormatPatchrun:
		specs = readPatchrunYAML(root, probs)
	case FormatAnsibleYAML:
		specs = readAnsibleYAML(root, probs, warns)
	case FormatAnsibleINI:
		specs = readAnsibleINI(data, probs, warns)
	case FormatList:
		specs = readHostList(data, probs)
	default:
		return inv, fmt.Errorf("%s: unknown inventory format %q", path, inv.Format)
	}
	if len(specs) == 0 && probs.empty() {
		probs.add(0, "", "inventory has no hosts",
			"list hosts under hosts: (see examples/inventory.yaml), or one host name per line")
	}
	// Resolve even after reader errors: a user fixing a file wants every
	// problem in one go, not one per run.
	r, err := newResolver(path, opts, probs, warns)
	if err != nil {
		return inv, err
	}
	hosts := make([]Host, 0, len(specs))
	for _, s := range specs {
		hosts = append(hosts, r.resolveHost(s))
	}
	inv.Warnings = warns.list
	if !probs.empty() {
		return inv, probs.err()
	}
	if err := applyAskPass(hosts, opts.AskPass); err != nil {
		return inv, err
	}
	inv.Hosts = hosts
	return inv, nil
}

// applyAskPass prompts once and hands the answer to every host that has no
// other password reference. It does not prompt when no host needs it.
func applyAskPass(hosts []Host, ask func(string) (string, error)) error {
	if ask == nil {
		return nil
	}
	need := 0
	for _, h := range hosts {
		if needsPassword(h) {
			need++
		}
	}
	if need == 0 {
		return nil
	}
	pw, err := ask(fmt.Sprintf("Password for %d host(s) without password_env/password_file: ", need))
	if err != nil {
		return fmt.Errorf("ask password: %w", err)
	}
	if pw == "" {
		return fmt.Errorf("ask password: empty password")
	}
	secret := NewSecret(pw, "prompt")
	for i := range hosts {
		if needsPassword(hosts[i]) {
			hosts[i].Password = secret
		}
	}
	return nil
}

// needsPassword reports whether --ask-pass should cover h: it has no
// password reference and does not log in from a Kerberos credential cache.
func needsPassword(h Host) bool {
	return !h.Password.IsSet() && (h.WinRM == nil || h.WinRM.KerberosCCache == "")
}

// currentUser is the login name of whoever runs patchrun, without a Windows
// DOMAIN\ prefix (the remote side wants the bare name).
func currentUser(getenv func(string) string) string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = getenv("USER")
	}
	if name == "" {
		name = getenv("USERNAME")
	}
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// inventoryDir is the absolute directory relative paths are taken from.
func inventoryDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("inventory path %s: %w", path, err)
	}
	return filepath.Dir(abs), nil
}
