package connect

import "testing"

// Every host of a run, and its jump host, shares one key-file cache, so a
// key is parsed once per run however many hosts use it.
func TestHostsShareParsedKeys(t *testing.T) {
	e := newSSHTestEnv(t, userConfig)
	d := NewDialer(Options{Home: e.home, SSHConfig: e.config})
	a, err := d.sshConfig(e.host("alias"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.sshConfig(e.host("plain"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Jump == nil {
		t.Fatal("alias has no jump host")
	}
	if a.Keys == nil || a.Keys != b.Keys || a.Jump.Keys != a.Keys {
		t.Errorf("key caches: alias %p, plain %p, alias's jump host %p; want one shared", a.Keys, b.Keys, a.Jump.Keys)
	}
}
