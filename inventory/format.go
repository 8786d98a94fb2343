package inventory

import (
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlKeyLine matches a line that opens a YAML mapping ("all:", "hosts: [..]").
// A plain list line "web1:2222" has no space after the colon, so it does not.
var yamlKeyLine = regexp.MustCompile(`^[A-Za-z0-9_.\-]+:(\s|$)`)

// detectFormat picks a reader from the file's extension and first lines;
// for YAML it says formatYAML, and yamlFlavour picks the reader.
// The order matters: INI section headers are not YAML, and a plain list of
// names is valid YAML (one long string), so YAML is chosen only when the
// file opens a mapping.
func detectFormat(path string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ini", ".cfg":
		return FormatAnsibleINI
	case ".yml", ".yaml", ".json":
		return formatYAML
	case ".txt", ".list":
		return FormatList
	}
	lines := meaningfulLines(data)
	if len(lines) == 0 {
		return FormatList
	}
	first := lines[0]
	switch {
	case strings.HasPrefix(first, "["):
		return FormatAnsibleINI
	case first == "---" || strings.HasPrefix(first, "{") || yamlKeyLine.MatchString(first):
		return formatYAML
	}
	for _, l := range lines {
		if strings.Contains(l, "=") || len(strings.Fields(stripComment(l))) > 1 {
			return FormatAnsibleINI // ungrouped hosts with inline vars
		}
	}
	return FormatList
}

// formatYAML is what detectFormat says of a YAML file: which flavour it is
// depends on its keys, so yamlFlavour decides once the file is parsed
// (once: a big inventory is not parsed twice).
const formatYAML Format = "yaml"

// yamlFlavour tells patchrun YAML from Ansible YAML by the top-level keys:
// patchrun uses defaults/groups/hosts (hosts being a list); Ansible uses
// group names (usually "all") mapping to hosts/children/vars. root is nil
// for an empty or broken file, which the patchrun reader reports.
func yamlFlavour(root *yaml.Node) Format {
	if root == nil || root.Kind != yaml.MappingNode {
		return FormatPatchrun
	}
	keys := map[string]*yaml.Node{}
	forPairs(root, func(k, v *yaml.Node) { keys[k.Value] = v })
	switch {
	case keys["all"] != nil:
		return FormatAnsibleYAML
	case keys["defaults"] != nil || keys["groups"] != nil:
		return FormatPatchrun
	}
	hosts := keys["hosts"]
	if hosts == nil {
		return FormatAnsibleYAML // top-level keys are Ansible group names
	}
	if hosts.Kind == yaml.MappingNode && isAnsibleGroupBody(hosts) {
		return FormatAnsibleYAML // an Ansible group that happens to be called hosts
	}
	return FormatPatchrun
}

// isAnsibleGroupBody reports whether a mapping only has Ansible group keys.
func isAnsibleGroupBody(n *yaml.Node) bool {
	ok := len(n.Content) > 0
	forPairs(n, func(k, _ *yaml.Node) {
		switch k.Value {
		case "hosts", "children", "vars":
		default:
			ok = false
		}
	})
	return ok
}

// meaningfulLines returns trimmed lines that are neither blank nor comments.
func meaningfulLines(data []byte) []string {
	var out []string
	for _, l := range splitLines(data) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// stripComment drops a trailing " # comment" (a # that starts a word).
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return strings.TrimSpace(line[:i])
		}
	}
	return strings.TrimSpace(line)
}

// splitLines splits on \n and drops a \r before it (files written on Windows).
func splitLines(data []byte) []string {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}
