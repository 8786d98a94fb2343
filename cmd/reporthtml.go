package cmd

import "github.com/patchrun/patchrun/estate"

// htmlRenderer is the HTML report's renderer, the one format that lives
// in a package of its own; nil until that package is wired in here, and
// -o html and --report FILE.html then say the format is not built in.
func htmlRenderer() estate.Renderer { return nil }
