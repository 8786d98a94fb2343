//go:build !unix

package cmd

// ignoreSIGPIPE: only Unix has SIGPIPE.
func ignoreSIGPIPE() {}
