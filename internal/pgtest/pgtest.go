// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database PATCHRUN_TEST_POSTGRES names (.ci/run starts a
// server on loopback and sets it), dropped when the test ends. Without
// the variable a test skips, except under CI=true, where it fails: the
// PostgreSQL code must be tested there.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Env names the database tests may create schemas in.
const Env = "PATCHRUN_TEST_POSTGRES"

// Base is the database Env names; a test without one skips (outside CI)
// or fails (under CI=true).
func Base(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: .ci/run starts a PostgreSQL server on loopback and sets it; the PostgreSQL history store must be tested", Env)
		}
		t.Skipf("PostgreSQL not tested: set %s=postgres://user@127.0.0.1/db (a database the test may create schemas in) to run it", Env)
	}
	return base
}

// Fresh is a URL of a new, empty schema (search_path) in the database,
// dropped when t ends.
func Fresh(t testing.TB) string {
	t.Helper()
	base := Base(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "patchrun_test_" + hex.EncodeToString(b[:])
	Exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { Exec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", Env)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Empty drops and recreates the schema of a Fresh URL.
func Empty(t testing.TB, db string) {
	t.Helper()
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal("not a URL")
	}
	s := u.Query().Get("search_path")
	Exec(t, Base(t), "DROP SCHEMA "+s+" CASCADE", "CREATE SCHEMA "+s)
}

// Exec runs stmts on db; a failure ends the test (its message never
// holds the URL: it may carry a password).
func Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatalf("%s: cannot open it", Env)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %s: %v", Env, s, err)
		}
	}
}
