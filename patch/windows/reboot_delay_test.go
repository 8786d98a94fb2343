package windows

import (
	"strings"
	"testing"
	"time"
)

// The reboot waits reboot_delay (default 1s, not the 5s it once was) in
// whole seconds, rounded up so a shutdown is never earlier than asked.
func TestRebootDelayReachesShutdown(t *testing.T) {
	for _, tt := range []struct {
		delay time.Duration
		want  string
	}{
		{0, `"delay_seconds":1`},
		{1500 * time.Millisecond, `"delay_seconds":2`},
		{5 * time.Second, `"delay_seconds":5`},
	} {
		b := New(Options{RebootDelay: tt.delay}).(*Backend)
		script, err := Compose(ScriptReboot, b.rebootArgs())
		if err != nil {
			t.Fatal(err)
		}
		_, args, ok := ParseScript(script)
		if !ok || !strings.Contains(string(args), tt.want) {
			t.Errorf("delay %s: reboot script lacks %s", tt.delay, tt.want)
		}
		if strings.Count(script, "/t $delay") != 2 || strings.Contains(script, "/t 5") {
			t.Errorf("reboot script does not pass the delay to both shutdown calls")
		}
	}
}
