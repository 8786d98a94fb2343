package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// readHostList reads a plain list, one host per line (BatchPatch's habit):
// "# comments", blank lines, optional host:port, ranges like web[01:03].
func readHostList(data []byte, p *problems) []hostSpec {
	var specs []hostSpec
	firstLine := map[string]int{}
	for i, raw := range splitLines(data) {
		line := i + 1
		t := stripComment(raw)
		if t == "" || strings.HasPrefix(t, ";") {
			continue
		}
		if len(strings.Fields(t)) > 1 {
			p.add(line, "", fmt.Sprintf("expected one host per line, got %q", t),
				"write host or host:port; for per-host settings use a YAML inventory (see examples/inventory.yaml)")
			continue
		}
		names, port, err := expandHostPattern(t)
		if err != nil {
			p.add(line, t, err.Error(), "write a host name, host:port, or a range like web[01:03]")
			continue
		}
		for _, n := range names {
			if prev, dup := firstLine[n]; dup {
				p.add(line, n, fmt.Sprintf("duplicate host name %q", n),
					"list each host once; it was first listed at line "+strconv.Itoa(prev))
				continue
			}
			firstLine[n] = line
			var own layer // nil unless a port is given: a million hosts, a million maps
			if port != "" {
				own = layer{keyPort: setting{val: port, line: line, key: n + ".port"}}
			}
			specs = append(specs, hostSpec{name: n, line: line, key: n, layers: []layer{own}})
		}
	}
	return specs
}
