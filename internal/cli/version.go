package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/internal/buildinfo"
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
			return g.print(v, func(w *tableWriter) {
				w.row("version", v.Version)
				if v.Commit != "" {
					w.row("commit", v.Commit)
				}
				w.row("go", v.GoVersion)
				w.row("platform", v.Platform)
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
