package advisory

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tables in testdata/versions were made by generate.py from the
// reference tools' own answers (dpkg --compare-versions, rpm.vercmp), and
// for apk, which Debian does not package, from an independent
// implementation of its documented format.
func TestVersionOrderingMatchesReferenceTables(t *testing.T) {
	for _, tc := range []struct {
		file string
		cmp  func(a, b string) int
	}{
		{"dpkg.txt", compareDpkg},
		{"rpm.txt", compareRPM},
		{"apk.txt", compareAPK},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "versions", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n := 0
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
					continue
				}
				if len(fields) != 3 {
					t.Fatalf("bad line %q", sc.Text())
				}
				want := map[string]int{"<": -1, "=": 0, ">": 1}[fields[1]]
				a, b := fields[0], fields[2]
				n++
				if got := tc.cmp(a, b); got != want {
					t.Errorf("%s: %s vs %s = %d, reference says %s", tc.file, a, b, got, fields[1])
				}
				if got := tc.cmp(b, a); got != -want {
					t.Errorf("%s: %s vs %s = %d, not the reverse of the reference", tc.file, b, a, got)
				}
			}
			if n < 200 {
				t.Fatalf("%s has %d pairs, want at least 200", tc.file, n)
			}
		})
	}
}
