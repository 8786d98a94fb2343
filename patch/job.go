package patch

import (
	"context"
	"errors"
	"fmt"

	"github.com/patchrun/patchrun/transport"
)

// JobLostError says the connection dropped while an install (or a
// metadata refresh) ran as a detached job on the host: the job keeps running there, and its outcome can
// still be learned by re-attaching to it (Reattacher) over a new connection.
// It wraps the transport error, so errors.Is(err, transport.ErrConnLost)
// still holds and a caller that cannot re-attach treats the outcome as
// unknown.
type JobLostError struct {
	Job string // the job's name on the host, e.g. "patchrun-install-r1-2"
	Err error  // the transport error that cut the link
}

func (e *JobLostError) Error() string {
	return fmt.Sprintf("job %s still running on the host: %v", e.Job, e.Err)
}

func (e *JobLostError) Unwrap() error { return e.Err }

// ErrNoSuchJob is wrapped by ReattachInstall's error when the job is not on
// the host at all (it never started, its files were cleaned after its
// result was read, or the host restarted): there is nothing to follow, and
// no transaction of ours is running.
var ErrNoSuchJob = errors.New("no such job on the host")

// Reattacher is implemented by a backend whose installs run as detached
// jobs on the host (the Linux backends). After Install returned a
// *JobLostError, the caller dials the host again and calls ReattachInstall
// with the same updates and mode: it follows the same job to its end
// (never starting a second transaction) and returns what Install would
// have. It may return another *JobLostError if the link drops again.
type Reattacher interface {
	ReattachInstall(ctx context.Context, t transport.Transport, job string, updates []Update, full bool) (InstallResult, error)
	// ReattachRefresh follows a metadata refresh job to its end the same
	// way, after Refresh returned a *JobLostError.
	ReattachRefresh(ctx context.Context, t transport.Transport, job string) error
}

// JobNamer is implemented by a backend that names its host-side jobs after
// the run ("patchrun-install-<run>-<n>"). NameJobs is called once, before
// the first job; an empty or unusable run id keeps the backend's own random
// one.
type JobNamer interface {
	NameJobs(runID string)
}
