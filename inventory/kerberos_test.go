package inventory

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// kerberosHost is the Kerberos part of a Host, for comparing in one go.
type kerberosHost struct {
	User, Realm, Krb5Conf, CCache, SPN string
}

func kerberosOf(h Host) kerberosHost {
	return kerberosHost{h.User, h.WinRM.KerberosRealm, h.WinRM.Krb5Conf, h.WinRM.KerberosCCache, h.WinRM.KerberosSPN}
}

// What each Kerberos key resolves to, in the native format and in both
// Ansible formats. {dir} and {home} are the fixture's directories.
func TestKerberosSettings(t *testing.T) {
	cases := []struct {
		name, file, content string
		host                string
		want                kerberosHost
	}{
		{"realm in defaults, upper-cased", "inventory.yaml", `defaults:
  winrm_kerberos_realm: corp.example.com
hosts:
  - {name: w, transport: winrm, winrm_https: true, winrm_auth: kerberos, user: patchsvc}
`, "w", kerberosHost{User: "patchsvc", Realm: "CORP.EXAMPLE.COM"}},
		{"user@REALM is split", "inventory.yaml", `hosts:
  - {name: w, transport: winrm, winrm_https: true, winrm_auth: kerberos, user: patchsvc@lab.example.com}
`, "w", kerberosHost{User: "patchsvc", Realm: "LAB.EXAMPLE.COM"}},
		{"user@REALM agreeing with the realm key", "inventory.yaml", `defaults:
  winrm_kerberos_realm: LAB.EXAMPLE.COM
hosts:
  - {name: w, transport: winrm, winrm_https: true, winrm_auth: kerberos, user: patchsvc@Lab.Example.Com}
`, "w", kerberosHost{User: "patchsvc", Realm: "LAB.EXAMPLE.COM"}},
		{"host keys beat defaults; paths relative to the inventory and ~", "inventory.yaml", `defaults:
  winrm_kerberos_realm: OLD.EXAMPLE.COM
  winrm_krb5_conf: ~/krb5.conf
hosts:
  - name: w
    transport: winrm
    winrm_https: true
    winrm_auth: kerberos
    user: patchsvc
    winrm_kerberos_realm: NEW.EXAMPLE.COM
    winrm_krb5_conf: krb/krb5.conf
    winrm_kerberos_spn: HTTP/w.new.example.com
`, "w", kerberosHost{User: "patchsvc", Realm: "NEW.EXAMPLE.COM", Krb5Conf: "{dir}/krb/krb5.conf", SPN: "HTTP/w.new.example.com"}},
		{"a credential cache needs no realm", "inventory.yaml", `hosts:
  - {name: w, transport: winrm, winrm_https: true, winrm_auth: kerberos, winrm_kerberos_ccache: ~/krb5cc}
`, "w", kerberosHost{User: "tester", CCache: "{home}/krb5cc"}},
		{"KRB5CCNAME-style FILE: cache", "inventory.yaml", `hosts:
  - {name: w, transport: winrm, winrm_https: true, winrm_auth: kerberos, winrm_kerberos_ccache: "FILE:cc/krb5cc"}
`, "w", kerberosHost{User: "tester", CCache: "{dir}/cc/krb5cc"}},
		{"plain HTTP with winrm_encryption: never", "inventory.yaml", `hosts:
  - {name: w, transport: winrm, winrm_auth: kerberos, winrm_encryption: never, user: a@CORP}
`, "w", kerberosHost{User: "a", Realm: "CORP"}},
		{"kerberos keys in defaults do not touch an ntlm host, nor are its files checked", "inventory.yaml", `defaults:
  winrm_kerberos_realm: CORP
  winrm_krb5_conf: missing/krb5.conf
  winrm_kerberos_ccache: missing/cc
  winrm_kerberos_spn: HTTP/x.corp
hosts:
  - {name: w, transport: winrm, user: bob@corp.example.com}
`, "w", kerberosHost{User: "bob@corp.example.com"}},
		{"ansible ini: group vars and user@REALM", "hosts.ini", `[windows]
w ansible_user=patchsvc@corp.example.com

[windows:vars]
ansible_connection=winrm
ansible_winrm_transport=kerberos
patchrun_winrm_krb5_conf=krb/krb5.conf
patchrun_winrm_kerberos_spn=HTTP/w.corp.example.com
`, "w", kerberosHost{User: "patchsvc", Realm: "CORP.EXAMPLE.COM", Krb5Conf: "{dir}/krb/krb5.conf", SPN: "HTTP/w.corp.example.com"}},
		{"ansible yaml: realm key in group vars", "hosts.yml", `all:
  children:
    windows:
      vars:
        ansible_connection: winrm
        ansible_winrm_transport: kerberos
        patchrun_winrm_kerberos_realm: corp.example.com
        patchrun_winrm_kerberos_ccache: ~/krb5cc
      hosts:
        w:
          ansible_user: patchsvc
`, "w", kerberosHost{User: "patchsvc", Realm: "CORP.EXAMPLE.COM", CCache: "{home}/krb5cc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.write("krb/krb5.conf", "[libdefaults]\n", 0o644)
			f.write("~/krb5.conf", "[libdefaults]\n", 0o644)
			f.write("~/krb5cc", "cache", 0o600)
			f.write("cc/krb5cc", "cache", 0o600)
			inv := f.mustLoad(tc.file, tc.content)
			want := tc.want
			r := strings.NewReplacer("{dir}", f.dir, "{home}", f.home)
			for _, p := range []*string{&want.Krb5Conf, &want.CCache} {
				*p = filepath.FromSlash(r.Replace(*p))
			}
			if got := kerberosOf(hostByName(t, inv.Hosts, tc.host)); got != want {
				t.Errorf("kerberos settings:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// Every Kerberos mistake comes back naming file, line and key, with a hint.
func TestKerberosErrors(t *testing.T) {
	const win = "  - name: w\n    transport: winrm\n    winrm_https: true\n    winrm_auth: kerberos\n"
	cases := []struct {
		name, file, content string
		want                []string
	}{
		{"no realm anywhere", "inventory.yaml", "hosts:\n" + win + "    user: patchsvc\n",
			[]string{`inventory.yaml:2: hosts[0].winrm_kerberos_realm: host "w" uses kerberos but no realm is set (hint: set winrm_kerberos_realm: EXAMPLE.COM (patchrun_winrm_kerberos_realm in an Ansible inventory), or write the user as NAME@EXAMPLE.COM)`}},
		{"no realm, named per host from defaults", "inventory.yaml",
			"defaults:\n  transport: winrm\n  winrm_https: true\n  winrm_auth: kerberos\nhosts: [w1, w2]\n",
			[]string{
				`inventory.yaml:5: hosts[0].winrm_kerberos_realm: host "w1" uses kerberos but no realm is set (hint: set winrm_kerberos_realm: EXAMPLE.COM (patchrun_winrm_kerberos_realm in an Ansible inventory), or write the user as NAME@EXAMPLE.COM)`,
				`inventory.yaml:5: hosts[1].winrm_kerberos_realm: host "w2" uses kerberos but no realm is set (hint: set winrm_kerberos_realm: EXAMPLE.COM (patchrun_winrm_kerberos_realm in an Ansible inventory), or write the user as NAME@EXAMPLE.COM)`,
			}},
		{"no realm in an ansible inventory", "hosts.ini", "[windows]\nw ansible_connection=winrm ansible_winrm_transport=kerberos ansible_user=patchsvc\n",
			[]string{`hosts.ini:2: w.winrm_kerberos_realm: host "w" uses kerberos but no realm is set (hint: set winrm_kerberos_realm: EXAMPLE.COM (patchrun_winrm_kerberos_realm in an Ansible inventory), or write the user as NAME@EXAMPLE.COM)`}},
		{"bad realm", "inventory.yaml", "hosts:\n" + win + "    winrm_kerberos_realm: CORP EXAMPLE\n",
			[]string{`inventory.yaml:6: hosts[0].winrm_kerberos_realm: bad realm "CORP EXAMPLE": only letters, digits, '.', '-' and '_' are allowed (hint: write the realm alone, e.g. winrm_kerberos_realm: CORP.EXAMPLE.COM)`}},
		{"bad realm in defaults is a typo even on an ntlm host", "inventory.yaml", "defaults:\n  winrm_kerberos_realm: bob@CORP\nhosts: [a]\n",
			[]string{`inventory.yaml:2: defaults.winrm_kerberos_realm: bad realm "bob@CORP": only letters, digits, '.', '-' and '_' are allowed (hint: write the realm alone, e.g. winrm_kerberos_realm: CORP.EXAMPLE.COM)`}},
		{"empty realm", "inventory.yaml", "hosts:\n" + win + "    winrm_kerberos_realm: ''\n",
			[]string{`inventory.yaml:6: hosts[0].winrm_kerberos_realm: empty realm (hint: write the realm alone, e.g. winrm_kerberos_realm: CORP.EXAMPLE.COM)`}},
		{"user and realm key disagree", "inventory.yaml", "defaults:\n  winrm_kerberos_realm: CORP.EXAMPLE.COM\nhosts:\n" + win + "    user: patchsvc@lab.example.com\n",
			[]string{`inventory.yaml:8: hosts[0].user: user names realm LAB.EXAMPLE.COM but winrm_kerberos_realm (line 2) is CORP.EXAMPLE.COM (hint: drop @LAB.EXAMPLE.COM from the user, or make the two agree)`}},
		{"user with an empty realm", "inventory.yaml", "hosts:\n" + win + "    user: patchsvc@\n",
			[]string{`inventory.yaml:6: hosts[0].user: empty realm (hint: write the user as NAME@REALM)`}},
		{"user with no name", "inventory.yaml", "hosts:\n" + win + "    user: '@CORP'\n",
			[]string{`inventory.yaml:6: hosts[0].user: user "@CORP" has no name before @ (hint: write the user as NAME@REALM)`}},
		{"DOMAIN\\user", "inventory.yaml", "hosts:\n" + win + "    user: CORP\\patchsvc\n",
			[]string{`inventory.yaml:6: hosts[0].user: kerberos logs in as NAME@REALM, not DOMAIN\NAME ("CORP\\patchsvc") (hint: write the user as NAME@CORP.EXAMPLE.COM, or NAME with winrm_kerberos_realm)`}},
		{"missing krb5.conf", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    winrm_krb5_conf: krb5.conf\n",
			[]string{`inventory.yaml:7: hosts[0].winrm_krb5_conf: cannot use {dir}/krb5.conf: no such file (hint: relative paths start at the inventory file's directory; remove winrm_krb5_conf to use /etc/krb5.conf)`}},
		{"krb5.conf is a directory", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    winrm_krb5_conf: ~/\n",
			[]string{`inventory.yaml:7: hosts[0].winrm_krb5_conf: {home} is a directory, not a file (hint: remove winrm_krb5_conf to use /etc/krb5.conf)`}},
		{"missing credential cache", "inventory.yaml", "hosts:\n" + win + "    winrm_kerberos_ccache: ~/krb5cc_1000\n",
			[]string{`inventory.yaml:6: hosts[0].winrm_kerberos_ccache: cannot use {home}/krb5cc_1000: no such file (hint: run kinit -c PATH first, or remove the key to log in with the password)`}},
		{"kernel keyring cache", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    winrm_kerberos_ccache: KEYRING:persistent:1000\n",
			[]string{`inventory.yaml:7: hosts[0].winrm_kerberos_ccache: credential cache type KEYRING is not supported, only files (hint: run kinit -c FILE:/path/to/cache and set winrm_kerberos_ccache to that path)`}},
		{"spn without a service", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    winrm_kerberos_spn: w.corp.example.com\n",
			[]string{`inventory.yaml:7: hosts[0].winrm_kerberos_spn: bad service principal "w.corp.example.com" (hint: write it as "HTTP/win1.corp.example.com")`}},
		{"spn with a realm", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    winrm_kerberos_spn: HTTP/w.corp@CORP\n",
			[]string{`inventory.yaml:7: hosts[0].winrm_kerberos_spn: service principal "HTTP/w.corp@CORP" names a realm (hint: write it as "HTTP/win1.corp.example.com"; the realm comes from krb5.conf's domain_realm)`}},
		{"kerberos over plain http", "inventory.yaml", "hosts:\n  - name: w\n    transport: winrm\n    winrm_auth: kerberos\n    user: a@CORP\n",
			[]string{`inventory.yaml:4: hosts[0].winrm_auth: kerberos over plain HTTP cannot encrypt messages (hint: set winrm_https: true (better), or winrm_encryption: never to accept unencrypted traffic)`}},
		{"kerberos over plain http in ansible", "hosts.ini", "[w]\nw1 ansible_connection=winrm ansible_winrm_scheme=http ansible_winrm_transport=kerberos ansible_user=a@CORP\n",
			[]string{`hosts.ini:2: w1.ansible_winrm_transport: kerberos over plain HTTP cannot encrypt messages (hint: set winrm_https: true (better), or winrm_encryption: never to accept unencrypted traffic)`}},
		{"misspelt key", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    winrm_kerberos_relm: CORP\n",
			[]string{`inventory.yaml:7: hosts[0].winrm_kerberos_relm: unknown key (hint: did you mean "winrm_kerberos_realm"?)`}},
		{"key people reach for", "inventory.yaml", "hosts:\n" + win + "    user: a@CORP\n    spn: HTTP/w\n",
			[]string{`inventory.yaml:7: hosts[0].spn: unknown key (hint: did you mean "winrm_kerberos_spn"?)`}},
		{"misspelt patchrun_ key in ansible", "hosts.ini", "[w]\nw1 patchrun_winrm_kerberos_ream=CORP\n",
			[]string{`hosts.ini:2: w1.patchrun_winrm_kerberos_ream: unknown patchrun key (hint: did you mean "patchrun_winrm_kerberos_realm"?)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.load(tc.file, tc.content)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.NewReplacer("{dir}", f.dir, "{home}", f.home).Replace(w))
			}
			if got := errorLines(err); !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n got %q\nwant %q", got, want)
			}
		})
	}
}
