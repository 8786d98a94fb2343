package runner

import "github.com/patchrun/patchrun/patch"

// Bounds of one output excerpt (an Event's Output, a StepOutput's Output):
// the same as a backend's CommandError output.
const (
	maxTailLines = patch.TailLines
	maxTailBytes = patch.TailBytes
)

// outputTail is patch.Tail of a command's output; cut also reports the
// transport's own cap.
func outputTail(stdout, stderr []byte, transportCut bool) (tail string, cut bool) {
	tail, cut = patch.Tail(stdout, stderr)
	return tail, cut || transportCut
}

// excerpt bounds text that is already an excerpt (a backend's
// InstallResult.Output) to the same limits.
func excerpt(text string) (string, bool) { return patch.TailText(text) }
