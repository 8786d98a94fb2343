package connect

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/transport/ssh"
)

const userConfig = `# a sysadmin's usual aliases
Host alias
    HostName 10.1.2.3
    User cfguser
    Port 2201
    IdentityFile ~/.ssh/id_alias
    IdentityFile ~/.ssh/id_not_there
    ProxyJump bastion

Host bastion
    HostName 192.0.2.7
    User jumper
    Port 2022
    IdentityFile %d/.ssh/id_bastion

Host tokens
    IdentityFile ~/keys/%r-%n-%p
`

// sshTestEnv is a fake home with key files, the config above and a
// known_hosts path, so nothing depends on the real user's ~/.ssh.
type sshTestEnv struct {
	home, config, knownHosts string
}

func newSSHTestEnv(t *testing.T, config string) sshTestEnv {
	t.Helper()
	return newSSHTestEnvAt(t, t.TempDir(), config)
}

func newSSHTestEnvAt(t *testing.T, home, config string) sshTestEnv {
	t.Helper()
	// Nothing may fall back to the real user's home.
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	e := sshTestEnv{home: home, config: filepath.Join(home, ".ssh", "config"), knownHosts: filepath.Join(home, "known_hosts")}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".ssh/config", ".ssh/id_ed25519", ".ssh/id_alias", ".ssh/id_bastion", "keys/root-tokens-22", "inv_key"} {
		content := "key"
		if name == ".ssh/config" {
			content = config
		}
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e sshTestEnv) path(rel string) string { return filepath.Join(e.home, rel) }

// host is what the inventory resolves for a host that sets nothing.
func (e sshTestEnv) host(name string) inventory.Host {
	return inventory.Host{Name: name, Address: name, Port: 22, User: "localme", Transport: inventory.TransportSSH,
		SSH: &inventory.SSHSettings{KnownHosts: e.knownHosts, HostKeyPolicy: inventory.HostKeyStrict}}
}

// describe renders what a connection would do: who, where, with which
// keys, through which hops.
func describe(c *ssh.Config) string {
	if c == nil {
		return ""
	}
	port := c.Port
	if port == 0 {
		port = ssh.DefaultPort
	}
	s := fmt.Sprintf("%s@%s:%d keys=%s", c.User, c.Address, port, strings.Join(c.KeyFiles, ","))
	if c.Jump != nil {
		s += " via " + describe(c.Jump)
	}
	return s
}

func TestSSHConfigPrecedence(t *testing.T) {
	e := newSSHTestEnv(t, userConfig)
	aliasKey, bastionKey, defKey, invKey := e.path(".ssh/id_alias"), e.path(".ssh/id_bastion"), e.path(".ssh/id_ed25519"), e.path("inv_key")
	viaBastion := " via jumper@192.0.2.7:2022 keys=" + bastionKey
	with := func(name string, f func(*inventory.Host)) inventory.Host {
		h := e.host(name)
		f(&h)
		return h
	}
	tests := []struct {
		name      string
		sshConfig string
		host      inventory.Host
		want      string
	}{
		{"config fills everything the inventory left open", e.config, e.host("alias"),
			"cfguser@10.1.2.3:2201 keys=" + aliasKey + viaBastion},
		{"explicit address wins over HostName, even when it equals the name", e.config,
			with("alias", func(h *inventory.Host) { h.Explicit = inventory.ExplicitAddress }),
			"cfguser@alias:2201 keys=" + aliasKey + viaBastion},
		{"explicit user wins, even when it equals the default", e.config,
			with("alias", func(h *inventory.Host) { h.Explicit = inventory.ExplicitUser }),
			"localme@10.1.2.3:2201 keys=" + aliasKey + " via jumper@192.0.2.7:2022 keys=" + bastionKey},
		{"explicit port 22 wins over Port", e.config,
			with("alias", func(h *inventory.Host) { h.Explicit = inventory.ExplicitPort }),
			"cfguser@10.1.2.3:22 keys=" + aliasKey + viaBastion},
		{"explicit ssh_key wins over IdentityFile; the jump host keeps its own", e.config,
			with("alias", func(h *inventory.Host) { h.SSH.Key, h.Explicit = invKey, inventory.ExplicitSSHKey }),
			"cfguser@10.1.2.3:2201 keys=" + invKey + viaBastion},
		{"explicit proxy_jump wins over ProxyJump", e.config,
			with("alias", func(h *inventory.Host) { h.SSH.ProxyJump, h.Explicit = "ops@gw:2200", inventory.ExplicitProxyJump }),
			"cfguser@10.1.2.3:2201 keys=" + aliasKey + " via ops@gw:2200 keys=" + aliasKey},
		{"values a host built in code set are not overridden", e.config,
			with("alias", func(h *inventory.Host) { h.Address, h.Port = "10.9.9.9", 2222 }),
			"cfguser@10.9.9.9:2222 keys=" + aliasKey + viaBastion},
		{"inventory jump host named by alias is resolved through the config", e.config,
			with("plain", func(h *inventory.Host) { h.SSH.ProxyJump = "bastion" }),
			"localme@plain:22 keys=" + defKey + " via jumper@192.0.2.7:2022 keys=" + bastionKey},
		{"user and port written in the jump spec win over the jump host's config", e.config,
			with("plain", func(h *inventory.Host) { h.SSH.ProxyJump = "ops@bastion:23" }),
			"localme@plain:22 keys=" + defKey + " via ops@192.0.2.7:23 keys=" + bastionKey},
		{"a host the config does not name gets the defaults", e.config, e.host("plain"),
			"localme@plain:22 keys=" + defKey},
		{"tokens %r %n %p and ~ expand for the host", e.config, with("tokens", func(h *inventory.Host) { h.User = "root" }),
			"root@tokens:22 keys=" + e.path("keys/root-tokens-22")},
		{"no config path means no config", "", e.host("alias"), "localme@alias:22 keys=" + defKey},
		{"a missing config file is ignored", e.path("nope/config"), e.host("alias"), "localme@alias:22 keys=" + defKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDialer(Options{Home: e.home, SSHConfig: tt.sshConfig})
			cfg, err := d.sshConfig(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(&cfg); got != tt.want {
				t.Errorf("connection\n got %s\nwant %s", got, tt.want)
			}
			if cfg.HostKeys == nil {
				t.Error("host keys must always be verified")
			}
		})
	}
}

// Loaded from a real inventory file: the marks the inventory makes are the
// ones connect honours.
func TestSSHConfigWithLoadedInventory(t *testing.T) {
	e := newSSHTestEnv(t, userConfig)
	inv := filepath.Join(e.home, "hosts.txt")
	if err := os.WriteFile(inv, []byte("alias\nalias2:22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(userConfig+"Host alias2\n    HostName 10.2.2.2\n    Port 2202\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(inv, inventory.LoadOptions{Home: e.home, DefaultUser: "localme", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDialer(Options{Home: e.home, SSHConfig: e.config})
	want := map[string]string{
		"alias":  "cfguser@10.1.2.3:2201",
		"alias2": "localme@10.2.2.2:22", // ":22" in the list is explicit
	}
	for _, h := range hosts {
		cfg, err := d.sshConfig(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%s@%s:%d", cfg.User, cfg.Address, cfg.Port); got != want[h.Name] {
			t.Errorf("%s: got %s, want %s", h.Name, got, want[h.Name])
		}
	}
}

// ~ is Options.Home, not whatever $HOME says.
func TestSSHConfigTildeUsesOptionsHome(t *testing.T) {
	e := newSSHTestEnv(t, "Host alias\n  IdentityFile ~/.ssh/id_alias\n")
	t.Setenv("HOME", "")
	t.Setenv("USERPROFILE", "")
	d := NewDialer(Options{Home: e.home, SSHConfig: e.config})
	cfg, err := d.sshConfig(e.host("alias"))
	if err != nil {
		t.Fatal(err)
	}
	if want := e.path(".ssh/id_alias"); len(cfg.KeyFiles) != 1 || cfg.KeyFiles[0] != want {
		t.Errorf("key files %q, want [%s]", cfg.KeyFiles, want)
	}
}

func TestSSHConfigLocalUserToken(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip("current user unknown:", err)
	}
	name := u.Username[strings.LastIndex(u.Username, `\`)+1:]
	e := newSSHTestEnv(t, "Host alias\n  IdentityFile %d/%u.key\n")
	if err := os.WriteFile(filepath.Join(e.home, name+".key"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := NewDialer(Options{Home: e.home, SSHConfig: e.config}).sshConfig(e.host("alias"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(e.home, name+".key"); len(cfg.KeyFiles) != 1 || cfg.KeyFiles[0] != want {
		t.Errorf("key files %q, want [%s]", cfg.KeyFiles, want)
	}
}

func TestSSHConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		host    string
		check   bool     // CheckSSHConfig reports it before any host is dialled
		wantErr []string // all must appear; the path is always required
	}{
		{"syntax error fails every host and the up-front check", "Host a\n  User x\n  IdentityFile \"/unterminated\n", "other", true,
			[]string{"host other", "line 3", "unterminated quote"}},
		{"bad value in a block only that host matches", "Host a\n  Port notanumber\nHost b\n  User x\n", "a", false,
			[]string{"host a", "line 2", `bad port "notanumber"`}},
		{"unsupported token is refused, not guessed", "Host a\n  IdentityFile ~/.ssh/%C\n", "a", false,
			[]string{"host a", "%C is not supported", "IdentityFile"}},
		{"a bad config block for a jump host fails the host using it", "Host a\n  ProxyJump b\nHost b\n  Port 0\n", "a", false,
			[]string{"host a", "jump host b", "line 4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSSHTestEnv(t, tt.config)
			d := NewDialer(Options{Home: e.home, SSHConfig: e.config})
			if err := d.CheckSSHConfig(); (err != nil) != tt.check {
				t.Errorf("CheckSSHConfig() = %v, want an error: %v", err, tt.check)
			}
			_, err := d.sshConfig(e.host(tt.host))
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range append(tt.wantErr, e.config) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if tt.check {
				if _, other := d.sshConfig(e.host("b")); other == nil {
					t.Error("a syntax error must fail every SSH host of the run")
				}
			} else if _, other := d.sshConfig(e.host("unrelated")); other != nil {
				t.Errorf("a host the bad block does not match must still work: %v", other)
			}
		})
	}
}

// The file is read once per Dialer: hosts dialled later in a run see the
// same config even if the file changes meanwhile, and the many workers that
// race to read it first get one consistent answer.
func TestSSHConfigReadOnceUnderConcurrency(t *testing.T) {
	e := newSSHTestEnv(t, userConfig)
	d := NewDialer(Options{Home: e.home, SSHConfig: e.config})
	const workers = 32
	got := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "alias"
			if i%2 == 1 {
				name = "plain"
			}
			cfg, err := d.sshConfig(e.host(name))
			got[i], errs[i] = describe(&cfg), err
		}()
	}
	wg.Wait()
	alias := "cfguser@10.1.2.3:2201 keys=" + e.path(".ssh/id_alias") + " via jumper@192.0.2.7:2022 keys=" + e.path(".ssh/id_bastion")
	plain := "localme@plain:22 keys=" + e.path(".ssh/id_ed25519")
	for i := range workers {
		want := alias
		if i%2 == 1 {
			want = plain
		}
		if errs[i] != nil || got[i] != want {
			t.Errorf("worker %d: %s (%v), want %s", i, got[i], errs[i], want)
		}
	}

	if err := os.Remove(e.config); err != nil {
		t.Fatal(err)
	}
	cfg, err := d.sshConfig(e.host("alias"))
	if err != nil || describe(&cfg) != alias {
		t.Errorf("after the file was removed the dialer changed its mind: %s (%v)", describe(&cfg), err)
	}
}

// Each IdentityFile is expanded exactly once, so an escaped %% stays a
// literal % in the path instead of becoming a token on a second pass.
func TestSSHConfigIdentityFileTokens(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip("current user unknown:", err)
	}
	me := u.Username[strings.LastIndex(u.Username, `\`)+1:]
	tests := []struct {
		identity string
		want     string // relative to the home directory
	}{
		{"~/id_plain", "id_plain"},
		{"%d/id_plain", "id_plain"},
		{"~/id_%%u", "id_%u"},
		{"%d/id_%%u", "id_%u"},
		{"~/id_%u", "id_" + me},
		{"~/id_%%%u", "id_%" + me},
		{"~/id_%%%%u", "id_%%u"},
		{"~/%%h", "%h"},
		{"~/%%d", "%d"},
		{"~/%h", "10.1.2.3"},
		{"~/%r@%h", "cfguser@10.1.2.3"},
		{"~/%n-%p", "alias-2201"},
		{"%d/%%d%%%u", "%d%" + me},
		{"~/a~b", "a~b"},
	}
	for _, tt := range tests {
		// A home directory with a % in its name is inserted as it is,
		// never expanded as tokens.
		for _, homeName := range []string{"home", "50%%u"} {
			t.Run(strings.ReplaceAll(homeName+"/"+tt.identity, "%", "pct"), func(t *testing.T) {
				home := filepath.Join(t.TempDir(), homeName)
				e := newSSHTestEnvAt(t, home, "Host alias\n  HostName 10.1.2.3\n  User cfguser\n  Port 2201\n  IdentityFile "+tt.identity+"\n")
				want := e.path(tt.want)
				if err := os.MkdirAll(filepath.Dir(want), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(want, []byte("key"), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, err := NewDialer(Options{Home: e.home, SSHConfig: e.config}).sshConfig(e.host("alias"))
				if err != nil {
					t.Fatal(err)
				}
				if len(cfg.KeyFiles) != 1 || cfg.KeyFiles[0] != want {
					t.Errorf("IdentityFile %s: key files %q, want [%s]", tt.identity, cfg.KeyFiles, want)
				}
			})
		}
	}
}
