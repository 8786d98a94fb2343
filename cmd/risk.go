package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/advisory"
)

// riskOptions are the risk-data files of scan and patch (docs/advisories.md).
type riskOptions struct {
	advisories []string
	kev        string
	epss       string
}

func (o *riskOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringArrayVar(&o.advisories, "advisories", nil, "OSV advisory records to match packages against: a directory, a zip of *.json (osv.dev's ecosystem export) or a .json file (repeatable)")
	f.StringVar(&o.kev, "kev", "", "CISA's known-exploited vulnerabilities JSON feed: flag updates that fix a CVE in it")
	f.StringVar(&o.epss, "epss", "", "FIRST's EPSS scores CSV (or .csv.gz): attach the highest score of an update's CVEs")
}

// apply loads the files once, before any host is contacted, and hands
// them to the run; a bad file stops the run naming its flag.
func (o *riskOptions) apply(common *commonOptions) error {
	if len(o.advisories) == 0 && o.kev == "" && o.epss == "" {
		return nil
	}
	var s advisory.Sources
	if len(o.advisories) > 0 {
		if err := s.LoadOSV(o.advisories); err != nil {
			return fmt.Errorf("--advisories %s: %w", strings.Join(o.advisories, ","), err)
		}
	}
	if o.kev != "" {
		if err := s.LoadKEV(o.kev); err != nil {
			return fmt.Errorf("--kev %s: %w (hint: download known_exploited_vulnerabilities.json from cisa.gov)", o.kev, err)
		}
	}
	if o.epss != "" {
		if err := s.LoadEPSS(o.epss); err != nil {
			return fmt.Errorf("--epss %s: %w (hint: download epss_scores-current.csv.gz from first.org)", o.epss, err)
		}
	}
	common.enricher = &s
	return nil
}
