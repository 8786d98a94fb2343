// Command patchrun is an agentless remote patch runner: it reads a host
// inventory, connects over SSH or WinRM, installs missing updates and reboots
// hosts in controlled batches.
package main

import (
	"os"

	"github.com/patchrun/patchrun/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
