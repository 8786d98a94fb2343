package fleet

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"gopkg.in/yaml.v3"
)

// File names WriteInventory creates in its directory.
const (
	InventoryFile  = "inventory.yaml"
	KeyFile        = "id_ed25519"
	KnownHostsFile = "known_hosts"
)

// KnownHosts returns a known_hosts file naming every host as
// "[127.0.0.1]:port" with its recorded key.
func (f *Fleet) KnownHosts() []byte {
	var b bytes.Buffer
	for _, h := range f.hosts {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(h.addr)}, h.hostKey.PublicKey()))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// inventoryDoc is the patchrun inventory shape (see docs/inventory.md).
type inventoryDoc struct {
	Defaults inventoryDefaults   `yaml:"defaults"`
	Groups   yaml.Node           `yaml:"groups"`
	Hosts    []inventoryHostLine `yaml:"hosts"`
}

type inventoryDefaults struct {
	User          string `yaml:"user"`
	SSHKey        string `yaml:"ssh_key"`
	KnownHosts    string `yaml:"known_hosts"`
	HostKeyPolicy string `yaml:"host_key_policy"`
}

type inventoryHostLine struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
}

// WriteInventory writes into dir (created if needed) a patchrun inventory
// (inventory.yaml: defaults user, ssh_key, known_hosts, host_key_policy
// strict; one group per distro; every host with address 127.0.0.1 and its
// port), the client key (id_ed25519, mode 0600, plus .pub) and a
// known_hosts file with every host's key. Paths inside the inventory are
// relative to it. It returns the inventory's path.
func (f *Fleet) WriteInventory(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write inventory: %w", err)
	}
	doc := inventoryDoc{Defaults: inventoryDefaults{
		User: f.cfg.User, SSHKey: KeyFile, KnownHosts: KnownHostsFile, HostKeyPolicy: "strict",
	}}
	doc.Groups.Kind = yaml.MappingNode
	for _, d := range Distros() {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, h := range f.hosts {
			if h.prof.distro == d {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: h.name})
			}
		}
		if len(seq.Content) > 0 {
			doc.Groups.Content = append(doc.Groups.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: profileFor(d).short}, seq)
		}
	}
	for _, h := range f.hosts {
		doc.Hosts = append(doc.Hosts, inventoryHostLine{Name: h.name, Address: "127.0.0.1", Port: h.port})
	}
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("write inventory: %w", err)
	}
	header := []byte("# Simulated fleet written by internal/fleet: every host is an in-process\n" +
		"# SSH server on 127.0.0.1; the key and known_hosts files sit beside this file.\n")
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{KeyFile, f.clientPEM, 0o600},
		{KeyFile + ".pub", ssh.MarshalAuthorizedKey(f.clientSigner.PublicKey()), 0o644},
		{KnownHostsFile, f.KnownHosts(), 0o644},
		{InventoryFile, append(header, body.Bytes()...), 0o644},
	}
	for _, fl := range files {
		p := filepath.Join(dir, fl.name)
		if err := os.WriteFile(p, fl.data, fl.mode); err != nil {
			return "", fmt.Errorf("write inventory: %w", err)
		}
	}
	return filepath.Join(dir, InventoryFile), nil
}
