package inventory

import (
	"reflect"
	"testing"
)

// A key written twice in one mapping is refused wherever it is, in both
// YAML forms: YAML's last-one-wins would silently drop hosts.
func TestDuplicateYAMLKeysRefused(t *testing.T) {
	const again = "keep one (YAML would silently use the last)"
	cases := []struct {
		name, file, content string
		want                []string
	}{
		{"hosts twice", "inventory.yaml", "hosts: [a]\nhosts: [b]\n",
			[]string{`inventory.yaml:2: hosts: duplicate key (hint: it is already set at line 1; ` + again + `)`}},
		{"group twice", "inventory.yaml", "groups:\n  web: [a]\n  web: [b]\nhosts: [a, b]\n",
			[]string{`inventory.yaml:3: groups.web: duplicate key (hint: it is already set at line 2; ` + again + `)`}},
		{"address twice", "inventory.yaml", "hosts:\n  - name: a\n    address: 10.0.0.1\n    address: 10.0.0.2\n",
			[]string{`inventory.yaml:4: hosts[0].address: duplicate key (hint: it is already set at line 3; ` + again + `)`}},
		{"defaults user twice", "inventory.yaml", "defaults:\n  user: a\n  user: b\nhosts: [h]\n",
			[]string{`inventory.yaml:3: defaults.user: duplicate key (hint: it is already set at line 2; ` + again + `)`}},
		{"host vars twice", "inventory.yaml", "hosts:\n  - name: a\n    vars: {site: x, site: y}\n",
			[]string{`inventory.yaml:3: hosts[0].vars.site: duplicate key (hint: it is already set at line 3; ` + again + `)`}},
		{"ansible host twice", "hosts.yml", "all:\n  hosts:\n    web1:\n      ansible_port: 22\n    web1:\n      ansible_port: 2222\n",
			[]string{`hosts.yml:5: all.hosts.web1: duplicate key (hint: it is already set at line 3; ` + again + `)`}},
		{"ansible var twice", "hosts.yml", "all:\n  vars:\n    ansible_user: a\n    ansible_user: b\n  hosts:\n    h1:\n",
			[]string{`hosts.yml:4: all.vars.ansible_user: duplicate key (hint: it is already set at line 3; ` + again + `)`}},
		{"ansible child twice", "hosts.yml", "all:\n  children:\n    web:\n      hosts: {a: }\n    web:\n      hosts: {b: }\n",
			[]string{`hosts.yml:5: all.children.web: duplicate key (hint: it is already set at line 3; ` + again + `)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			inv, err := f.load(tc.file, tc.content)
			if got := errorLines(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
			if inv.Hosts != nil {
				t.Errorf("hosts returned alongside the error: %s", names(inv.Hosts))
			}
		})
	}
}

// The same name in different mappings is not a duplicate.
func TestSameKeyInDifferentMappingsAllowed(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("hosts.yml", "all:\n  children:\n    web:\n      hosts: {a: {ansible_port: 22}}\n    db:\n      hosts: {a: {ansible_user: x}}\n")
	if h := hostByName(t, inv.Hosts, "a"); h.User != "x" || len(h.Groups) != 2 {
		t.Errorf("a = user %q groups %v", h.User, h.Groups)
	}
}
