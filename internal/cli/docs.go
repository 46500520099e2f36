package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// Root returns ferry's command tree, writing nowhere: for the command
// reference (internal/refdoc) and tools that walk the commands.
func Root() *cobra.Command {
	return newRoot(&globals{stdout: io.Discard, stderr: io.Discard})
}
