package inventory

import (
	"gopkg.in/yaml.v3"
)

// readAnsibleYAML reads an Ansible YAML inventory:
//
//	all:
//	  vars: {ansible_user: admin}
//	  hosts: {web1: {ansible_host: 10.0.0.5}}
//	  children:
//	    windows: {hosts: {win1: }, vars: {ansible_connection: winrm}}
//
// Top-level keys are groups (usually just all).
// root is yamlRoot's answer.
func readAnsibleYAML(root *yaml.Node, p, warns *problems) []hostSpec {
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.add(root.Line, "", "top level must be a mapping of group names (usually all:)", "see examples/ansible-inventory.yml")
		return nil
	}
	a := newAnsibleInventory()
	forPairs(root, func(k, v *yaml.Node) {
		if k.Value != "all" {
			a.addChild("all", k.Value, k.Line)
		}
		readAnsibleGroup(a, k.Value, k.Line, v, k.Value, p)
	})
	return a.specs(p, warns)
}

// readAnsibleGroup reads one group body: hosts:, children:, vars:.
func readAnsibleGroup(a *ansibleInventory, name string, line int, n *yaml.Node, path string, p *problems) {
	if msg := checkHostName(name); msg != "" {
		p.add(line, path, "invalid group name: "+msg, "")
		return
	}
	g := a.group(name, line)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "a group must be a mapping with hosts:, children: or vars:", "")
		return
	}
	forPairs(n, func(k, v *yaml.Node) {
		key := path + "." + k.Value
		switch k.Value {
		case "vars":
			g.vars = append(g.vars, readAnsibleVars(v, key, p)...)
		case "hosts":
			readAnsibleHosts(a, name, v, key, p)
		case "children":
			if isNull(v) {
				return
			}
			if v.Kind != yaml.MappingNode {
				p.add(v.Line, key, "must be a mapping of group names", "")
				return
			}
			forPairs(v, func(ck, cv *yaml.Node) {
				a.addChild(name, ck.Value, ck.Line)
				readAnsibleGroup(a, ck.Value, ck.Line, cv, key+"."+ck.Value, p)
			})
		default:
			p.add(k.Line, key, "unknown key in a group", didYouMean(k.Value, []string{"hosts", "children", "vars"}))
		}
	})
}

// readAnsibleHosts reads hosts: {name: {vars} | null}. Names may carry a
// port (web1:2222) or a range (web[01:03]).
func readAnsibleHosts(a *ansibleInventory, group string, n *yaml.Node, path string, p *problems) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "must be a mapping of host names (write \"web1:\" on its own line)", "")
		return
	}
	forPairs(n, func(k, v *yaml.Node) {
		key := path + "." + k.Value
		names, port, err := expandHostPattern(k.Value)
		if err != nil {
			p.add(k.Line, key, err.Error(), "write a host name, host:port, or a range like web[01:03]")
			return
		}
		vars := readAnsibleVars(v, key, p)
		if port != "" {
			vars = append([]rawVar{{name: "ansible_port", val: port, line: k.Line, key: key}}, vars...)
		}
		for _, hn := range names {
			h := a.addHost(group, hn, k.Line)
			h.vars = append(h.vars, vars...)
		}
	})
}

// readAnsibleVars reads a mapping of variables (a group's vars: or a host's body).
func readAnsibleVars(n *yaml.Node, path string, p *problems) []rawVar {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "must be a mapping of name: value", "")
		return nil
	}
	var out []rawVar
	forPairs(n, func(k, v *yaml.Node) {
		out = append(out, rawVar{name: k.Value, val: nodeText(v), line: v.Line, key: path + "." + k.Value, null: isNull(v)})
	})
	return out
}
