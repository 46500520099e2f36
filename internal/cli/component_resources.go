package cli

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/repository"
)

// resourceRow is one resource as -o json/yaml prints it.
type resourceRow struct {
	Component     string                `json:"component"`
	Name          string                `json:"name"`
	Version       string                `json:"version"`
	ExtraIdentity component.Identity    `json:"extraIdentity,omitempty"`
	Type          string                `json:"type"`
	Relation      string                `json:"relation"`
	Access        component.Access      `json:"access"`
	Digest        *component.DigestSpec `json:"digest,omitempty"`
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
			repo, versions, err := g.readVersions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer repo.Close()
			return g.printResources(cmd.Context(), repo, versions, withCharts)
		},
	}
	cmd.Flags().BoolVar(&withCharts, "chart-images", false, "render each helmChart resource (helm's engine, default values) and list the images it needs, and whether each is a resource")
	return cmd
}

// printResources lists the resources of versions, and with withCharts the
// images each chart among them needs.
func (g *globals) printResources(ctx context.Context, repo *repository.Repository, versions []*ocireg.Version, withCharts bool) error {
	var rows []resourceRow
	for _, cv := range versions {
		d := cv.Descriptor
		for _, r := range d.Resources {
			rows = append(rows, resourceRow{Component: d.Name + ":" + d.Version, Name: r.Name, Version: r.Version,
				ExtraIdentity: r.ExtraIdentity, Type: r.Type, Relation: r.Relation, Access: r.Access, Digest: r.Digest})
		}
	}
	var charts []release.ChartNeeds
	if withCharts {
		for _, cv := range versions {
			cs, err := release.ChartImages(ctx, repo, cv)
			if err != nil {
				return err
			}
			charts = append(charts, cs...)
		}
	}
	var out any = rows
	if withCharts {
		out = struct {
			Resources []resourceRow        `json:"resources"`
			Charts    []release.ChartNeeds `json:"charts"`
		}{rows, charts}
	}
	return g.print(out, func(t *tableWriter) {
		t.row("NAME", "VERSION", "IDENTITY", "TYPE", "RELATION", "ACCESSTYPE", "ACCESSSPEC", "DIGEST")
		for _, r := range rows {
			id := ""
			if len(r.ExtraIdentity) > 0 {
				id = r.ExtraIdentity.String()
			}
			spec, _ := json.Marshal(r.Access.Fields)
			dg := ""
			if r.Digest != nil {
				dg = r.Digest.String()
			}
			t.row(r.Name, r.Version, id, r.Type, r.Relation, r.Access.Type, string(spec), dg)
		}
		if withCharts {
			printChartNeeds(t, charts)
		}
	})
}
