package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

func newBundleVerifyCmd(g *globals) *cobra.Command {
	var jobs int
	var volume bool
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check every blob, volume and reference of a bundle",
		Long: `verify re-hashes every blob of the bundle FILE (or of the volumes FILE.000, ...),
checks the volumes against FILE.sha256, checks that every manifest's children
and every component version's local blobs and images are there (or, for a
differential bundle, were left out on purpose), and that ferry's metadata agrees
with the archive. The sidecar is checked first, so damage anywhere in a volume
is put on that volume. It exits 4 naming the first damaged file and the offset
in it. Files an interrupted write left beside or in a CTF are listed as strays.

With --volume, FILE is one volume (FILE.NNN), checked against FILE.sha256 alone:
the other volumes need not be there yet.`,
		Example: `  ferry bundle verify podinfo.tar
  ferry bundle verify podinfo.tar.000 -o json
  ferry bundle verify podinfo.tar.001 --volume`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runBundleVerify(cmd.Context(), args[0], jobs, volume)
		},
	}
	cmd.Flags().IntVar(&jobs, "jobs", 4, "blobs hashed at once")
	cmd.Flags().BoolVar(&volume, "volume", false, "check FILE, one volume, against the sidecar alone")
	return cmd
}

func (g *globals) runBundleVerify(ctx context.Context, file string, jobs int, volume bool) error {
	rep, err := release.VerifyBundle(ctx, file, volume, jobs)
	if perr := g.show(rep, func(w io.Writer) error { return rep.WriteTable(w, err == nil) }); perr != nil {
		return perr
	}
	return err
}

func newBundleInspectCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE",
		Short: "List the component versions, resources and images of a bundle",
		Long: `inspect lists what the bundle FILE holds: component versions and their resources,
images with their platforms and sizes, and the space storing shared blobs once
saves. Nothing is hashed: use 'bundle verify' for that.`,
		Example: `  ferry bundle inspect podinfo.tar
  ferry bundle inspect podinfo.tar -o json`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := release.InspectBundle(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.show(in, in.WriteTable)
		},
	}
}
