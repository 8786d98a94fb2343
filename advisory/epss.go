package advisory

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/patchrun/patchrun/internal/fsread"
)

// maxEPSSSize caps the EPSS file (about 10 MiB uncompressed in 2025).
const maxEPSSSize = 256 << 20

// loadEPSS reads FIRST's EPSS scores CSV (plain or .gz): a comment line
// ("#model_version:…,score_date:…"), the header "cve,epss,percentile",
// then one CVE a line. CVE id → score (0–1).
func loadEPSS(path string) (map[string]float64, error) {
	b, err := fsread.ReadFile(path, maxEPSSSize)
	if err != nil {
		return nil, err
	}
	var r io.Reader = bytes.NewReader(b)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = io.LimitReader(zr, maxEPSSSize)
	}
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: not an EPSS CSV: %w", path, err)
	}
	cveCol, scoreCol := -1, -1
	for i, h := range header {
		switch strings.TrimSpace(h) {
		case "cve":
			cveCol = i
		case "epss":
			scoreCol = i
		}
	}
	if cveCol < 0 || scoreCol < 0 {
		return nil, fmt.Errorf("%s: not an EPSS CSV: the header %q has no cve and epss columns", path, strings.Join(header, ","))
	}
	out := map[string]float64{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= max(cveCol, scoreCol) {
			return nil, fmt.Errorf("%s:%d: too few fields", path, line)
		}
		score, err := strconv.ParseFloat(strings.TrimSpace(rec[scoreCol]), 64)
		if err != nil || score < 0 || score > 1 {
			return nil, fmt.Errorf("%s:%d: bad epss score %q (want 0 to 1)", path, line, rec[scoreCol])
		}
		out[strings.TrimSpace(rec[cveCol])] = score
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no EPSS scores in this file", path)
	}
	return out, nil
}
