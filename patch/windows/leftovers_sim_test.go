package windows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/patch/windows"
)

// What a run killed before its cleanup left (a second Ctrl-C, SIGKILL) is
// removed by the next install on the host; a task still running, or one
// that finished too recently for its own run to have read the result, is
// not touched.
func TestInstallSweepsLeftoversOfKilledRuns(t *testing.T) {
	h := startHost(t, winsim.Config{})
	now := time.Now()
	h.AddLeftover("killed", now.Add(-windows.DefaultSweepAfter-time.Hour), false)
	h.AddLeftover("recent", now.Add(-time.Minute), false)
	h.AddLeftover("live", now.Add(-windows.DefaultSweepAfter-time.Hour), true)
	c := dial(t, h)
	be := windows.New(fastOptions())
	ups, err := be.Scan(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := be.Install(testCtx(t), c, ups[:1], false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Tasks(), []string{"patchrun-live", "patchrun-recent"}; !slices.Equal(got, want) {
		t.Errorf("tasks after the install %q, want %q", got, want)
	}
	for _, f := range h.Files() {
		if strings.Contains(f, `\patchrun\killed\`) {
			t.Errorf("the killed run's work directory is still there: %s", f)
		}
	}
	for _, id := range []string{"recent", "live"} {
		if !slices.ContainsFunc(h.Files(), func(f string) bool { return strings.Contains(f, `\patchrun\`+id+`\`) }) {
			t.Errorf("the %s run's work directory was removed", id)
		}
	}
	if !strings.Contains(res.Output, "removed leftovers of earlier runs: patchrun-killed") {
		t.Errorf("install output does not say what it removed: %q", res.Output)
	}
}
