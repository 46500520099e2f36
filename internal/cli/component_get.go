package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/release"
)

func newComponentGetCmd(g *globals) *cobra.Command {
	var scheme string
	cmd := &cobra.Command{
		Use:   "get REPO[//NAME[:VERSION]]",
		Short: "List component versions, or print their descriptors (-o yaml|json)",
		Long: `get lists component versions: every version of every component in REPO, every
version of NAME, or one version. With -o yaml or -o json it prints the
descriptors themselves, as OCM encodes them (--scheme converts between
schema v2 and ocm.software/v3alpha1).`,
		Example: `  ferry component get ./ctf
  ferry component get http://127.0.0.1:5000/ocm//example.com/podinfo
  ferry component get ./ctf//example.com/podinfo:6.3.5 -o yaml --scheme v3alpha1`,
		Args: exactArgs("REPO[//NAME[:VERSION]]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sch, err := component.ParseScheme(scheme)
			if err != nil {
				return usageErr(fmt.Errorf("--scheme %w", err))
			}
			ro, err := g.repoOptions()
			if err != nil {
				return err
			}
			l, err := release.ListVersions(cmd.Context(), args[0], sch, ro)
			if err != nil {
				return err
			}
			return l.Write(g.stdout, g.output)
		},
	}
	cmd.Flags().StringVar(&scheme, "scheme", "", "descriptor schema to print: v2 or v3alpha1 (default: as stored)")
	g.addSemverFlag(cmd)
	return cmd
}

func newComponentResourcesCmd(g *globals) *cobra.Command {
	var withCharts bool
	cmd := &cobra.Command{
		Use:     "resources REPO//NAME[:VERSION]",
		Aliases: []string{"resource", "res"},
		Short:   "List the resources of component versions",
		Long: `resources lists the resources of a component version (of every version
without one): name, version, extra identity, type, relation, access type and
specification, and digest, the columns 'ocm get resources -o wide' prints, with
the digest added.`,
		Example: `  ferry component resources ./ctf//example.com/podinfo:6.3.5
  ferry component resources registry.local:5000/air//example.com/podinfo:6.3.5 -o json`,
		Args: exactArgs("REPO//NAME[:VERSION]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseComponentRef(args[0], false); err != nil {
				return err
			}
			ro, err := g.repoOptions()
			if err != nil {
				return err
			}
			l, err := release.ListResources(cmd.Context(), args[0], withCharts, ro)
			if err != nil {
				return err
			}
			return g.show(l, l.WriteTable)
		},
	}
	cmd.Flags().BoolVar(&withCharts, "chart-images", false, "render each helmChart resource (helm's engine, default values) and list the images it needs, and whether each is a resource")
	return cmd
}
