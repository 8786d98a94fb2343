package e2e

import (
	"encoding/json"
	"os"
	"testing"

	junit "github.com/joshdk/go-junit"
)

// checkRunReports checks the --report files a patch run wrote as it
// ended: a JUnit consumer reads one passed case per host, and each host's
// timeline in the JSON report shows its reboot in the batch the run
// report names.
func checkRunReports(t *testing.T, rep report, batchOf map[string]int, junitPath, jsonPath string) {
	t.Helper()
	suites, err := junit.IngestFile(junitPath)
	if err != nil {
		t.Fatalf("--report junit: %v", err)
	}
	if len(suites) != 1 || suites[0].Totals.Tests != len(rep.Hosts) || suites[0].Totals.Passed != len(rep.Hosts) {
		t.Errorf("--report junit: %+v, want one suite of %d passed cases", suites, len(rep.Hosts))
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Hosts []struct {
				Name     string `json:"name"`
				Timeline []struct {
					Phase string `json:"phase"`
					Batch int    `json:"batch"`
				} `json:"timeline"`
			} `json:"hosts"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Runs) != 1 {
		t.Fatalf("--report json: %v, %d runs", err, len(doc.Runs))
	}
	for _, h := range doc.Runs[0].Hosts {
		rebootIn := 0
		for _, s := range h.Timeline {
			if s.Phase == "rebooting" {
				rebootIn = s.Batch
			}
		}
		if rebootIn == 0 || rebootIn != batchOf[h.Name] {
			t.Errorf("%s: timeline %+v reboots in batch %d, the run report says batch %d", h.Name, h.Timeline, rebootIn, batchOf[h.Name])
		}
	}
}
