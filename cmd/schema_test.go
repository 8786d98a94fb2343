package cmd

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/patchrun/patchrun/internal/fleet"
)

// reportSchema compiles docs/report.schema.json with format assertions on,
// so a time that is not RFC 3339 fails too.
func reportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "docs", "report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

// validateReport checks that doc (one -o json document) matches the schema.
func validateReport(t *testing.T, s *jsonschema.Schema, name string, doc []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: stdout is not JSON: %v\n%s", name, err, doc)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s: the report does not match docs/report.schema.json:\n%v", name, err)
	}
}

// TestEveryCommandsReportMatchesTheSchema runs the real commands against the
// simulated fleet and checks each -o json document against the published
// schema: a field added, renamed or retyped without updating the schema
// fails here.
func TestEveryCommandsReportMatchesTheSchema(t *testing.T) {
	s := reportSchema(t)
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	gone := fl.Hosts()[0].Name
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"scan", []string{"scan", "-i", inv}, ExitOK},
		{"scan with risk data", []string{"scan", "-i", inv, "--advisories", "../advisory/testdata/osv",
			"--kev", "../advisory/testdata/kev.json", "--epss", "../advisory/testdata/epss.csv"}, ExitOK},
		{"facts", []string{"facts", "-i", inv}, ExitOK},
		{"patch --dry-run", []string{"patch", "-i", inv, "--dry-run", "--reboot", "always"}, ExitOK},
		{"patch --dry-run with hooks", []string{"patch", "-i", inv, "--dry-run", "--reboot", "always", "--pre-cmd", "hook drain", "--health-cmd", "health-check"}, ExitOK},
		{"exec", []string{"exec", "-i", inv, "--", "hostname"}, ExitOK},
		{"exec failing", []string{"exec", "-i", inv, "--", "false"}, ExitHostsFailed},
		{"reboot", []string{"reboot", "-i", inv, "-l", "!" + gone, "--reboot-timeout", "20s"}, ExitOK},
		{"patch", []string{"patch", "-i", inv, "-l", "!" + gone, "--batch", "1", "--reboot-timeout", "20s"}, ExitOK},
		// Hook output, and a host failed by its health check.
		{"patch unhealthy", []string{"patch", "-i", inv, "-l", "!" + gone, "--reboot", "always", "--reboot-timeout", "20s",
			"--pre-cmd", "hook drain", "--health-cmd", "test -e /nonexistent", "--health-timeout", "1s"}, ExitHostsFailed},
		// A host that never comes back: failed with a kind and a phase,
		// the budget spent, the rest skipped.
		{"patch halted", []string{"patch", "-i", inv, "--batch", "1", "--max-failures", "0", "--reboot", "always", "--reboot-timeout", "2s"}, ExitHalted},
		{"empty shard", []string{"scan", "-i", inv, "--shard", "4/4"}, ExitOK},
	}
	for _, tt := range tests {
		if tt.name == "patch halted" {
			fl.Host(gone).SetFaults(fleet.Faults{NeverReturn: true})
		}
		// -o json right after the command name: exec reads everything
		// after its command's first word as the command.
		args := append([]string{tt.args[0], "-o", "json"}, tt.args[1:]...)
		r := runCLI(t, nil, args...)
		if r.code != tt.code {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", tt.name, r.code, tt.code, r.stderr)
			continue
		}
		validateReport(t, s, tt.name, []byte(r.stdout))
	}
}

// TestDemoReportMatchesTheSchema covers the Windows fields (kb, severity,
// categories, id) and install rounds.
func TestDemoReportMatchesTheSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("demo runs a whole sweep")
	}
	s := reportSchema(t)
	r := runCLI(t, nil, "demo", "--hosts", "1", "--windows", "1", "-o", "json", "--time-scale", "0.05", "--state-dir", t.TempDir())
	if r.code != ExitOK {
		t.Fatalf("demo exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `"kb"`) {
		t.Fatalf("the demo report has no Windows update; nothing Windows-shaped was checked:\n%s", r.stdout)
	}
	validateReport(t, s, "demo", []byte(r.stdout))
}

// TestSchemaRejectsAWrongReport proves the schema can fail: a wrong type, a
// missing required field, an unknown field and a bad time are each refused,
// at the place they occur.
func TestSchemaRejectsAWrongReport(t *testing.T) {
	s := reportSchema(t)
	good := `{"schema_version":1,"command":"scan","started_at":"2026-12-05T10:00:00Z","finished_at":"2026-12-05T10:00:01.5Z",
		"hosts":[{"name":"web1","address":"10.0.0.5","transport":"ssh","status":"ok",
			"updates":[{"name":"openssl","security":true,"installed":false,"selected":true}],
			"reboot_required":false,"rebooted":false,
			"started_at":"2026-12-05T10:00:00Z","finished_at":"2026-12-05T10:00:01Z"}],
		"summary":{"hosts":1,"ok":1,"failed":0,"unreachable":0,"skipped":0,"updates_found":1,"updates_installed":0,"rebooted":0}}`
	if err := s.Validate(decodeAny(t, good)); err != nil {
		t.Fatalf("the well-formed report is refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(doc map[string]any)
		where  string
	}{
		{"summary count as a string", func(d map[string]any) { d["summary"].(map[string]any)["ok"] = "1" }, "/summary/ok"},
		{"host without status", func(d map[string]any) { delete(host0(d), "status") }, "/hosts/0"},
		{"unknown status", func(d map[string]any) { host0(d)["status"] = "fine" }, "/hosts/0/status"},
		{"update without name", func(d map[string]any) {
			delete(host0(d)["updates"].([]any)[0].(map[string]any), "name")
		}, "/hosts/0/updates/0"},
		{"installed as a string", func(d map[string]any) {
			host0(d)["updates"].([]any)[0].(map[string]any)["installed"] = "yes"
		}, "/hosts/0/updates/0/installed"},
		{"updates null", func(d map[string]any) { host0(d)["updates"] = nil }, "/hosts/0/updates"},
		{"unknown field", func(d map[string]any) { host0(d)["colour"] = "blue" }, "/hosts/0"},
		{"time not RFC 3339", func(d map[string]any) { d["started_at"] = "yesterday" }, "/started_at"},
		{"no summary", func(d map[string]any) { delete(d, "summary") }, "summary"},
		{"schema_version as a string", func(d map[string]any) { d["schema_version"] = "1" }, "/schema_version"},
		{"no schema_version", func(d map[string]any) { delete(d, "schema_version") }, "schema_version"},
		{"a schema_version this schema does not describe", func(d map[string]any) { d["schema_version"] = 2 }, "/schema_version"},
	}
	for _, tt := range tests {
		doc := decodeAny(t, good).(map[string]any)
		tt.change(doc)
		err := s.Validate(doc)
		if err == nil {
			t.Errorf("%s: the schema accepts it", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.where) {
			t.Errorf("%s: error does not point at %s:\n%v", tt.name, tt.where, err)
		}
	}
}

func host0(doc map[string]any) map[string]any {
	return doc["hosts"].([]any)[0].(map[string]any)
}

func decodeAny(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
