package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/internal/atomicfile"
	"github.com/ferry-oci/ferry/release"
)

func newComponentDownloadCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download REPO//NAME:VERSION RESOURCE -O PATH",
		Short: "Write a resource's content (a blob, a Helm chart or an image) to a file",
		Long: `download streams the content of a resource to PATH, verified on the way, and
renames it into place only when it is complete: a blob (localBlob or ociBlob
access) as it is; a Helm chart stored as an OCI artifact (as the OCM v2 CLI stores
one, in the version's index) as its chart archive (.tgz); any other OCI artifact
(an image or index) as an OCM artifact set, an OCI layout in a gzipped tar, as
'ocm download resource' of the OCM v1 CLI writes it. RESOURCE is the resource name,
with extra identity as name,key=value,… when names repeat. To copy images into a
registry, use 'ferry artifact copy' or 'ferry transfer'.`,
		Example: `  ferry component download ./ctf//example.com/podinfo:6.3.5 deployment -O deploy.tgz`,
		Args:    exactArgs("REPO//NAME:VERSION", "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runDownload(cmd.Context(), args[0], args[1], out)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "O", "", "file to write")
	return cmd
}

func (g *globals) runDownload(ctx context.Context, refArg, resourceSpec, out string) error {
	ref, err := parseComponentRef(refArg, true)
	if err != nil {
		return err
	}
	ro, err := g.repoOptions()
	if err != nil {
		return err
	}
	d, err := release.DownloadResource(ctx, ref, resourceSpec, out, ro)
	if err != nil {
		return err
	}
	return g.show(d, d.WriteTable)
}

// writeFileAtomic writes r to path whole or not at all.
func writeFileAtomic(path string, r io.Reader) (int64, error) { return atomicfile.Write(path, r) }
