package windows

import (
	"github.com/patchrun/patchrun/patch"

	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestScriptConventions pins what the simulated host and the framing rely
// on: the marker line first, strict error handling, no progress records,
// results only through the frame function, an explicit exit at the end.
func TestScriptConventions(t *testing.T) {
	for _, name := range ScriptNames() {
		t.Run(name, func(t *testing.T) {
			text, err := Script(name)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
			if lines[0] != MarkerPrefix+name {
				t.Errorf("first line %q, want %q", lines[0], MarkerPrefix+name)
			}
			for _, want := range []string{"$ErrorActionPreference = 'Stop'", "$ProgressPreference = 'SilentlyContinue'"} {
				if !strings.Contains(text, want) {
					t.Errorf("missing %s", want)
				}
			}
			// Every path ends in an explicit exit: the last statement before
			// the closing braces (of the catch block) is one.
			i := len(lines) - 1
			for i > 0 && strings.TrimSpace(lines[i]) == "}" {
				i--
			}
			if last := strings.TrimSpace(lines[i]); !strings.HasPrefix(last, "exit ") {
				t.Errorf("does not end with an explicit exit: %q", last)
			}
			for _, banned := range []string{"Write-Output", "Write-Host", "Write-Verbose"} {
				if strings.Contains(text, banned) {
					t.Errorf("writes output with %s: results must go through Write-PatchrunResult only", banned)
				}
			}
			if name != ScriptInstaller && !strings.Contains(text, "Write-PatchrunResult") {
				t.Errorf("never frames a result")
			}
		})
	}
}

func TestComposeRoundTrip(t *testing.T) {
	args := map[string]any{"run_id": "abc123", "update_ids": []string{"id-1", "id'2"}}
	text, err := Compose(ScriptInstallStatus, args)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, MarkerPrefix+ScriptInstallStatus+"\n"+ArgsPrefix) {
		t.Errorf("composed script does not start with marker then args: %.120q", text)
	}
	if !strings.Contains(text, "function Write-PatchrunResult") {
		t.Errorf("frame function not composed in")
	}
	// The transport puts a prelude before the script; the marker is still found.
	name, raw, ok := ParseScript("$ProgressPreference='SilentlyContinue'\n" + text)
	if !ok || name != ScriptInstallStatus {
		t.Fatalf("ParseScript: %q %t", name, ok)
	}
	var got struct {
		RunID     string   `json:"run_id"`
		UpdateIDs []string `json:"update_ids"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || got.RunID != "abc123" || strings.Join(got.UpdateIDs, ",") != "id-1,id'2" {
		t.Errorf("args round trip: %+v %v", got, err)
	}
	if _, _, ok := ParseScript("Get-Date"); ok {
		t.Errorf("a foreign script was taken for a patchrun one")
	}
}

func TestParseScan(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		check   func(t *testing.T, u []patch.Update)
		wantErr bool
	}{
		{name: "arrays", json: `{"updates":[{"id":"g1","title":"T (KB5034439)","kbs":["5034439"],"severity":"Critical",
			"categories":["Security Updates","Windows Server 2022"],"browse_only":false,"max_download_size":431858892.0,"reboot_behavior":1,
			"cves":["CVE-2024-20674","cve-2024-20666"],"last_change":"2024-01-09T18:00:00Z"}]}`,
			check: func(t *testing.T, u []patch.Update) {
				if u[0].KB != "KB5034439" || !u[0].Security || u[0].SizeBytes != 431858892 || !u[0].RebootRequired || len(u[0].Categories) != 2 {
					t.Errorf("%+v", u[0])
				}
				if u[0].Advisory != "KB5034439" || strings.Join(u[0].CVEs, ",") != "CVE-2024-20666,CVE-2024-20674" ||
					u[0].Issued == nil || !u[0].Issued.Equal(time.Date(2024, 1, 9, 18, 0, 0, 0, time.UTC)) {
					t.Errorf("risk data: %+v", u[0])
				}
			}},
		{name: "one-element arrays unrolled by ConvertTo-Json", json: `{"updates":[{"id":"g2","title":"MSRT","kbs":"890830","categories":"Update Rollups","reboot_behavior":0,"cves":"CVE-2024-1","last_change":""}]}`,
			check: func(t *testing.T, u []patch.Update) {
				if u[0].KB != "KB890830" || len(u[0].Categories) != 1 || u[0].Security || u[0].RebootRequired || len(u[0].CVEs) != 1 || u[0].Issued != nil {
					t.Errorf("%+v", u[0])
				}
			}},
		{name: "security category without severity", json: `{"updates":[{"id":"g3","title":"x","kbs":null,"categories":["Security Updates"]}]}`,
			check: func(t *testing.T, u []patch.Update) {
				if !u[0].Security || u[0].KB != "" || u[0].Severity != "" {
					t.Errorf("%+v", u[0])
				}
			}},
		{name: "optional and can-request reboot", json: `{"updates":[{"id":"g4","title":"preview","kbs":["KB5034613"],"browse_only":true,"reboot_behavior":2}]}`,
			check: func(t *testing.T, u []patch.Update) {
				if !u[0].Optional || !u[0].RebootRequired || u[0].KB != "KB5034613" {
					t.Errorf("%+v", u[0])
				}
			}},
		{name: "none", json: `{"updates":[]}`, check: func(t *testing.T, u []patch.Update) {
			if len(u) != 0 {
				t.Errorf("%+v", u)
			}
		}},
		{name: "not json", json: `{"updates":`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScan([]byte(tc.json))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestApplyResults(t *testing.T) {
	asked := []patch.Update{{Name: "a", ID: "A"}, {Name: "b", ID: "B"}, {Name: "c", ID: "C"}, {Name: "d", ID: "D"}}
	st := &InstallStatus{Phase: PhaseDone, Updates: []UpdateResult{
		{ID: "A", ResultCode: ResultSucceeded, HResult: "0x00000000"},
		{ID: "B", ResultCode: ResultFailed, HResult: "0x80240016"},
		{ID: "C", ResultCode: ResultSucceededWithErrors, HResult: "0x00000000"},
	}}
	got := applyResults(asked, st)
	want := []struct {
		installed bool
		err       string
	}{
		{true, ""},
		{false, "0x80240016: install not allowed: another install or a pending reboot is in the way (failed)"},
		{false, "succeeded with errors"},
		{false, "not reported by the installer"},
	}
	for i, w := range want {
		if got[i].Installed != w.installed || got[i].Error != w.err {
			t.Errorf("%s: installed %t error %q; want %t %q", got[i].Name, got[i].Installed, got[i].Error, w.installed, w.err)
		}
	}
}

func TestDescribeFailure(t *testing.T) {
	tests := []struct {
		hresult, msg string
		want         []string
	}{
		{"0x80070005", "Access is denied.", []string{"0x80070005: access denied: Access is denied.", "LocalAccountTokenFilterPolicy=1", "HTTPS listener"}},
		{"-2147024891", "denied", []string{"0x80070005"}},
		{"0x8024402C", "no proxy", []string{"0x8024402C: update server name could not be resolved"}},
		{"0x80041234", "odd", []string{"0x80041234: odd"}},
		{"", "plain", []string{"plain"}},
	}
	for _, tc := range tests {
		got := describeFailure(tc.hresult, tc.msg)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("describeFailure(%q, %q) = %q, missing %q", tc.hresult, tc.msg, got, w)
			}
		}
	}
}
