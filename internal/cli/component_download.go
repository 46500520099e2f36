package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/atomicfile"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/release"
)

func newComponentDownloadCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download REPO//NAME:VERSION RESOURCE -O PATH",
		Short: "Write a resource's content (a local blob or an OCI blob) to a file",
		Long: `download streams the content of a blob resource (localBlob or ociBlob access) to
PATH, verified against its digest on the way, and renames it into place only
when it is complete. RESOURCE is the resource name, with extra identity as
name,key=value,… when names repeat. Images are copied with 'ferry artifact copy'
or 'ferry transfer' instead.`,
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
	if out == "" {
		return usageErr(fmt.Errorf("name the file to write with -O PATH"))
	}
	repo, err := g.openRepo(ctx, ref.Repo, false)
	if err != nil {
		return err
	}
	defer repo.Close()
	src, err := repo.Source(ctx, ref.Component, ref.Version, repo.Registry())
	if err != nil {
		return err
	}
	d, err := release.Download(ctx, src, resourceSpec, out)
	switch {
	case errors.Is(err, component.ErrInvalidIdentity):
		return usageErr(err)
	case errors.Is(err, release.ErrNotBlob):
		return withHint(err, "copy it with 'ferry artifact copy' (or the whole release with 'ferry transfer')")
	case err != nil:
		return err
	}
	name := ref.Component + ":" + ref.Version + " resource " + resourceSpec
	return g.print(struct {
		Resource string  `json:"resource"`
		File     string  `json:"file"`
		Size     int64   `json:"size"`
		Digest   v1.Hash `json:"digest"`
	}{name, out, d.Size, d.Digest}, func(t *tableWriter) {
		t.row(fmt.Sprintf("downloaded %s to %s: %s, %s (verified)", name, out, human.Bytes(d.Size), d.Digest))
	})
}

// writeFileAtomic writes r to path whole or not at all.
func writeFileAtomic(path string, r io.Reader) (int64, error) { return atomicfile.Write(path, r) }
