package estate

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/patchrun/patchrun/internal/atomicfile"
)

// Format is a report's format.
type Format string

const (
	FormatHTML     Format = "html"
	FormatJUnit    Format = "junit"
	FormatCSV      Format = "csv"
	FormatMarkdown Format = "md"
	FormatJSON     Format = "json"
)

// Formats lists the formats, as -o takes them.
func Formats() []Format {
	return []Format{FormatHTML, FormatJUnit, FormatCSV, FormatMarkdown, FormatJSON}
}

// ParseFormat checks an -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%q: want html, junit, csv, md or json", s)
}

// FormatOfPath is the format a --report file's extension names: .html
// (or .htm), .xml (JUnit), .csv, .md, .json.
func FormatOfPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return FormatHTML, nil
	case ".xml":
		return FormatJUnit, nil
	case ".csv":
		return FormatCSV, nil
	case ".md":
		return FormatMarkdown, nil
	case ".json":
		return FormatJSON, nil
	}
	return "", fmt.Errorf("%s: the extension names the format: .html, .xml (JUnit), .csv, .md or .json", path)
}

// Renderer writes a report in one format.
type Renderer func(w io.Writer, r *Report) error

// ErrNoHTML: this build has no HTML renderer.
var ErrNoHTML = errors.New("the HTML report is not built into this patchrun")

// Options are what some formats need besides the report.
type Options struct {
	CSVRows string // CSVHosts (default) or CSVUpdates
	// HTML renders the HTML format; nil: ErrNoHTML.
	HTML Renderer
}

// Write writes r in format f.
func Write(w io.Writer, f Format, r *Report, o Options) error {
	switch f {
	case FormatHTML:
		if o.HTML == nil {
			return ErrNoHTML
		}
		return o.HTML(w, r)
	case FormatJUnit:
		return WriteJUnit(w, r)
	case FormatCSV:
		rows := o.CSVRows
		if rows == "" {
			rows = CSVHosts
		}
		return WriteCSV(w, r, rows)
	case FormatMarkdown:
		return WriteMarkdown(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	}
	return fmt.Errorf("unknown report format %q", f)
}

// WriteFile writes r in format f to path atomically (a temporary file
// renamed over it), readable by its owner only.
func WriteFile(path string, f Format, r *Report, o Options) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, f, r, o) })
}
