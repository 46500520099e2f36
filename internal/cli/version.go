package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/internal/buildinfo"
	"github.com/ferry-oci/ferry/internal/human"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print ferry's version and commit",
		Example: `  ferry version
  ferry version -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildinfo.Get()
			return g.show(v, func(w io.Writer) error {
				t := human.NewTable(w)
				t.Row("version", v.Version)
				if v.Commit != "" {
					t.Row("commit", v.Commit)
				}
				t.Row("go", v.GoVersion)
				t.Row("platform", v.Platform)
				return t.Flush()
			})
		},
	}
}

// noArgs is cobra.NoArgs with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr(fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args))
	}
	return nil
}

// exactArgs is cobra.ExactArgs with a usage error that names the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErr(fmt.Errorf("%s needs %d argument(s) (%v), got %d", cmd.CommandPath(), len(names), names, len(args)))
		}
		return nil
	}
}

// Root returns ferry's command tree with more (see Execute), writing
// nowhere: for the command reference (internal/refdoc) and tools that walk
// the commands.
func Root(more ...Command) *cobra.Command {
	return newRoot(&globals{stdout: io.Discard, stderr: io.Discard}, more...)
}
