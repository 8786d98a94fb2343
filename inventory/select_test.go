package inventory

import (
	"strings"
	"testing"
	"time"
)

func fleet() []Host {
	return []Host{
		{Name: "web1", Groups: []string{"web", "prod"}},
		{Name: "web2", Groups: []string{"web", "prod"}},
		{Name: "web3", Groups: []string{"web", "staging"}},
		{Name: "db1", Groups: []string{"db", "prod"}},
		{Name: "db2", Groups: []string{"db", "staging"}},
		{Name: "win1", Groups: []string{"windows", "prod"}},
		{Name: "2001:db8::8"},
	}
}

func TestSelect(t *testing.T) {
	cases := []struct{ pattern, want string }{
		{"all", "web1,web2,web3,db1,db2,win1,2001:db8::8"},
		{"*", "web1,web2,web3,db1,db2,win1,2001:db8::8"},
		{"2001:db8::8", "2001:db8::8"}, // an IPv6 name is not split on its colons
		{"web1,2001:db8::8", "web1,2001:db8::8"},
		{"web1", "web1"},
		{"db", "db1,db2"},
		{"web*", "web1,web2,web3"},
		{"db?", "db1,db2"},
		{"win1,db1", "db1,win1"}, // inventory order, not pattern order
		{"web:db", "web1,web2,web3,db1,db2"},
		{"all,!staging", "web1,web2,db1,win1,2001:db8::8"},
		{"!staging", "web1,web2,db1,win1,2001:db8::8"}, // only exclusions: start from all
		{"prod,&web", "web1,web2"},
		{"&web,prod", "web1,web2"}, // operators apply in Ansible's order, not written order
		{"web,db,&prod,!web2", "web1,db1"},
		{"~^(web|db)1$", "web1,db1"},
		{"~stag", "web3,db2"}, // regex matches group names too
		{" web1 , db2 ", "web1,db2"},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			got, err := Select(fleet(), tc.pattern)
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if names(got) != tc.want {
				t.Errorf("got %s, want %s", names(got), tc.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	cases := []struct{ pattern, want string }{
		{"wbe1", `--limit "wbe1": "wbe1" matches no host or group`},
		{"web,!dbb*", `--limit "web,!dbb*": "!dbb*" matches no host or group`}, // a typo in an exclusion must not widen the run
		{"web,&nope", `--limit "web,&nope": "&nope" matches no host or group`},
		{"web,!web", `--limit "web,!web" selects no host`},
		{"", `--limit "": empty pattern`},
		{",,", `--limit ",,": empty pattern`},
		{" , ", `--limit " , ": empty pattern`},
		{"~", `--limit "~": "~" has no regular expression after ~`}, // an empty regex would match every host
		{"~ ", `--limit "~ ": "~" has no regular expression after ~`},
		{"web,!~", `--limit "web,!~": "!~" has no regular expression after ~`},
		{"web,!", `--limit "web,!": "!" has nothing after the operator`},
		{"~(", `--limit "~(": bad regular expression "("`},
		{"web[", `--limit "web[": bad glob "web["`},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			got, err := Select(fleet(), tc.pattern)
			if err == nil {
				t.Fatalf("Select(%q) = %s, want an error", tc.pattern, names(got))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestSelectDoesNotModifyInput(t *testing.T) {
	in := fleet()
	if _, err := Select(in, "db"); err != nil {
		t.Fatal(err)
	}
	if names(in) != names(fleet()) {
		t.Errorf("input changed: %s", names(in))
	}
}

func TestOrder(t *testing.T) {
	in := fleet()
	cases := []struct{ how, want string }{
		{"", "web1,web2,web3,db1,db2,win1,2001:db8::8"},
		{"inventory", "web1,web2,web3,db1,db2,win1,2001:db8::8"},
		{"reverse_inventory", "2001:db8::8,win1,db2,db1,web3,web2,web1"},
		{"sorted", "2001:db8::8,db1,db2,web1,web2,web3,win1"},
		{"reverse_sorted", "win1,web3,web2,web1,db2,db1,2001:db8::8"},
	}
	for _, tc := range cases {
		got, err := Order(in, tc.how, 1)
		if err != nil {
			t.Fatalf("Order(%q): %v", tc.how, err)
		}
		if names(got) != tc.want {
			t.Errorf("Order(%q) = %s, want %s", tc.how, names(got), tc.want)
		}
	}
	if names(in) != names(fleet()) {
		t.Errorf("Order modified its input: %s", names(in))
	}
	if _, err := Order(in, "random", 1); err == nil || !strings.Contains(err.Error(), `bad order "random"`) {
		t.Errorf("Order(random) err = %v", err)
	}
}

func TestOrderShuffle(t *testing.T) {
	var many []Host
	for i := 0; i < 50; i++ {
		many = append(many, Host{Name: string(rune('A' + i))})
	}
	a, _ := Order(many, "shuffle", 42)
	b, _ := Order(many, "shuffle", 42)
	c, _ := Order(many, "shuffle", 43)
	if names(a) != names(b) {
		t.Errorf("same seed, different order:\n%s\n%s", names(a), names(b))
	}
	if names(a) == names(many) || names(a) == names(c) {
		t.Errorf("shuffle did not shuffle (or ignored the seed): %s", names(a))
	}
	sorted, _ := Order(a, "sorted", 0)
	if names(sorted) != names(many) {
		t.Errorf("shuffle lost or duplicated hosts: %s", names(sorted))
	}
}

func TestShard(t *testing.T) {
	in := fleet() // web1 web2 web3 db1 db2 win1 2001:db8::8
	cases := []struct{ spec, want string }{
		{"1/1", "web1,web2,web3,db1,db2,win1,2001:db8::8"},
		{"1/2", "web1,web3,db2,2001:db8::8"},
		{"2/2", "web2,db1,win1"},
		{"3/4", "web3,2001:db8::8"},
		{"2/8", "web2"},
		{"8/8", ""},
		{" 2 / 3 ", "web2,db2"},
	}
	for _, tc := range cases {
		got, err := Shard(in, tc.spec)
		if err != nil {
			t.Fatalf("Shard(%q): %v", tc.spec, err)
		}
		if names(got) != tc.want {
			t.Errorf("Shard(%q) = %s, want %s", tc.spec, names(got), tc.want)
		}
	}
	// Shards are disjoint and together cover everything, once.
	seen := map[string]int{}
	for k := 1; k <= 4; k++ {
		part, _ := Shard(in, string(rune('0'+k))+"/4")
		for _, h := range part {
			seen[h.Name]++
		}
	}
	for _, h := range in {
		if seen[h.Name] != 1 {
			t.Errorf("%s is in %d shards, want 1", h.Name, seen[h.Name])
		}
	}
}

func TestShardErrors(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"2", `bad shard "2" (hint: write K/N`},
		{"a/b", `bad shard "a/b" (hint: write K/N with numbers`},
		{"0/4", `bad shard "0/4": K must be from 1 to 4 (shards count from 1)`},
		{"5/4", `bad shard "5/4": K must be from 1 to 4`},
		{"1/0", `bad shard "1/0": N must be at least 1`},
		{"-1/4", `K must be from 1 to 4`},
	}
	for _, tc := range cases {
		_, err := Shard(fleet(), tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Shard(%q) err = %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
}

func TestDialTimeoutHostWinsOverRun(t *testing.T) {
	if got := (Host{}).DialTimeout(10 * time.Second); got != 10*time.Second {
		t.Errorf("no host timeout: %v, want the run's 10s", got)
	}
	if got := (Host{ConnectTimeout: 3 * time.Second}).DialTimeout(10 * time.Second); got != 3*time.Second {
		t.Errorf("host timeout 3s: %v, want 3s", got)
	}
}
