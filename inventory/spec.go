package inventory

// The format readers turn a file into hostSpecs; resolveHost then applies one
// set of rules to all of them, so every format validates the same way.

// setting is one raw value and where it was written.
type setting struct {
	val  string
	line int
	key  string // key path for messages: "hosts[2].port", "[web:vars].ansible_port"
}

// layer is one level of settings (defaults, a group's vars, a host entry),
// keyed by patchrun key names.
type layer map[string]setting

// hostSpec is one host as read from a file, before any defaults apply.
// Owned by the Load call that built it.
type hostSpec struct {
	name   string
	line   int
	key    string  // "hosts[2]", or the host name for Ansible formats
	layers []layer // lowest precedence first; the host's own entry is last
	vars   map[string]string
	groups []string // in inventory order, without "all"
}

// Format names the kind of inventory file Load read.
type Format string

// Inventory formats Load understands.
const (
	FormatPatchrun    Format = "patchrun-yaml"
	FormatAnsibleYAML Format = "ansible-yaml"
	FormatAnsibleINI  Format = "ansible-ini"
	FormatList        Format = "list" // one host (or host:port) per line
)
