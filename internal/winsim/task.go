package winsim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch/windows"
)

// taskPrefix names patchrun's scheduled tasks.
const taskPrefix = windows.TaskPrefix

// task is a registered scheduled task. Guarded by Host.mu.
type task struct {
	runID   string
	state   string // Ready | Running
	running bool
}

// statusFile is status.json as the installer writes it.
type statusFile = windows.InstallStatus

func (h *Host) anyTaskRunningLocked() bool {
	for _, t := range h.tasks {
		if t.running {
			return true
		}
	}
	return false
}

// startInstallLocked is install-start: work dir, installer, request and a
// queued status, then the task runs in the background.
func (h *Host) startInstallLocked(inv invocation) (any, int) {
	a, err := parseArgs(inv)
	if err != nil {
		return scriptFailure(err.Error(), "0x80131500")
	}
	installer, err := base64.StdEncoding.DecodeString(a.Installer)
	if err != nil || !strings.Contains(string(installer), "# patchrun-script: installer") {
		return scriptFailure("installer text is not patchrun's installer", "0x80131500")
	}
	dir := workDir(a.RunID)
	h.files[h.normPath(dir+`\installer.ps1`, inv.user)] = string(installer)
	req, _ := json.Marshal(map[string]any{"update_ids": a.UpdateIDs})
	h.files[h.normPath(dir+`\request.json`, inv.user)] = string(req)
	h.writeStatusLocked(a.RunID, &statusFile{Phase: windows.PhaseQueued, Heartbeat: formatTime(time.Now()), Updates: []windows.UpdateResult{}})
	tk := &task{runID: a.RunID, state: "Running", running: true}
	h.tasks[a.RunID] = tk
	ids := append([]string(nil), a.UpdateIDs...)
	bootCtx := h.bootCtx
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.runInstaller(bootCtx, tk, ids)
	}()
	return map[string]string{"task": taskPrefix + a.RunID, "work_dir": dir, "method": "Register-ScheduledTask"}, 0
}

func (h *Host) statusPath(runID string) string {
	return h.normPath(workDir(runID)+`\status.json`, "")
}

// writeStatusLocked writes status.json whole (the real installer moves a
// temporary file into place, so readers never see half of it).
func (h *Host) writeStatusLocked(runID string, st *statusFile) {
	b, _ := json.Marshal(st)
	h.files[h.statusPath(runID)] = string(b)
}

// runInstaller is the SYSTEM task: it downloads then installs each
// requested update, one StepTime each, writing status as it goes. It dies
// with the boot (ctx).
func (h *Host) runInstaller(ctx context.Context, tk *task, ids []string) {
	step := func() bool {
		t := time.NewTimer(h.cfg.StepTime)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	h.mu.Lock()
	st := &statusFile{Phase: windows.PhaseDownloading, Heartbeat: formatTime(time.Now())}
	var todo []*updateState
	for _, id := range ids {
		u := h.applicableByIDLocked(id)
		if u == nil {
			st.Updates = append(st.Updates, windows.UpdateResult{ID: id, ResultCode: windows.ResultFailed, HResult: "0x80240017"})
			continue
		}
		todo = append(todo, u)
		st.Updates = append(st.Updates, windows.UpdateResult{ID: id, Title: u.Title, ResultCode: windows.ResultNotStarted, HResult: "0x00000000"})
	}
	h.writeStatusLocked(tk.runID, st)
	h.mu.Unlock()

	save := func(mut func()) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
		mut()
		st.Heartbeat = formatTime(time.Now())
		h.writeStatusLocked(tk.runID, st)
		return true
	}
	for range todo {
		if !step() || !save(func() {}) {
			return
		}
	}
	if !save(func() { st.Phase = windows.PhaseInstalling }) {
		return
	}
	for _, u := range todo {
		h.mu.Lock()
		hang := h.faults.StaleInstaller
		h.mu.Unlock()
		if hang {
			<-ctx.Done() // hung: no more heartbeats, no final status
			return
		}
		if !step() {
			return
		}
		ok := save(func() {
			r := indexOf(st.Updates, u.ID)
			if u.FailHResult != 0 {
				st.Updates[r].ResultCode = windows.ResultFailed
				st.Updates[r].HResult = fmt.Sprintf("0x%08X", u.FailHResult)
				return
			}
			st.Updates[r].ResultCode = windows.ResultSucceeded
			u.installed = true
			u.installs++
			if u.RebootBehavior != windows.RebootNeverRequires {
				st.RebootRequired = true
				h.signals.WURebootRequired = true
				h.signals.CBSRebootPending = true
			}
		})
		if !ok {
			return
		}
	}
	if !h.holdForDrops(ctx, func() bool { return save(func() {}) }) {
		return
	}
	save(func() {
		st.Phase = windows.PhaseDone
		tk.running, tk.state = false, "Ready"
	})
}

// holdForDrops keeps the installer running, beating every StepTime, until
// every DropDuringInstall poll has come: the fault promises drops while the
// installer runs, and a client slowed down (a loaded machine) must not see
// the installer finish first. false when the boot ended.
func (h *Host) holdForDrops(ctx context.Context, beat func() bool) bool {
	for {
		h.mu.Lock()
		pending, changed := h.faults.DropDuringInstall > 0, h.faultsChanged
		h.mu.Unlock()
		if !pending {
			return true
		}
		t := time.NewTimer(h.cfg.StepTime)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-changed:
			t.Stop()
		case <-t.C:
			if !beat() {
				return false
			}
		}
	}
}

func indexOf(rs []windows.UpdateResult, id string) int {
	for i, r := range rs {
		if r.ID == id {
			return i
		}
	}
	return 0
}

func (h *Host) applicableByIDLocked(id string) *updateState {
	for _, u := range h.updates {
		if u.ID == id && !u.installed && h.boots >= u.AfterBoots {
			return u
		}
	}
	return nil
}

// installStatusLocked is install-status: the status file and the task state.
func (h *Host) installStatusLocked(inv invocation) (any, int) {
	a, err := parseArgs(inv)
	if err != nil {
		return scriptFailure(err.Error(), "0x80131500")
	}
	out := windows.StatusReport{Now: formatTime(time.Now()), TaskState: "Missing"}
	if tk, ok := h.tasks[a.RunID]; ok {
		out.TaskState, out.TaskRunning = tk.state, tk.running
	}
	if body, ok := h.files[h.statusPath(a.RunID)]; ok {
		var st statusFile
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			return scriptFailure("Invalid JSON primitive: "+err.Error(), "0x80131500")
		}
		out.Found, out.Status = true, &st
	}
	return out, 0
}

// cleanupLocked is install-cleanup: task and work directory gone.
func (h *Host) cleanupLocked(inv invocation) (any, int) {
	a, err := parseArgs(inv)
	if err != nil {
		return scriptFailure(err.Error(), "0x80131500")
	}
	delete(h.tasks, a.RunID)
	prefix := h.normPath(workDir(a.RunID), "") + `\`
	for p := range h.files {
		if strings.HasPrefix(p, prefix) {
			delete(h.files, p)
		}
	}
	return map[string]bool{"removed": true}, 0
}

// leftoversLocked is install-leftovers: every task and work directory, with
// the task's state and the status file's heartbeat. (The simulated file
// system keeps no times, so dir_written stays empty.)
func (h *Host) leftoversLocked() windows.LeftoversReport {
	runs := map[string]*windows.LeftoverRun{}
	get := func(id string) *windows.LeftoverRun {
		if runs[id] == nil {
			runs[id] = &windows.LeftoverRun{RunID: id}
		}
		return runs[id]
	}
	for id, tk := range h.tasks {
		get(id).TaskState = tk.state
	}
	root := h.normPath(`C:\ProgramData\patchrun`, "") + `\`
	for p, body := range h.files {
		rest, ok := strings.CutPrefix(p, root)
		if !ok {
			continue
		}
		id, file, _ := strings.Cut(rest, `\`)
		run := get(id)
		if file == "status.json" {
			var st statusFile
			if json.Unmarshal([]byte(body), &st) == nil {
				run.Heartbeat = st.Heartbeat
			}
		}
	}
	out := windows.LeftoversReport{Now: formatTime(time.Now()), Runs: []windows.LeftoverRun{}}
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		out.Runs = append(out.Runs, *runs[id])
	}
	return out
}

// AddLeftover leaves on the host what a run killed before its cleanup
// leaves: the scheduled task patchrun-<runID> (running or not) and its
// work directory, whose status last beat at heartbeat.
func (h *Host) AddLeftover(runID string, heartbeat time.Time, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	state := "Ready"
	if running {
		state = "Running"
	}
	h.tasks[runID] = &task{runID: runID, state: state, running: running}
	h.files[h.normPath(workDir(runID)+`\installer.ps1`, "")] = "# patchrun-script: installer\n"
	h.writeStatusLocked(runID, &statusFile{Phase: windows.PhaseDownloading, Heartbeat: formatTime(heartbeat), Updates: []windows.UpdateResult{}})
}
