package inventory

import (
	"fmt"
	"sort"
)

// ansibleInventory is the group tree both Ansible readers (YAML and INI)
// build; specs() flattens it the way Ansible does: group vars by depth
// (then name), host vars on top. Owned by one Load call.
type ansibleInventory struct {
	groups     map[string]*ansibleGroup
	groupOrder []string // first appearance in the file
	hosts      map[string]*ansibleHost
	hostOrder  []string
}

type ansibleGroup struct {
	name     string
	line     int
	vars     []rawVar
	children []string
	hosts    []string
	hostSet  map[string]bool // membership test without scanning hosts (big groups)
}

type ansibleHost struct {
	name   string
	line   int
	vars   []rawVar // in file order; later wins
	groups []string // direct membership, file order
}

// rawVar is one Ansible variable as written.
type rawVar struct {
	name, val string
	line      int
	key       string // "all.children.web.vars.ansible_port", "[web:vars].ansible_port"
	null      bool   // YAML "~" or empty: Ansible's None, treated as unset
}

func newAnsibleInventory() *ansibleInventory {
	a := &ansibleInventory{groups: map[string]*ansibleGroup{}, hosts: map[string]*ansibleHost{}}
	a.group("all", 0)
	return a
}

// group returns the named group, creating it on first mention.
func (a *ansibleInventory) group(name string, line int) *ansibleGroup {
	g, ok := a.groups[name]
	if !ok {
		g = &ansibleGroup{name: name, line: line, hostSet: map[string]bool{}}
		a.groups[name] = g
		a.groupOrder = append(a.groupOrder, name)
	}
	return g
}

// addHost records that host belongs to group (a host may appear in many).
func (a *ansibleInventory) addHost(group, name string, line int) *ansibleHost {
	h, ok := a.hosts[name]
	if !ok {
		h = &ansibleHost{name: name, line: line}
		a.hosts[name] = h
		a.hostOrder = append(a.hostOrder, name)
	}
	g := a.group(group, line)
	if !g.hostSet[name] {
		g.hostSet[name] = true
		g.hosts = append(g.hosts, name)
	}
	if !contains(h.groups, group) {
		h.groups = append(h.groups, group)
	}
	return h
}

// hasHosts reports whether g or any group below it has a host.
func (a *ansibleInventory) hasHosts(g string, seen map[string]bool) bool {
	grp, ok := a.groups[g]
	if !ok || seen[g] {
		return false
	}
	seen[g] = true
	if len(grp.hosts) > 0 {
		return true
	}
	for _, c := range grp.children {
		if a.hasHosts(c, seen) {
			return true
		}
	}
	return false
}

func (a *ansibleInventory) addChild(parent, child string, line int) {
	p := a.group(parent, line)
	a.group(child, line)
	if !contains(p.children, child) {
		p.children = append(p.children, child)
	}
}

// specs flattens the tree into hostSpecs.
func (a *ansibleInventory) specs(p, warns *problems) []hostSpec {
	parents := map[string][]string{}
	for _, name := range a.groupOrder {
		for _, c := range a.groups[name].children {
			parents[c] = append(parents[c], name)
		}
	}
	// Every group without a parent hangs under all, as in Ansible.
	for _, name := range a.groupOrder {
		if name != "all" && len(parents[name]) == 0 {
			parents[name] = []string{"all"}
		}
	}
	depth, ok := a.depths(parents, p)
	if !ok {
		return nil
	}
	layers := map[string]layer{}
	groupVars := map[string]map[string]string{}
	for _, name := range a.groupOrder {
		layers[name], groupVars[name] = translateVars(a.groups[name].vars, p, warns)
	}

	var specs []hostSpec
	for _, hn := range a.hostOrder {
		h := a.hosts[hn]
		anc := ancestors(h.groups, parents)
		sorted := append([]string(nil), anc...)
		sort.SliceStable(sorted, func(i, j int) bool {
			if depth[sorted[i]] != depth[sorted[j]] {
				return depth[sorted[i]] < depth[sorted[j]]
			}
			return sorted[i] < sorted[j]
		})
		s := hostSpec{name: hn, line: h.line, key: hn}
		for _, g := range sorted {
			s.layers = append(s.layers, layers[g])
			s.vars = mergeVars(s.vars, groupVars[g])
		}
		own, ownVars := translateVars(h.vars, p, warns)
		s.layers = append(s.layers, own)
		applyAnsibleWinRMScheme(s, own)
		s.vars = mergeVars(s.vars, ownVars)
		for _, g := range a.groupOrder { // inventory order, not precedence order
			if g != "all" && contains(anc, g) {
				s.groups = append(s.groups, g)
			}
		}
		if len(s.groups) == 0 {
			s.groups = []string{"ungrouped"}
		}
		specs = append(specs, s)
	}
	return specs
}

// applyAnsibleWinRMScheme gives WinRM hosts Ansible's default scheme:
// https, unless the port is 5985. Without it an inventory that works with
// Ansible would quietly switch to plain HTTP under patchrun.
func applyAnsibleWinRMScheme(s hostSpec, own layer) {
	v := values{spec: s}
	t, _, ok := v.get(keyTransport)
	if !ok || t.val != TransportWinRM {
		return
	}
	if _, _, set := v.get(keyWinRMHTTPS); set {
		return
	}
	https := "true"
	if port, _, ok := v.get(keyPort); ok && port.val == "5985" {
		https = "false"
	}
	own[keyWinRMHTTPS] = setting{val: https, line: t.line, key: t.key}
}

// depths computes each group's distance from all (the longest path, as
// Ansible uses), reporting cycles.
func (a *ansibleInventory) depths(parents map[string][]string, p *problems) (map[string]int, bool) {
	depth := map[string]int{"all": 0}
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	ok := true
	var visit func(g string) int
	visit = func(g string) int {
		if g == "all" {
			return 0
		}
		switch state[g] {
		case 1:
			p.add(a.groups[g].line, g, fmt.Sprintf("group %q is its own ancestor", g), "remove the cycle in children")
			ok = false
			return 0
		case 2:
			return depth[g]
		}
		state[g] = 1
		d := 0
		for _, par := range parents[g] {
			d = max(d, visit(par)+1)
		}
		state[g] = 2
		depth[g] = d
		return d
	}
	for _, g := range a.groupOrder {
		visit(g)
	}
	return depth, ok
}

// ancestors returns groups plus every group above them, excluding nothing.
func ancestors(groups []string, parents map[string][]string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		out = append(out, g)
		for _, p := range parents[g] {
			walk(p)
		}
	}
	for _, g := range groups {
		walk(g)
	}
	if !seen["all"] {
		out = append(out, "all")
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
