package cmd

import (
	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/htmlreport"
)

// htmlRenderer is the HTML report's renderer, the one format that lives
// in a package of its own (htmlreport). A nil renderer makes -o html and
// --report FILE.html say the format is not built in.
func htmlRenderer() estate.Renderer { return htmlreport.Write }
