package cmd

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
)

// inventoryHost is one line of `patchrun inventory -o json`. Secrets appear
// only as their reference ("env:WIN_PASS").
type inventoryHost struct {
	Name          string   `json:"name"`
	Address       string   `json:"address"`
	Port          int      `json:"port"`
	Transport     string   `json:"transport"`
	User          string   `json:"user"`
	Groups        []string `json:"groups"`
	Password      string   `json:"password,omitempty"`
	HostKeyPolicy string   `json:"host_key_policy,omitempty"`
	Source        string   `json:"source"`
}

func (a *app) newInventoryCmd() *cobra.Command {
	var o commonOptions
	c := &cobra.Command{
		Use:   "inventory -i FILE [-l PATTERN]",
		Short: "Validate the inventory and list the resolved hosts; contacts nothing",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			var out []inventoryHost
			for _, h := range hosts {
				user := h.User
				if w := h.WinRM; w != nil && w.Auth == "kerberos" && w.KerberosRealm != "" && user != "" {
					user += "@" + w.KerberosRealm // the principal patchrun logs in as
				}
				ih := inventoryHost{
					Name: h.Name, Address: h.Address, Port: h.Port, Transport: h.Transport,
					User: user, Groups: h.Groups, Password: h.Password.Source(), Source: h.Source(),
				}
				if ih.Groups == nil {
					ih.Groups = []string{}
				}
				if h.SSH != nil {
					ih.HostKeyPolicy = h.SSH.HostKeyPolicy
				}
				out = append(out, ih)
			}
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"hosts": out})
			}
			tw := tabwriter.NewWriter(a.streams.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tADDRESS\tPORT\tTRANSPORT\tUSER\tGROUPS\tPASSWORD")
			for _, h := range out {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", termtext.Line(h.Name), termtext.Line(h.Address), h.Port, h.Transport,
					dash(termtext.Line(h.User)), dash(termtext.Line(strings.Join(h.Groups, ","))), dash(termtext.Line(h.Password)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Out, "\n%d hosts\n", len(out))
			return nil
		},
	}
	o.addFlags(c)
	return c
}
