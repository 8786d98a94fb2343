package inventory

import (
	"encoding/json"
	"strings"

	"gopkg.in/yaml.v3"
)

// redactedVar replaces the value of a var whose name says it is a secret:
// Vars are printed by `patchrun inventory`, and a password typed into an
// Ansible var must not end up on a screen or in a CI log.
const redactedVar = "[redacted]"

func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "secret", "token", "vault"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// setVar stores one extra var, redacting secret-looking ones.
func setVar(vars map[string]string, name, val string) {
	if looksSecret(name) {
		val = redactedVar
	}
	vars[name] = val
}

// readVars reads a vars: mapping. Values that are lists or mappings are kept
// as compact JSON: Vars are for display, not interpretation.
func readVars(n *yaml.Node, path string, p *problems) map[string]string {
	vars := map[string]string{}
	if isNull(n) {
		return vars
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "must be a mapping of name: value", "")
		return vars
	}
	forPairs(n, func(k, v *yaml.Node) {
		setVar(vars, k.Value, nodeText(v))
	})
	return vars
}

// nodeText renders a YAML value as text: scalars as written, null as "",
// anything else as JSON.
func nodeText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if isNull(n) {
			return ""
		}
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return ""
	}
	b, err := json.Marshal(normalizeYAML(v))
	if err != nil {
		return ""
	}
	return string(b)
}

// normalizeYAML turns map[any]any-free YAML values into JSON-encodable ones.
// yaml.v3 decodes mappings with non-string keys into map[any]any.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeYAML(x)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			b, _ := json.Marshal(k)
			out[strings.Trim(string(b), `"`)] = normalizeYAML(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = normalizeYAML(x)
		}
		return t
	}
	return v
}

// mergeVars returns base overlaid with top (top wins). When either is
// empty the other is returned as is, so hosts with the same vars share one
// map: maps handed out here are read-only.
func mergeVars(base, top map[string]string) map[string]string {
	switch {
	case len(top) == 0:
		return base
	case len(base) == 0:
		return top
	}
	out := make(map[string]string, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}
