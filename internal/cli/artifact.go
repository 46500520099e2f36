package cli

import (
	"github.com/spf13/cobra"
)

func newArtifactCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "artifact",
		Short:   "Copy, push and pull single OCI artifacts",
		GroupID: "main",
	}
	cmd.AddCommand(newArtifactCopyCmd(g), newArtifactPushCmd(g), newArtifactPullCmd(g))
	return cmd
}
