package cmd

import (
	"io"

	"github.com/spf13/cobra"
)

// CommandTree returns patchrun's command tree as a user sees it (with the
// completion command cobra adds at run time), without running anything. The
// CLI reference generator (tools/gendocs) reads it, so the reference cannot
// drift from the flags.
func CommandTree() *cobra.Command {
	a := &app{streams: Streams{Out: io.Discard, Err: io.Discard}}
	root := a.newRootCmd()
	root.InitDefaultCompletionCmd()
	return root
}
