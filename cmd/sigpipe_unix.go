//go:build unix

package cmd

import (
	"os/signal"
	"syscall"
)

// ignoreSIGPIPE makes a write to a closed pipe on stdout return EPIPE.
func ignoreSIGPIPE() { signal.Ignore(syscall.SIGPIPE) }
