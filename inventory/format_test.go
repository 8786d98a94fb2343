package inventory

import (
	"reflect"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	cases := []struct {
		name, file, content string
		want                Format
	}{
		{"patchrun yaml", "inv.yaml", "hosts:\n  - name: a\n", FormatPatchrun},
		{"patchrun yaml without extension", "inventory", "# lab\ndefaults:\n  user: root\nhosts: [a]\n", FormatPatchrun},
		{"ansible yaml", "inv.yml", "all:\n  hosts:\n    a:\n", FormatAnsibleYAML},
		{"ansible yaml with other top groups", "inv.yaml", "web:\n  hosts:\n    a:\n", FormatAnsibleYAML},
		{"ansible yaml group called hosts", "inv.yaml", "hosts:\n  hosts:\n    a:\n", FormatAnsibleYAML},
		{"ansible yaml document marker", "inventory", "---\nall:\n  hosts: {a: }\n", FormatAnsibleYAML},
		{"ini with sections", "hosts", "; comment\n[web]\na\n", FormatAnsibleINI},
		{"ini by extension", "hosts.ini", "a\nb\n", FormatAnsibleINI},
		{"ini ungrouped with vars", "hosts", "a ansible_port=22\n", FormatAnsibleINI},
		{"plain list", "hosts", "# BatchPatch list\n\nweb1\nweb2:2222\n10.0.0.7\n", FormatList},
		{"plain list by extension", "machines.txt", "web1 web2\n", FormatList},
		{"yaml flow mapping", "inventory", "{hosts: [a]}\n", FormatPatchrun},
		{"patchrun hosts written as a mapping", "inv.yaml", "hosts:\n  web1: {}\n", FormatPatchrun},
		{"patchrun groups with an odd group name", "inv.yaml", "groups:\n  all: [a]\nhosts:\n  a: {}\n", FormatPatchrun},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := detectFormat(tc.file, []byte(tc.content))
			if got == formatYAML {
				got = yamlFlavour(yamlRoot([]byte(tc.content), newProblems(tc.file)))
			}
			if got != tc.want {
				t.Errorf("detectFormat = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestForcedFormat(t *testing.T) {
	f := newFixture(t)
	opts := f.opts()
	opts.Format = FormatList
	// Looks like INI by content; forced to a list it is read as one host.
	inv, err := LoadInventory(f.write("hosts", "[web]\n", 0o644), opts)
	if err == nil {
		t.Fatalf("want an error reading [web] as a host name, got %v", names(inv.Hosts))
	}
	opts.Format = "toml"
	if _, err := LoadInventory(f.write("hosts", "a\n", 0o644), opts); err == nil {
		t.Error("unknown forced format accepted")
	}
}

func TestLoadPlainList(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("hosts.txt", "# BatchPatch habit\r\n\r\nweb1\r\nweb2:2222   # spare\r\n[2001:db8::7]:2200\r\n2001:db8::8\r\nlab[1:3]\r\n")
	if inv.Format != FormatList {
		t.Fatalf("format = %q", inv.Format)
	}
	if got := names(inv.Hosts); got != "web1,web2,2001:db8::7,2001:db8::8,lab1,lab2,lab3" {
		t.Errorf("hosts = %s", got)
	}
	ports := map[string]int{"web1": 22, "web2": 2222, "2001:db8::7": 2200, "2001:db8::8": 22}
	for n, p := range ports {
		h := hostByName(t, inv.Hosts, n)
		if h.Port != p || h.Address != n || h.User != "tester" || h.Transport != TransportSSH {
			t.Errorf("%s = port %d addr %s user %s", n, h.Port, h.Address, h.User)
		}
	}
	if got := hostByName(t, inv.Hosts, "web2").Source(); got != inv.Path+":4" {
		t.Errorf("source = %q", got)
	}
}

func TestByteOrderMarkIgnored(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("hosts.txt", "\xef\xbb\xbfweb1\r\nweb2\r\n")
	if names(inv.Hosts) != "web1,web2" {
		t.Errorf("hosts = %q", names(inv.Hosts))
	}
}

func TestExpandHostPattern(t *testing.T) {
	cases := []struct {
		in    string
		names []string
		port  string
		err   string
	}{
		{in: "web1", names: []string{"web1"}},
		{in: "web1:2222", names: []string{"web1"}, port: "2222"},
		{in: "web[01:03]", names: []string{"web01", "web02", "web03"}},
		{in: "web[8:10].corp:22", names: []string{"web8.corp", "web9.corp", "web10.corp"}, port: "22"},
		{in: "n[1:5:2]", names: []string{"n1", "n3", "n5"}},
		{in: "db-[a:c]", names: []string{"db-a", "db-b", "db-c"}},
		{in: "r[1:2]u[a:b]", names: []string{"r1ua", "r1ub", "r2ua", "r2ub"}},
		{in: "10.0.0.1", names: []string{"10.0.0.1"}},
		{in: "10.0.0.1:2200", names: []string{"10.0.0.1"}, port: "2200"},
		{in: "fe80::1", names: []string{"fe80::1"}},
		{in: "[fe80::1]:22", names: []string{"fe80::1"}, port: "22"},
		{in: "web[3:1]", err: `bad range [3:1] in "web[3:1]": start after end`},
		{in: "web[1:a]", err: `bad range [1:a] in "web[1:a]": start and end must both be numbers or both single letters`},
		{in: "web[1:3", err: `unmatched [ in "web[1:3"`},
		{in: "web]", err: `unmatched ] in "web]"`},
		{in: "web[0:9999999]", err: `bad range [0:9999999] in "web[0:9999999]": more than 100000 hosts`},
		{in: "web1:", err: `empty port in "web1:"`},
		{in: "a,b", err: `invalid host: name "a,b" contains one of , & ! ~ * ? [ ] (they mean something in --limit)`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			names, port, err := expandHostPattern(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(names, tc.names) || port != tc.port {
				t.Errorf("= %v %q %v, want %v %q", names, port, err, tc.names, tc.port)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	cases := []struct{ got, want string }{
		{"pasword", `did you mean "password_env"?`},
		{"hostname", `did you mean "address"?`},
		{"ssh-key", `did you mean "ssh_key"?`},
		{"winrm_http", `did you mean "winrm_https"?`},
		{"usr", `did you mean "user"?`},
		{"colour", ""},
	}
	for _, tc := range cases {
		if got := didYouMean(tc.got, hostKeys()); got != tc.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.got, got, tc.want)
		}
	}
}
