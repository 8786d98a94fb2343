// Package cmd is patchrun's command line: the cobra tree, flag → plan
// mapping, output rendering and the error → exit-code table.
package cmd

// Main runs patchrun and returns the process exit code.
func Main() int { return 0 }
