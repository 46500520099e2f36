package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/repository"
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
			return g.runComponentGet(cmd.Context(), args[0], scheme)
		},
	}
	cmd.Flags().StringVar(&scheme, "scheme", "", "descriptor schema to print: v2 or v3alpha1 (default: as stored)")
	g.addSemverFlag(cmd)
	return cmd
}

func (g *globals) runComponentGet(ctx context.Context, refArg, scheme string) error {
	var sch component.Scheme
	switch scheme {
	case "":
	case "v2":
		sch = component.SchemeV2
	case "v3alpha1", "ocm.software/v3alpha1":
		sch = component.SchemeV3Alpha1
	default:
		return usageErr(fmt.Errorf("--scheme %q: want v2 or v3alpha1", scheme))
	}
	repo, versions, err := g.readVersions(ctx, refArg)
	if err != nil {
		return err
	}
	defer repo.Close()
	descs := make([]*component.Descriptor, 0, len(versions))
	for _, cv := range versions {
		d := cv.Descriptor
		if sch != "" && sch != d.SchemeOrDefault() {
			if d, err = component.Convert(d, sch); err != nil {
				return fmt.Errorf("converting %s:%s to %s: %w", d.Name, d.Version, sch, err)
			}
		}
		descs = append(descs, d)
	}
	return g.printDescriptors(descs, repo.String())
}

// readVersions opens the repository of REPO[//NAME[:VERSION]] and reads
// the versions it names; the caller closes the repository.
func (g *globals) readVersions(ctx context.Context, refArg string) (*repository.Repository, []*ocireg.Version, error) {
	refs, err := component.ParseSources([]string{refArg})
	if err != nil {
		return nil, nil, usageErr(err)
	}
	repo, err := g.openRepo(ctx, refs[0].Repo, false)
	if err != nil {
		return nil, nil, err
	}
	versions, err := repo.Read(ctx, refs[0])
	if err != nil {
		repo.Close()
		return nil, nil, err
	}
	return repo, versions, nil
}

// printDescriptors prints descriptors as a table of versions, as YAML
// documents, or as a JSON list, each as OCM encodes it.
func (g *globals) printDescriptors(descs []*component.Descriptor, repo string) error {
	if g.output == "yaml" || g.output == "json" {
		b, err := component.EncodeList(descs, g.output)
		if err != nil {
			return err
		}
		_, err = g.stdout.Write(b)
		return err
	}
	t := newTable(g.stdout)
	t.row("COMPONENT", "VERSION", "PROVIDER", "REPOSITORY")
	for _, d := range descs {
		t.row(d.Name, d.Version, d.Provider.Name, repo)
	}
	return t.flush()
}
