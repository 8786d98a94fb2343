package fleet

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch/unix"
)

// Detached jobs: `sh -s -- patchrun-job VERB DIR JOB [ARG]` with patchrun's
// job script on stdin (patch/unix/job.sh) is answered here in Go, with the
// script's answers: start runs the line in the background for the rest of
// the boot (refusing while another job runs), wait follows it, clean
// forgets it. A reboot ends every job and forgets them, as /run is lost.

// simJob is one detached job. Concurrency: done, rc and the buffers are
// written by the job's goroutine before it closes finished; readers wait
// for finished first. The jobs map is guarded by the host's mu.
type simJob struct {
	finished chan struct{}
	rc       int
	out, err bytes.Buffer
}

func (j *simJob) isDone() bool {
	select {
	case <-j.finished:
		return true
	default:
		return false
	}
}

// isJobScript reports whether an `sh` argv runs the job script.
func isJobScript(args []string) bool {
	return len(args) >= 4 && args[1] == "-s" && args[2] == "--" && args[3] == unix.JobTag
}

// progJob answers one verb of the job script: args are VERB DIR JOB [ARG].
func progJob(ctx context.Context, p *proc, args []string) int {
	_, _ = io.Copy(io.Discard, io.LimitReader(p.io.in, 1<<20)) // the script itself, read by sh
	if len(args) < 3 {
		p.errf("patchrun-job: bad job name\n")
		return 2
	}
	verb, name := args[0], args[2]
	arg := ""
	if len(args) > 3 {
		arg = args[3]
	}
	say := func(s string) { p.outf("%s %s\n", unix.JobMarker, s) }
	h := p.h
	switch verb {
	case "start":
		h.mu.Lock()
		if busy := h.runningJobLocked(); busy != "" {
			h.mu.Unlock()
			say(unix.JobBusy + " " + busy)
			return 0
		}
		if h.jobs[name] != nil {
			h.mu.Unlock()
			p.errf("mkdir: cannot create directory '%s/%s': File exists\n", args[1], name)
			return 2
		}
		j := &simJob{finished: make(chan struct{})}
		h.jobs[name] = j
		bootCtx := h.bootCtx
		h.mu.Unlock()
		h.recordCommand(arg)
		child := p.sh.clone()
		// The job outlives the SSH session; a drop fault it fires still cuts
		// the connection that started it.
		child.sess = &session{bgCtx: bootCtx, drop: p.sh.sess.drop, detached: true}
		h.f.goTracked(func() {
			j.rc = child.runLine(bootCtx, arg, stdio{in: strings.NewReader(""), out: &j.out, err: &j.err})
			close(j.finished)
		})
		say(unix.JobStarted + " nohup")
	case "wait":
		h.mu.Lock()
		j := h.jobs[name]
		h.mu.Unlock()
		if j == nil {
			say(unix.JobNone)
			return 0
		}
		secs, _ := strconv.Atoi(arg)
		t := time.NewTimer(h.f.cfg.scale(time.Duration(secs) * time.Second))
		defer t.Stop()
		select {
		case <-j.finished:
		case <-t.C:
		case <-ctx.Done():
			return 130
		}
		if !j.isDone() {
			say(unix.JobRunning)
			return 0
		}
		say(unix.JobDone + " " + strconv.Itoa(j.rc))
		_, _ = io.Copy(p.io.out, bytes.NewReader(j.out.Bytes()))
		_, _ = io.Copy(p.io.err, bytes.NewReader(j.err.Bytes()))
	case "clean":
		h.mu.Lock()
		delete(h.jobs, name)
		h.mu.Unlock()
		say(unix.JobCleaned)
	default:
		p.errf("patchrun-job: unknown verb '%s'\n", verb)
		return 2
	}
	return 0
}

// runningJobLocked names a job of this boot still running ("" if none).
// Called with mu held.
func (h *SimHost) runningJobLocked() string {
	if names := h.jobNamesLocked(true); len(names) > 0 {
		return names[0]
	}
	return ""
}

// jobNamesLocked names this boot's jobs (only the running ones when
// running), sorted. Called with mu held.
func (h *SimHost) jobNamesLocked(running bool) []string {
	var names []string
	for n, j := range h.jobs {
		if !running || !j.isDone() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// RunningJobs names the detached jobs of this boot still running.
func (h *SimHost) RunningJobs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.jobNamesLocked(true)
}

// Jobs names every detached job of this boot whose files were not cleaned
// up yet.
func (h *SimHost) Jobs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.jobNamesLocked(false)
}
