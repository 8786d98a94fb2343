package inventory

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// readPatchrunYAML reads the native format: defaults:, groups:, hosts:.
// root is yamlRoot's answer.
func readPatchrunYAML(root *yaml.Node, p *problems) []hostSpec {
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.add(root.Line, "", "top level must be a mapping with defaults:, groups: and hosts:",
			"see examples/inventory.yaml")
		return nil
	}
	var defaults layer
	var defaultVars map[string]string
	var groupsNode, hostsNode *yaml.Node
	forPairs(root, func(k, v *yaml.Node) {
		switch k.Value {
		case "defaults":
			defaults, defaultVars, _ = readSettings(v, "defaults", false, p)
		case "groups":
			groupsNode = v
		case "hosts":
			hostsNode = v
		default:
			p.add(k.Line, k.Value, "unknown key", didYouMean(k.Value, []string{"defaults", "groups", "hosts"}))
		}
	})
	specs := readPatchrunHosts(hostsNode, defaults, defaultVars, p)
	readPatchrunGroups(groupsNode, specs, p)
	return specs
}

// readPatchrunHosts reads the hosts: list; an entry is a mapping, or a bare
// name as a shorthand for {name: NAME}.
func readPatchrunHosts(n *yaml.Node, defaults layer, defaultVars map[string]string, p *problems) []hostSpec {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "hosts", "must be a list of hosts", "write each host as \"- name: web1\"")
		return nil
	}
	var specs []hostSpec
	firstLine := map[string]int{}
	for i, item := range n.Content {
		path := fmt.Sprintf("hosts[%d]", i)
		var own layer
		var vars map[string]string
		var nameNode *yaml.Node
		switch item.Kind {
		case yaml.ScalarNode:
			nameNode = item
		case yaml.MappingNode:
			own, vars, nameNode = readSettings(item, path, true, p)
		default:
			p.add(item.Line, path, "must be a mapping or a host name", "write \"- name: web1\"")
			continue
		}
		if nameNode == nil {
			p.add(item.Line, path, "host has no name", "add \"name: HOSTNAME\"")
			continue
		}
		name := nameNode.Value
		if msg := checkHostName(name); msg != "" {
			p.add(nameNode.Line, path+".name", msg, "use the host's short name; put the real address in address:")
			continue
		}
		if prev, dup := firstLine[name]; dup {
			p.add(nameNode.Line, path+".name", fmt.Sprintf("duplicate host name %q", name),
				"host names must be unique; it was first defined at line "+strconv.Itoa(prev))
			continue
		}
		firstLine[name] = nameNode.Line
		specs = append(specs, hostSpec{
			name:   name,
			line:   nameNode.Line,
			key:    path,
			layers: []layer{defaults, own},
			vars:   mergeVars(defaultVars, vars),
		})
	}
	return specs
}

// readSettings reads one mapping of patchrun keys (defaults or a host).
// It returns the settings, the vars: map and the name node (hosts only).
func readSettings(n *yaml.Node, path string, isHost bool, p *problems) (layer, map[string]string, *yaml.Node) {
	l := layer{}
	if n == nil || isNull(n) {
		return l, nil, nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "must be a mapping of key: value", "see examples/inventory.yaml")
		return l, nil, nil
	}
	var vars map[string]string
	var nameNode *yaml.Node
	forPairs(n, func(k, v *yaml.Node) {
		key := path + "." + k.Value
		switch {
		case k.Value == keyName && isHost:
			if v.Kind != yaml.ScalarNode || isNull(v) {
				p.add(v.Line, key, "must be a host name", "")
				return
			}
			nameNode = v
		case k.Value == keyName:
			p.add(k.Line, key, "name cannot be set in defaults", "give each host its own name under hosts:")
		case k.Value == keyVars:
			vars = readVars(v, key, p)
		case k.Value == keyInlinePassword:
			p.add(k.Line, key, "inline passwords are refused", passwordHint)
		case settingKeys[k.Value]:
			if v.Kind != yaml.ScalarNode {
				p.add(v.Line, key, "must be a single value, not a list or mapping", "")
				return
			}
			if isNull(v) {
				p.add(v.Line, key, "missing value", "give it a value or remove the key")
				return
			}
			l[k.Value] = setting{val: v.Value, line: v.Line, key: key}
		default:
			p.add(k.Line, key, "unknown key", didYouMean(k.Value, hostKeys()))
		}
	})
	return l, vars, nameNode
}

// readPatchrunGroups reads groups: NAME: [members]. A member is a host name
// or another group's name (its hosts join too). Each host's Groups lists
// the groups it belongs to in the order they were defined.
func readPatchrunGroups(n *yaml.Node, specs []hostSpec, p *problems) {
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "groups", "must be a mapping of group name to a list of hosts", "write \"web: [web1, web2]\"")
		return
	}
	hostIndex := map[string]int{}
	for i, s := range specs {
		hostIndex[s.name] = i
	}
	type member struct {
		name string
		line int
		key  string
	}
	members := map[string][]member{}
	var order []string
	forPairs(n, func(k, v *yaml.Node) {
		g := k.Value
		switch {
		case g == "all" || g == "ungrouped":
			p.add(k.Line, "groups."+g, "group name is reserved", "\"all\" already means every host; pick another name")
			return
		case checkHostName(g) != "":
			p.add(k.Line, "groups."+g, "invalid group name: "+checkHostName(g), "")
			return
		}
		if _, clash := hostIndex[g]; clash {
			p.add(k.Line, "groups."+g, "group has the same name as a host", "rename the group so --limit is unambiguous")
			return
		}
		order = append(order, g)
		members[g] = []member{}
		if isNull(v) {
			return
		}
		if v.Kind != yaml.SequenceNode {
			p.add(v.Line, "groups."+g, "must be a list of host names", "write \""+g+": [host1, host2]\"")
			return
		}
		for i, m := range v.Content {
			key := fmt.Sprintf("groups.%s[%d]", g, i)
			if m.Kind != yaml.ScalarNode || isNull(m) {
				p.add(m.Line, key, "must be a host or group name", "")
				continue
			}
			members[g] = append(members[g], member{name: m.Value, line: m.Line, key: key})
		}
	})
	// Report unknown members once all group names are known.
	names := make([]string, 0, len(specs)+len(order))
	for _, s := range specs {
		names = append(names, s.name)
	}
	names = append(names, order...)
	for _, g := range order {
		for _, m := range members[g] {
			_, isHost := hostIndex[m.name]
			_, isGroup := members[m.name]
			if !isHost && !isGroup {
				p.add(m.line, m.key, fmt.Sprintf("unknown host %q", m.name),
					joinHints("add it under hosts: or fix the name", didYouMean(m.name, names)))
			}
		}
	}
	// Expand nested groups, refusing cycles.
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	expanded := map[string][]int{}
	var expand func(g string) []int
	expand = func(g string) []int {
		if state[g] == 2 {
			return expanded[g]
		}
		state[g] = 1
		var out []int
		seen := map[int]bool{}
		for _, m := range members[g] {
			var idx []int
			if i, ok := hostIndex[m.name]; ok {
				idx = []int{i}
			} else if state[m.name] == 1 {
				p.add(m.line, m.key, fmt.Sprintf("group %q is nested inside itself", m.name), "remove the cycle between groups")
			} else if _, ok := members[m.name]; ok {
				idx = expand(m.name)
			}
			for _, i := range idx {
				if !seen[i] {
					seen[i] = true
					out = append(out, i)
				}
			}
		}
		state[g] = 2
		expanded[g] = out
		return out
	}
	for _, g := range order {
		for _, i := range expand(g) {
			specs[i].groups = append(specs[i].groups, g)
		}
	}
}

const passwordHint = "use password_env: VAR or password_file: PATH, or run with --ask-pass"

// yamlRoot parses data and returns the first document's root node, or nil
// when the file is empty or broken (the latter reported). Duplicate keys
// are reported too.
func yamlRoot(data []byte, p *problems) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.add(0, "", "invalid YAML: "+err.Error(), "check indentation and that every key ends with a colon")
		return nil
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil
	}
	checkDuplicateKeys(doc.Content[0], nil, p)
	return doc.Content[0]
}

// forPairs calls fn for each key/value of a mapping node.
func forPairs(n *yaml.Node, fn func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// joinHints combines two hints, either of which may be empty.
func joinHints(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
