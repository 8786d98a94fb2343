package history

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// EnvTestPostgres names a PostgreSQL database the conformance suite may
// create schemas in (.ci/run starts a server and sets it).
const EnvTestPostgres = "PATCHRUN_TEST_POSTGRES"

// engine is one implementation of Store under the conformance suite.
type engine struct {
	name string
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
	name:  "sqlite",
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
// PATCHRUN_TEST_POSTGRES names (search_path in the URL), dropped after.
func postgresEngine(t *testing.T) engine {
	base := os.Getenv(EnvTestPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: .ci/run starts a PostgreSQL server on loopback and sets it; the PostgreSQL store must be tested", EnvTestPostgres)
		}
		t.Skipf("PostgreSQL store not tested: set %s=postgres://user@127.0.0.1/db (a database the test may create schemas in) to run it", EnvTestPostgres)
	}
	admin := func(t *testing.T, stmts ...string) {
		t.Helper()
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(StripPassword(base), err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %s: %v", StripPassword(base), s, redact(err, secrets(base, nil)))
			}
		}
	}
	schemaOf := func(db string) string {
		u, _ := url.Parse(db)
		return u.Query().Get("search_path")
	}
	return engine{
		name:   "postgres",
		shared: true,
		fresh: func(t *testing.T) string {
			var b [6]byte
			rand.Read(b[:])
			schema := "patchrun_test_" + hex.EncodeToString(b[:])
			admin(t, "CREATE SCHEMA "+schema)
			t.Cleanup(func() { admin(t, "DROP SCHEMA "+schema+" CASCADE") })
			u, err := url.Parse(base)
			if err != nil {
				t.Fatalf("%s: %v", EnvTestPostgres, err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		},
		drop: func(t *testing.T, _, db string) {
			s := schemaOf(db)
			admin(t, "DROP SCHEMA "+s+" CASCADE", "CREATE SCHEMA "+s)
		},
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
