package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

type artifactCopyOptions struct {
	jobs          int
	dryRun        bool
	platforms     []string
	noAttachments bool
	imageKeys     verifyFlags // only --verify-images-key applies
}

func newArtifactCopyCmd(g *globals) *cobra.Command {
	var o artifactCopyOptions
	cmd := &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy an image, index or any OCI artifact, with everything it references, between registries",
		Long: `copy copies one OCI artifact (an image, a multi-platform index, a Helm chart or any
other artifact) with every manifest and blob below it. Blobs the target already has
are skipped, so a second run only reads manifests. DST may name a tag; without one
the source tag is kept.

To copy a whole release with its component descriptor, use 'ferry transfer'.`,
		Example: `  ferry artifact copy ghcr.io/stefanprodan/podinfo:6.3.5 registry.local:5000/mirror/podinfo
  ferry artifact copy 127.0.0.1:5001/app:1.0 127.0.0.1:5002/app:1.0 -o json`,
		Args: exactArgs("SRC", "DST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runArtifactCopy(cmd.Context(), args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.jobs, "jobs", transfer.DefaultJobs, "blobs copied at once")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be copied and copy nothing")
	f.StringSliceVar(&o.platforms, "platform", nil, "copy only these platforms of a multi-platform image (os/arch[/variant])")
	f.BoolVar(&o.noAttachments, "no-attachments", false, "leave out signatures, attestations, SBOMs and other referrers")
	f.StringArrayVar(&o.imageKeys.imageKeys, "verify-images-key", nil, "refuse the artifact without a cosign signature that verifies with the public key in `FILE` (PEM; repeatable: any key will do)")
	return cmd
}

func (g *globals) runArtifactCopy(ctx context.Context, srcArg, dstArg string, o artifactCopyOptions) error {
	ro, err := g.releaseOptions(o.imageKeys, o.platforms, o.noAttachments, o.jobs)
	if err != nil {
		return err
	}
	ro.DryRun = o.dryRun
	src, err := release.ParseImageRef(ro.Repository.Registry, srcArg, false)
	if err != nil {
		return err
	}
	dst, err := release.ParseImageRef(ro.Repository.Registry, dstArg, false)
	if err != nil {
		return err
	}
	bar := g.startProgress(src.String()+" to "+dst.String(), &ro)
	res, err := release.CopyArtifact(ctx, ro.Repository.Registry, src, dst, ro)
	bar.Finish()
	if err != nil {
		return release.VerifyHint(err)
	}
	if o.dryRun {
		return g.printPlan(res.Plan)
	}
	return g.printReport(res, "")
}

func newArtifactCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "artifact",
		Short:   "Copy, push and pull single OCI artifacts",
		GroupID: "main",
	}
	cmd.AddCommand(newArtifactCopyCmd(g), newArtifactPushCmd(g), newArtifactPullCmd(g))
	return cmd
}
