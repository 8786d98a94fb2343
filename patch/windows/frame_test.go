package windows

import (
	"strings"
	"testing"
)

func TestParseFramed(t *testing.T) {
	payload := `{"updates":[{"kb":"KB5034441","title":"Sécurité"}],"reboot":true}`
	frame := FrameMarker([]byte(payload))
	tests := []struct {
		name    string
		stdout  string
		want    string
		wantErr string
	}{
		{"alone", frame + "\r\n", payload, ""},
		{"noise before and after", "Windows PowerShell banner\r\nWARNING: something\r\n\r\n" + frame + "\r\ntrailing noise\r\n", payload, ""},
		{"indented, no newline", "  " + frame, payload, ""},
		{"last marker wins", FrameMarker([]byte(`{"old":1}`)) + "\n" + frame + "\n", payload, ""},
		{"missing marker", "Exception calling Search: 0x80072EE2\r\n", "", "no #PATCHRUN-RESULT: line"},
		{"bad base64", ResultMarker + "!!!notbase64\r\n", "", "not valid base64"},
		{"not json", FrameMarker([]byte("hello")) + "\n", "", "not JSON"},
		{"marker mid-line does not count", "echo " + frame + "\n", "", "no #PATCHRUN-RESULT: line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFramed([]byte(tt.stdout))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseFramedErrorExcerptIsBounded(t *testing.T) {
	out := strings.Repeat("noise ", 10000) + "THE-END"
	_, err := ParseFramed([]byte(out))
	if err == nil {
		t.Fatal("no error")
	}
	if len(err.Error()) > 600 {
		t.Errorf("error is %d bytes long", len(err.Error()))
	}
	if !strings.Contains(err.Error(), "THE-END") {
		t.Errorf("error excerpt lacks the tail of the output: %v", err)
	}
}

func TestPSWriteResultMatchesMarker(t *testing.T) {
	for _, want := range []string{"function Write-PatchrunResult", "'" + ResultMarker + "'", "-Depth 6", "-Compress", "UTF8.GetBytes"} {
		if !strings.Contains(PSWriteResult, want) {
			t.Errorf("PSWriteResult lacks %q", want)
		}
	}
}
