package history

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/patchrun/patchrun/internal/pgtest"
)

// engine is one implementation of Store under the conformance suite.
type engine struct {
	// fresh is a new, empty database for one test, as --db names it
	// ("" is the SQLite file in the state directory).
	fresh func(t *testing.T) string
	// drop removes the database's content, as deleting patchrun.db does.
	drop func(t *testing.T, dir, db string)
	// openAt opens it migrated up to the last of migs.
	openAt func(ctx context.Context, dir, db string, migs []migration) (Store, error)
	shared bool
}

var sqliteEngine = engine{
	fresh: func(*testing.T) string { return "" },
	drop: func(t *testing.T, dir, _ string) {
		if err := os.Remove(filepath.Join(dir, FileName)); err != nil {
			t.Fatal(err)
		}
	},
	openAt: func(ctx context.Context, dir, _ string, migs []migration) (Store, error) {
		return openSQLite(ctx, filepath.Join(dir, FileName), migs)
	},
}

// postgresEngine gives each test its own schema in the database
// PATCHRUN_TEST_POSTGRES names (it skips without one, outside CI).
func postgresEngine(t *testing.T) engine {
	pgtest.Base(t)
	return engine{
		shared: true,
		fresh:  func(t *testing.T) string { return pgtest.Fresh(t) },
		drop:   func(t *testing.T, _, db string) { pgtest.Empty(t, db) },
		openAt: func(ctx context.Context, _, db string, migs []migration) (Store, error) {
			return openPostgres(ctx, db, migs)
		},
	}
}

// forEachEngine runs test against every Store implementation: the same
// assertions, so the engines cannot drift apart.
func forEachEngine(t *testing.T, test func(t *testing.T, e engine)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteEngine) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresEngine(t)) })
}

// sqlDB is the database/sql handle under a store.
func sqlDB(t *testing.T, st Store) *sql.DB {
	t.Helper()
	switch s := st.(type) {
	case *sqlStore:
		return s.db
	case *redactingStore:
		return s.db
	}
	t.Fatalf("store %T has no database/sql handle", st)
	return nil
}
