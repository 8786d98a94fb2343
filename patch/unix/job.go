package unix

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// Detached jobs. Every install and metadata refresh runs as a job detached
// from the SSH session (job.sh): a transient systemd unit when systemd runs
// the host, else `setsid nohup`. Its output and exit status go to files in
// Options.JobDir, so a dropped link cannot interrupt the transaction, and
// patchrun, once reconnected, reads the real exit status instead of
// guessing. The flow of one job:
//
//	preflight (installs): dpkg --audit / stale lock files → fail with the repair command
//	start: refused with "busy" while another job of ours still runs
//	wait (repeated, JobWait seconds each) until done, lost or none
//	clean: remove the job's files once its result is read
//
// A link lost while starting or following returns *patch.JobLostError; a
// new connection continues with ReattachInstall (same job, no new
// transaction).

//go:embed job.sh
var jobScript string

// JobScript is the job-control script sent on the stdin of every CmdJob line.
func JobScript() string { return jobScript }

const (
	// DefaultJobDir holds the jobs' files on the host: a tmpfs, so a reboot
	// (which ends every job) also clears what was never read.
	DefaultJobDir = "/run/patchrun"
	// JobTag is the first argument of every CmdJob line.
	JobTag = "patchrun-job"
	// defaultJobWait is how long one wait command waits on the host.
	defaultJobWait = 20
	// jobCleanupTimeout bounds the removal of a finished job's files.
	jobCleanupTimeout = 30 * time.Second
)

// Job states, the first word after the job marker of a CmdJob answer.
const (
	JobStarted = "started"
	JobBusy    = "busy"
	JobRunning = "running"
	JobDone    = "done"
	JobLost    = "lost"
	JobNone    = "none"
	JobCleaned = "cleaned"
)

// JobMarker starts the first line of every answer of the job script.
const JobMarker = markerPrefix + "job" + markerSuffix

// CmdJob runs one verb of the job script (sent on stdin): start (arg: the
// command line), wait (arg: seconds) or clean (no arg).
func CmdJob(verb, dir, job, arg string) string {
	line := "sh -s -- " + JobTag + " " + verb + " " + shQuote(dir) + " " + job
	if arg != "" {
		line += " " + shQuote(arg)
	}
	return line
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	if s != "" && safeWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var safeWord = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+-]+$`)

// JobName names a host's nth job of kind ("install", "refresh") in a run.
func JobName(kind, run string, n int) string {
	return "patchrun-" + kind + "-" + run + "-" + strconv.Itoa(n)
}

// runIDOK: a run id usable in a job (and systemd unit) name.
var runIDOK = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// randomRunID names the jobs of a backend whose run has no id.
func randomRunID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NameJobs implements patch.JobNamer: jobs are named after the run.
func (h *host) NameJobs(runID string) {
	if runIDOK.MatchString(runID) {
		h.jobRun = runID
	}
}

// ParseJobAnswer splits a job script answer into its state, the state's
// detail (the exit status, the busy job's name, the launcher) and the rest
// of stdout (a finished job's output).
func ParseJobAnswer(stdout []byte) (state, detail string, rest []byte) {
	s := string(stdout)
	i := strings.Index(s, JobMarker+" ")
	if i < 0 {
		return "", "", nil
	}
	s = s[i+len(JobMarker)+1:]
	head, tail, _ := strings.Cut(s, "\n")
	state, detail, _ = strings.Cut(strings.TrimSpace(head), " ")
	return state, detail, []byte(tail)
}

// jobRunner is a transport that runs each command line as a detached job
// and follows it to its end: a Result is the job's real exit status and
// output. The first Run re-attaches to attach instead when it is set.
// Concurrency: like the transport it wraps, it belongs to one worker.
type jobRunner struct {
	h      *host
	t      transport.Transport
	kind   string
	attach string
}

// jobs wraps t so package-manager lines run detached.
func (h *host) jobs(t transport.Transport, kind string) *jobRunner {
	return &jobRunner{h: h, t: t, kind: kind}
}

func (j *jobRunner) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	job := j.attach
	j.attach = ""
	if job == "" {
		var err error
		if job, err = j.h.startJob(ctx, j.t, j.kind, cmd.Line); err != nil {
			return transport.Result{}, err
		}
	}
	return j.h.followJob(ctx, j.t, job)
}

func (j *jobRunner) Upload(ctx context.Context, dst string, src io.Reader, size int64) error {
	return j.t.Upload(ctx, dst, src, size)
}

// Close leaves the wrapped transport open: it is not the runner's to close.
func (j *jobRunner) Close() error { return nil }

// jobLine is a job-script command line, privileged when the backend uses sudo.
func (h *host) jobLine(verb, job, arg string) transport.Command {
	return transport.Command{Line: h.priv(CmdJob(verb, h.opts.JobDir, job, arg)), Stdin: strings.NewReader(jobScript)}
}

// startJob starts line as the next job of kind. An install first checks
// that the package manager is not left broken by an earlier interrupted
// run. The job runs with the privileges line asked for: a sudo prefix moves
// from the line to the job script.
func (h *host) startJob(ctx context.Context, t transport.Transport, kind, line string) (string, error) {
	if kind == jobInstall {
		if err := h.preflight(ctx, t); err != nil {
			return "", err
		}
	}
	h.jobN++
	job := JobName(kind, h.jobRun, h.jobN)
	res, err := t.Run(ctx, h.jobLine("start", job, strings.TrimPrefix(line, SudoPrefix)))
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, transport.ErrConnLost) {
			// It may have started: re-attaching finds out.
			return "", &patch.JobLostError{Job: job, Err: fmt.Errorf("start: %w", err)}
		}
		return "", fmt.Errorf("start job %s: %w", job, err)
	}
	switch state, detail, _ := ParseJobAnswer(res.Stdout); state {
	case JobStarted:
		return job, nil
	case JobBusy:
		return "", &patch.CommandError{Command: "start job " + job, ExitCode: -1,
			Reason: "patchrun job " + detail + " is still running a package-manager transaction on this host; not starting a second one (wait for it, or find it under " + h.opts.JobDir + ")"}
	}
	return "", commandFailed("start job "+job, res)
}

// followJob waits for job to end and returns its exit status and output.
// A dropped link returns *patch.JobLostError; an aborted wait leaves the
// job running on the host and says so.
func (h *host) followJob(ctx context.Context, t transport.Transport, job string) (transport.Result, error) {
	for {
		res, err := t.Run(ctx, h.jobLine("wait", job, strconv.Itoa(h.opts.JobWait)))
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, transport.ErrConnLost) {
				return transport.Result{}, &patch.JobLostError{Job: job, Err: err}
			}
			return transport.Result{}, fmt.Errorf("job %s (it keeps running on the host): %w", job, err)
		}
		state, detail, out := ParseJobAnswer(res.Stdout)
		switch state {
		case JobRunning:
			continue
		case JobDone:
			rc, perr := strconv.Atoi(detail)
			if perr != nil {
				break
			}
			h.cleanJob(ctx, t, job)
			return transport.Result{ExitCode: rc, Stdout: out, Stderr: res.Stderr, Truncated: res.Truncated}, nil
		case JobLost:
			h.cleanJob(ctx, t, job)
			e := patch.NewCommandError("job "+job, -1, out, res.Stderr)
			e.Reason = "the job ended without an exit status (killed, or the host restarted)"
			return transport.Result{}, e
		case JobNone:
			return transport.Result{}, &patch.CommandError{Command: "job " + job, ExitCode: -1,
				Reason: "no such job on the host (it never started, or the host restarted)", Cause: patch.ErrNoSuchJob}
		}
		return transport.Result{}, commandFailed("job "+job, res)
	}
}

// cleanJob removes a finished job's files, best effort and bounded even
// when ctx has ended.
func (h *host) cleanJob(ctx context.Context, t transport.Transport, job string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobCleanupTimeout)
	defer cancel()
	_, _ = t.Run(ctx, h.jobLine("clean", job, ""))
}

// Job kinds.
const (
	jobInstall = "install"
	jobRefresh = "refresh"
)

// preflight refuses to start an install on a host whose package manager an
// earlier run left broken, naming the command that repairs it. It never
// repairs anything itself.
func (h *host) preflight(ctx context.Context, t transport.Transport) error {
	if h.manager == "apt" {
		res, err := run(ctx, t, "dpkg --audit", CmdDpkgAudit)
		if err != nil {
			return err
		}
		if n := len(nonEmptyLines(string(res.Stdout))); n > 0 {
			e := patch.NewCommandError("dpkg --audit", res.ExitCode, res.Stdout, res.Stderr)
			e.ExitCode = -1
			e.Reason = "dpkg was interrupted: dpkg --audit reports unfinished packages; nothing was started; repair with: " + RepairDpkg
			return e
		}
		return nil
	}
	for _, f := range staleLockFiles[h.manager] {
		res, err := run(ctx, t, "lock check", CmdStaleLock(f))
		if err != nil {
			return err
		}
		if pid := firstLine(string(res.Stdout)); pid != "" {
			return &patch.CommandError{Command: "lock check", ExitCode: -1,
				Reason: fmt.Sprintf("stale lock %s (pid %s is not running): nothing was started; check that no package manager runs, then repair with: rm %s", f, pid, f)}
		}
	}
	return nil
}

// staleLockFiles are the pid-lock files a package manager leaves behind
// when it is killed.
var staleLockFiles = map[string][]string{
	"yum":    {"/var/run/yum.pid"},
	"zypper": {"/run/zypp.pid"},
}

// ReattachInstall implements patch.Reattacher: it follows job, which an
// earlier Install of this backend started, to its end over t and verifies
// the result as Install does.
func (h *host) ReattachInstall(ctx context.Context, t transport.Transport, job string, updates []patch.Update, full bool) (patch.InstallResult, error) {
	if h.plan == nil {
		return patch.InstallResult{Updates: updates}, fmt.Errorf("re-attach to job %s: this backend has no install plan", job)
	}
	return h.install(ctx, t, updates, full, h.plan(), job)
}

// ReattachRefresh implements patch.Reattacher: it follows a refresh job to
// its end over t. Exit 0 is success; zypper's "some repository was
// skipped" too, as in Refresh.
func (h *host) ReattachRefresh(ctx context.Context, t transport.Transport, job string) error {
	res, err := h.followJob(ctx, t, job)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 && (h.manager != "zypper" || res.ExitCode != zypperReposSkipped) {
		return commandFailed("refresh job "+job, res)
	}
	return nil
}
