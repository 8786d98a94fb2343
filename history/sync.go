package history

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/journal"
)

// SyncResult says what Sync did.
type SyncResult struct {
	Rebuilt  bool    // the database was rebuilt from every journal
	Imported int     // runs imported
	Skipped  []error // journals that could not be read, each naming its file
}

// Sync brings st up to date with the run journals in stateDir: every run
// not yet imported (or resumed since) is imported; a database that needs
// it is rebuilt from all of them. Runs still running are left for their
// own process to import when they end, except self (the caller's own
// run, which has written its end record but still holds its lock).
// Importing is idempotent: a run already imported is not imported again.
func Sync(ctx context.Context, st Store, stateDir, self string) (SyncResult, error) {
	var res SyncResult
	ids, err := journal.IDs(stateDir)
	if err != nil {
		return res, err
	}
	done := map[string]int{}
	if !st.NeedsRebuild() {
		if done, err = st.Imported(ctx); err != nil {
			return res, err
		}
	}
	var todo []RunSource
	for _, id := range ids {
		if _, ok := done[id]; ok && id != self {
			continue // resumed runs are re-imported by the process that resumed them
		}
		r, err := journal.Open(stateDir, id)
		if err != nil {
			res.Skipped = append(res.Skipped, err)
			continue
		}
		if r.State == journal.StateRunning && id != self {
			continue
		}
		src, err := FromJournal(r)
		if err != nil {
			res.Skipped = append(res.Skipped, err)
			continue
		}
		if id == self && src.Info.State == journal.StateRunning {
			src.Info.State = journal.StateInterrupted
			if r.End != nil {
				src.Info.State = r.End.State
			}
		}
		todo = append(todo, src)
	}
	if st.NeedsRebuild() {
		if err := st.Rebuild(ctx, todo); err != nil {
			return res, fmt.Errorf("rebuild: %w", err)
		}
		res.Rebuilt, res.Imported = true, len(todo)
		return res, nil
	}
	for _, src := range todo {
		ok, err := st.Import(ctx, src.Info, src.Results)
		if err != nil {
			return res, fmt.Errorf("run %s: %w", src.Info.ID, err)
		}
		if ok {
			res.Imported++
		}
	}
	return res, nil
}
