package inventory

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// checkDuplicateKeys reports every key written twice in one mapping,
// anywhere in the document. yaml.v3 keeps both in a node tree, and a reader
// taking the last would silently drop hosts ("hosts:" twice) or group
// members ("web:" twice under groups:).
func checkDuplicateKeys(n *yaml.Node, path *nodePath, p *problems) {
	switch n.Kind {
	case yaml.MappingNode:
		first := make(map[string]int, len(n.Content)/2)
		forPairs(n, func(k, v *yaml.Node) {
			here := &nodePath{parent: path, key: k.Value, index: -1}
			if prev, dup := first[k.Value]; dup {
				p.add(k.Line, here.String(), "duplicate key",
					"it is already set at line "+strconv.Itoa(prev)+"; keep one (YAML would silently use the last)")
			} else {
				first[k.Value] = k.Line
			}
			checkDuplicateKeys(v, here, p)
		})
	case yaml.SequenceNode:
		for i, c := range n.Content {
			checkDuplicateKeys(c, &nodePath{parent: path, index: i}, p)
		}
	}
	// Aliases are not followed: their anchor was checked where it is written.
}

// nodePath is the way from the root to a node, rendered only for messages
// ("hosts[2].address", "all.children.web.hosts.web1").
type nodePath struct {
	parent *nodePath
	key    string
	index  int // >= 0 for a sequence item; -1 for a mapping key
}

func (np *nodePath) String() string {
	if np == nil {
		return ""
	}
	s := np.parent.String()
	if np.index >= 0 {
		return fmt.Sprintf("%s[%d]", s, np.index)
	}
	if s == "" {
		return np.key
	}
	return s + "." + np.key
}
