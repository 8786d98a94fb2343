package advisory

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/patchrun/patchrun/internal/fsread"
)

// maxKEVSize caps the known-exploited list (about 1.5 MiB in 2025).
const maxKEVSize = 64 << 20

// loadKEV reads CISA's Known Exploited Vulnerabilities catalog (its JSON
// feed): CVE id → due date (YYYY-MM-DD).
func loadKEV(path string) (map[string]string, error) {
	b, err := fsread.ReadFile(path, maxKEVSize)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Vulnerabilities *[]struct {
			CVE     string `json:"cveID"`
			DueDate string `json:"dueDate"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: not the known-exploited JSON feed: %w", path, err)
	}
	if doc.Vulnerabilities == nil {
		return nil, fmt.Errorf("%s: not the known-exploited JSON feed: no \"vulnerabilities\" list", path)
	}
	out := make(map[string]string, len(*doc.Vulnerabilities))
	for i, v := range *doc.Vulnerabilities {
		if !cveRe.MatchString(v.CVE) || cveRe.FindString(v.CVE) != v.CVE {
			return nil, fmt.Errorf("%s: entry %d: bad cveID %q", path, i+1, v.CVE)
		}
		if v.DueDate != "" {
			if _, err := time.Parse(time.DateOnly, v.DueDate); err != nil {
				return nil, fmt.Errorf("%s: %s: bad dueDate %q (want YYYY-MM-DD)", path, v.CVE, v.DueDate)
			}
		}
		if d, ok := out[v.CVE]; !ok || (v.DueDate != "" && (d == "" || v.DueDate < d)) {
			out[v.CVE] = v.DueDate
		}
	}
	return out, nil
}
