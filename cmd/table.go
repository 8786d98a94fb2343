package cmd

import (
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// column is one column of a text table.
type column struct {
	name string
	// short is the header used when the table does not fit ("" keeps
	// name).
	short string
	// min is the narrowest the column may be cut to (with "…") to fit the
	// width; 0 means it is never cut.
	min int
	// always keeps the column when every cell is empty or "-".
	always bool
	// optional columns are left out when the table cannot fit otherwise
	// (what they hold is shown elsewhere).
	optional bool
}

// table lays out rows of escaped cells in columns two spaces apart.
type table struct {
	cols []column
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the table. With compact, columns with nothing to say (every
// cell empty or "-") are left out. With width > 0 a table too wide for it
// has its widest cuttable column cut, one character at a time, down to its
// min; where that cannot be enough it first leaves out optional columns,
// then takes short headers. It returns each shown column's
// final width by name.
func (t *table) write(w io.Writer, width int, compact bool) (map[string]int, error) {
	var shown []int
	for i, c := range t.cols {
		if !compact || c.always || !t.empty(i) {
			shown = append(shown, i)
		}
	}
	short := false
	widths := t.widths(shown, short)
	if width > 0 && sum(widths) > width {
		if t.narrowest(shown, widths, short) > width {
			shown = slices.DeleteFunc(shown, func(i int) bool { return t.cols[i].optional })
			widths = t.widths(shown, short)
		}
		if t.narrowest(shown, widths, short) > width {
			short = true
			widths = t.widths(shown, short)
		}
		t.cut(shown, widths, width, short)
	}
	var b strings.Builder
	line := func(cells []string) {
		var l strings.Builder
		for j, i := range shown {
			cell := cut(cells[i], widths[j])
			l.WriteString(cell)
			if j < len(shown)-1 {
				l.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell)+2))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	names := make([]string, len(t.cols))
	for i := range t.cols {
		names[i] = t.header(i, short)
	}
	line(names)
	for _, r := range t.rows {
		line(r)
	}
	final := map[string]int{}
	for j, i := range shown {
		final[t.cols[i].name] = widths[j]
	}
	_, err := io.WriteString(w, b.String())
	return final, err
}

func (t *table) header(i int, short bool) string {
	if c := t.cols[i]; short && c.short != "" {
		return c.short
	}
	return t.cols[i].name
}

// widths are the natural widths of the shown columns.
func (t *table) widths(shown []int, short bool) []int {
	widths := make([]int, len(shown))
	for j, i := range shown {
		widths[j] = utf8.RuneCountInString(t.header(i, short))
		for _, r := range t.rows {
			widths[j] = max(widths[j], utf8.RuneCountInString(r[i]))
		}
	}
	return widths
}

// sum is a row's width: the columns and the gaps between them.
func sum(widths []int) int {
	total := 2 * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	return total
}

// floor is the narrowest column j may be cut to.
func (t *table) floor(shown, widths []int, j int, short bool) int {
	c := t.cols[shown[j]]
	if c.min == 0 {
		return widths[j]
	}
	return min(widths[j], max(c.min, utf8.RuneCountInString(t.header(shown[j], short))))
}

// narrowest is the width of the table with every cuttable column cut to
// its floor.
func (t *table) narrowest(shown, widths []int, short bool) int {
	floors := make([]int, len(widths))
	for j := range widths {
		floors[j] = t.floor(shown, widths, j, short)
	}
	return sum(floors)
}

// cut narrows the widest cuttable column, one character at a time, until
// the row fits or every cuttable column is at its floor.
func (t *table) cut(shown, widths []int, width int, short bool) {
	floors := make([]int, len(widths))
	for j := range widths {
		floors[j] = t.floor(shown, widths, j, short)
	}
	for total := sum(widths); total > width; total-- {
		widest := -1
		for j := range widths {
			if widths[j] > floors[j] && (widest < 0 || widths[j] > widths[widest]) {
				widest = j
			}
		}
		if widest < 0 {
			return // as narrow as it goes: the terminal wraps the rest
		}
		widths[widest]--
	}
}

func (t *table) empty(col int) bool {
	for _, r := range t.rows {
		if r[col] != "" && r[col] != "-" {
			return false
		}
	}
	return true
}

// cut shortens s to n characters, the last one "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}
