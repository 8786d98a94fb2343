package winsim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"
)

// WindowsGroup is the inventory group AppendInventory puts the hosts in.
const WindowsGroup = "windows"

// AppendInventory adds hosts to the patchrun inventory at invPath (as
// written by internal/fleet's WriteInventory, or any patchrun YAML
// inventory): one entry per host with transport winrm, its 127.0.0.1
// port, the built-in Administrator and a password_file written beside the
// inventory (mode 0600), NTLM with message encryption over HTTP (the
// winrm_encryption default), or HTTPS with the host's CA written beside it
// too; and a "windows" group naming them. Keys inherited from defaults that
// only SSH uses (ssh_key, known_hosts) are ignored for WinRM hosts.
func AppendInventory(invPath string, hosts []*Host) error {
	body, err := os.ReadFile(invPath)
	if err != nil {
		return fmt.Errorf("append windows hosts: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("append windows hosts: %s: %w", invPath, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("append windows hosts: %s is not a patchrun YAML inventory", invPath)
	}
	root := doc.Content[0]
	dir := filepath.Dir(invPath)
	hostSeq := mappingValue(root, "hosts", yaml.SequenceNode)
	groups := mappingValue(root, "groups", yaml.MappingNode)
	group := mappingValue(groups, WindowsGroup, yaml.SequenceNode)
	group.Style = yaml.FlowStyle

	for _, h := range hosts {
		entry, err := h.inventoryEntry(dir)
		if err != nil {
			return fmt.Errorf("append windows hosts: %w", err)
		}
		hostSeq.Content = append(hostSeq.Content, entry)
		group.Content = append(group.Content, scalar(h.Name()))
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return fmt.Errorf("append windows hosts: %w", err)
	}
	if err := os.WriteFile(invPath, out, 0o644); err != nil {
		return fmt.Errorf("append windows hosts: %w", err)
	}
	return nil
}

// inventoryEntry writes the host's secret files into dir and returns its
// hosts: entry.
func (h *Host) inventoryEntry(dir string) (*yaml.Node, error) {
	user, pass := h.Credentials()
	pwFile := h.Name() + ".password"
	if err := os.WriteFile(filepath.Join(dir, pwFile), []byte(pass+"\n"), 0o600); err != nil {
		return nil, err
	}
	kv := []string{
		"name", h.Name(),
		"address", h.Address(),
		"port", strconv.Itoa(h.Port()),
		"transport", "winrm",
		"user", user,
		"password_file", pwFile,
		"winrm_auth", "ntlm",
	}
	if h.HTTPS() {
		caFile := h.Name() + "-ca.pem"
		if err := os.WriteFile(filepath.Join(dir, caFile), h.CACertPEM(), 0o644); err != nil {
			return nil, err
		}
		kv = append(kv, "winrm_https", "true", "winrm_ca_cert", caFile)
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i < len(kv); i += 2 {
		v := scalar(kv[i+1])
		if kv[i] == "port" {
			v.Tag = "!!int"
		}
		if kv[i+1] == "true" {
			v.Tag = "!!bool"
		}
		m.Content = append(m.Content, scalar(kv[i]), v)
	}
	return m, nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// mappingValue returns m's value for key, adding an empty node of kind
// when the key is missing (or null).
func mappingValue(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == kind {
				return v
			}
			if v.Tag == "!!null" {
				*v = yaml.Node{Kind: kind}
				return v
			}
		}
	}
	v := &yaml.Node{Kind: kind}
	m.Content = append(m.Content, scalar(key), v)
	return v
}
