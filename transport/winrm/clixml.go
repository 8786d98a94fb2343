package winrm

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf16"
)

const clixmlHeader = "#< CLIXML"

// streamPrefixes says how each CLIXML stream is shown. Error text is shown
// as is; the others carry PowerShell's own console prefix; progress records
// and anything else are dropped.
var streamPrefixes = map[string]string{
	"error":       "",
	"warning":     "WARNING: ",
	"verbose":     "VERBOSE: ",
	"debug":       "DEBUG: ",
	"information": "",
}

// DecodeCLIXML turns the CLIXML that PowerShell writes to stderr when it
// has no console ("#< CLIXML" followed by <Objs> documents) into readable
// text: the <S S="Error"> (and warning, verbose, debug) strings, with the
// _xHHHH_ escapes (UTF-16 code units, surrogate pairs included) decoded.
// Anything that is not CLIXML is returned unchanged; text before the
// header is kept. A truncated document yields what decoded cleanly.
func DecodeCLIXML(stderr []byte) string {
	header := []byte(clixmlHeader)
	idx := bytes.Index(stderr, header)
	if idx < 0 || (idx > 0 && stderr[idx-1] != '\n') || !bytes.Contains(stderr[idx:], []byte("<Objs")) {
		return string(stderr)
	}
	var out strings.Builder
	// PowerShell may start a new CLIXML block for each pipeline it runs.
	for _, doc := range bytes.Split(stderr[idx+len(header):], header) {
		decodeCLIXMLDoc(&out, doc)
	}
	s := strings.ReplaceAll(out.String(), "\r\n", "\n")
	return string(stderr[:idx]) + strings.TrimRight(s, "\n")
}

// decodeCLIXMLDoc appends the readable streams of one <Objs> document.
func decodeCLIXMLDoc(out *strings.Builder, doc []byte) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = false
	var (
		inStream bool
		prefix   string
		text     strings.Builder
	)
	for {
		tok, err := dec.Token()
		if err != nil {
			return // io.EOF, or a truncated tail: keep what decoded
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "S" {
				continue
			}
			inStream = false
			for _, a := range t.Attr {
				if a.Name.Local == "S" {
					prefix, inStream = streamPrefixes[strings.ToLower(a.Value)]
				}
			}
			text.Reset()
		case xml.CharData:
			if inStream {
				text.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "S" && inStream {
				out.WriteString(prefix + unescapeCLIXML(text.String()))
				inStream = false
			}
		}
	}
}

// unescapeCLIXML decodes _xHHHH_ escapes. Each is one UTF-16 code unit, so
// consecutive escapes are gathered and decoded together (a surrogate pair
// is two escapes). _x005F_ is how a literal underscore before "x" is kept.
func unescapeCLIXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	var units []uint16
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); {
		if u, ok := escapeAt(s, i); ok {
			units = append(units, u)
			i += 7
			continue
		}
		flush()
		b.WriteByte(s[i])
		i++
	}
	flush()
	return b.String()
}

// escapeAt reports whether s[i:] starts with _xHHHH_ and returns the unit.
func escapeAt(s string, i int) (uint16, bool) {
	if i+7 > len(s) || s[i] != '_' || s[i+1] != 'x' || s[i+6] != '_' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
	if err != nil {
		return 0, false
	}
	return uint16(v), true
}
