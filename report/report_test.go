package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
)

func TestJSONCarriesSchemaVersionAndSelected(t *testing.T) {
	r := New(CmdPatch, false, time.Unix(0, 0).UTC())
	r.Finish([]HostResult{{Name: "a", Status: StatusOK, Updates: []Update{
		{Update: patch.Update{Name: "openssl", Installed: true}, Selected: true},
		{Update: patch.Update{Name: "curl"}, Selected: true},
		{Update: patch.Update{Name: "vim"}},
	}}}, time.Unix(60, 0).UTC())
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SchemaVersion *int   `json:"schema_version"`
		RunID         string `json:"run_id"`
		Hosts         []struct {
			Updates []map[string]any `json:"updates"`
		} `json:"hosts"`
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != SchemaVersion || SchemaVersion != 1 {
		t.Errorf("schema_version = %v, want 1", doc.SchemaVersion)
	}
	if strings.Contains(buf.String(), "run_id") {
		t.Errorf("an unset run_id is written:\n%s", buf.String())
	}
	u := doc.Hosts[0].Updates
	if u[0]["name"] != "openssl" || u[0]["selected"] != true || u[1]["selected"] != true || u[2]["selected"] != false {
		t.Errorf("updates lost their fields or selected flag: %v", u)
	}
	if doc.Summary != (Summary{Hosts: 1, OK: 1, UpdatesFound: 3, UpdatesInstalled: 1}) {
		t.Errorf("summary %+v", doc.Summary)
	}
}

func TestNewReportHasNoNullHosts(t *testing.T) {
	var buf bytes.Buffer
	r := New(CmdScan, false, time.Unix(0, 0).UTC())
	r.Finish(nil, time.Unix(0, 0).UTC())
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"hosts": []`) || !strings.Contains(buf.String(), `"schema_version": 1`) {
		t.Errorf("empty report:\n%s", buf.String())
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]HostResult{
		{Status: StatusOK, Rebooted: true, Updates: []Update{{Update: patch.Update{Installed: true}}, {}}},
		{Status: StatusFailed},
		{Status: StatusUnreachable},
		{Status: StatusSkipped, Updates: []Update{{}}},
	})
	want := Summary{Hosts: 4, OK: 1, Failed: 1, Unreachable: 1, Skipped: 1, UpdatesFound: 3, UpdatesInstalled: 1, Rebooted: 1}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
}

func TestFormats(t *testing.T) {
	if got := FormatNames(); got != "text, wide or json" {
		t.Errorf("FormatNames = %q", got)
	}
	for _, f := range Formats() {
		if g, err := ParseFormat(string(f)); err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, g, err)
		}
		if f.Describe() == "" {
			t.Errorf("format %q has no description", f)
		}
	}
	_, err := ParseFormat("yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) || !strings.Contains(err.Error(), "text, wide or json") {
		t.Errorf("ParseFormat(yaml) error = %v, want it to name the value and the choices", err)
	}
}
