package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
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
			ctx := cmd.Context()
			var ref component.Ref
			if strings.Contains(args[0], "//") && !strings.HasSuffix(args[0], "//") {
				var err error
				if ref, err = parseComponentRef(args[0], false); err != nil {
					return err
				}
			} else {
				spec, err := component.ParseRepo(strings.TrimSuffix(args[0], "//"))
				if err != nil {
					return usageErr(err)
				}
				ref.Repo = spec
			}
			repo, err := g.openComponentRepo(ref.Repo, false)
			if err != nil {
				return err
			}
			defer repo.Close()
			names := []string{ref.Component}
			if ref.Component == "" {
				if names, err = repo.Components(ctx); err != nil {
					return fmt.Errorf("listing components in %s: %w", repo.spec, err)
				}
			}
			var descs []*component.Descriptor
			for _, name := range names {
				r := ref
				r.Component = name
				versions, err := versionsOf(ctx, repo, r)
				if err != nil {
					return err
				}
				for _, v := range versions {
					cv, err := repo.Get(ctx, name, v)
					if err != nil {
						return fmt.Errorf("reading %s:%s from %s: %w", name, v, repo.spec, err)
					}
					d := cv.Descriptor
					if sch != "" && sch != d.SchemeOrDefault() {
						if d, err = component.Convert(d, sch); err != nil {
							return fmt.Errorf("converting %s:%s to %s: %w", name, v, sch, err)
						}
					}
					descs = append(descs, d)
				}
			}
			return g.printDescriptors(descs, repo.display())
		},
	}
	cmd.Flags().StringVar(&scheme, "scheme", "", "descriptor schema to print: v2 or v3alpha1 (default: as stored)")
	return cmd
}

// printDescriptors prints descriptors as a table of versions, as YAML
// documents, or as a JSON list, each as OCM encodes it.
func (g *globals) printDescriptors(descs []*component.Descriptor, repo string) error {
	switch g.output {
	case "yaml":
		for _, d := range descs {
			b, err := component.Encode(d, d.SchemeOrDefault())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "---\n%s", b)
		}
		return nil
	case "json":
		items := make([]json.RawMessage, 0, len(descs))
		for _, d := range descs {
			b, err := component.EncodeJSON(d, d.SchemeOrDefault())
			if err != nil {
				return err
			}
			items = append(items, b)
		}
		var buf bytes.Buffer
		b, _ := json.Marshal(map[string]any{"items": items})
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err := g.stdout.Write(buf.Bytes())
		return err
	}
	t := newTable(g.stdout)
	t.row("COMPONENT", "VERSION", "PROVIDER", "REPOSITORY")
	for _, d := range descs {
		t.row(d.Name, d.Version, d.Provider.Name, repo)
	}
	return t.flush()
}
