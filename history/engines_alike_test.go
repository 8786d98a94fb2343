package history_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/patchrun/patchrun/estate/estatetest"
	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/internal/pgtest"
)

// The report fixture's four runs, imported into SQLite and into
// PostgreSQL, read back the same through every query of the Store: the
// estate, the runs, each run's hosts with their updates and timelines,
// the updates pending at a time, the hosts' statuses.
func TestBothEnginesReadTheReportFixtureAlike(t *testing.T) {
	db := pgtest.Fresh(t)
	dir := t.TempDir()
	if err := estatetest.Write(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	open := func(db string) history.Store {
		st, err := history.OpenDB(ctx, dir, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := history.Sync(ctx, st, dir, ""); err != nil {
			t.Fatal(err)
		}
		return st
	}
	lite, pg := open(""), open(db)
	same := func(what string, read func(history.Store) (any, error)) {
		t.Helper()
		a, err := read(lite)
		if err != nil {
			t.Fatalf("%s (sqlite): %v", what, err)
		}
		b, err := read(pg)
		if err != nil {
			t.Fatalf("%s (postgres): %v", what, err)
		}
		if reflect.ValueOf(a).Len() == 0 {
			t.Fatalf("%s: empty on both engines; the fixture should fill it", what)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs:\nsqlite:   %+v\npostgres: %+v", what, a, b)
		}
	}
	same("hosts", func(s history.Store) (any, error) { return s.Hosts(ctx) })
	same("runs", func(s history.Store) (any, error) { return s.Runs(ctx) })
	for _, id := range []string{estatetest.RunScan1, estatetest.RunPatch, estatetest.RunScan2, estatetest.RunLast} {
		same("run hosts of "+id, func(s history.Store) (any, error) { return s.RunHosts(ctx, id) })
	}
	for _, day := range []int{0, 20, 45} {
		at := estatetest.T0.Add(time.Duration(day)*24*time.Hour + time.Hour)
		same("pending at "+at.String(), func(s history.Store) (any, error) { return s.PendingAt(ctx, at) })
	}
	same("host statuses", func(s history.Store) (any, error) {
		return s.HostStatuses(ctx, estatetest.T0.Add(365*24*time.Hour))
	})
}
