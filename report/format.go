package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format of the result on stdout.
type Format string

const (
	FormatText Format = "text"
	FormatWide Format = "wide"
	FormatJSON Format = "json"
)

// registered is one entry of the registry.
type registered struct {
	format Format
	desc   string
}

// registry lists every format, in the order help and shell completion show
// them. A new format (html, junit, csv, md) is added here and given a
// writer where results are rendered.
func registry() []registered {
	return []registered{
		{FormatText, "a table for people fitted to the terminal, with details under it"},
		{FormatWide, "the text table with every column in full"},
		{FormatJSON, "one JSON document (schema_version " + fmt.Sprint(SchemaVersion) + ")"},
	}
}

// Formats lists every output format.
func Formats() []Format {
	reg := registry()
	out := make([]Format, len(reg))
	for i, f := range reg {
		out[i] = f.format
	}
	return out
}

// Describe is a one-line description of f ("" for an unknown format).
func (f Format) Describe() string {
	for _, k := range registry() {
		if k.format == f {
			return k.desc
		}
	}
	return ""
}

// FormatNames is the list for help text and errors: "text or json".
func FormatNames() string {
	var names []string
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ParseFormat checks a format name given on the command line.
func ParseFormat(s string) (Format, error) {
	for _, f := range registry() {
		if string(f.format) == s {
			return f.format, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q: want %s", s, FormatNames())
}

// WriteJSON writes r as the indented JSON document.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
