package cli

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

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
			srcArg, err := parseImageRef(args[0])
			if err != nil {
				return err
			}
			dstArg, err := parseImageRef(args[1])
			if err != nil {
				return err
			}
			if err := g.checkPlainHTTP(srcArg, dstArg); err != nil {
				return err
			}
			src, dst := srcArg.Ref, dstArg.Ref
			if dst.Digest != (v1.Hash{}) {
				return usageErr(fmt.Errorf("destination %s: name a repository or a tag, not a digest (the digest is the source's)", dst))
			}
			if dst.Tag == "" {
				dst.Tag = src.Tag
			}
			store, err := g.remoteStore()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			platforms, err := parsePlatforms(o.platforms)
			if err != nil {
				return err
			}
			verifyImage, err := o.imageKeys.imageVerifier()
			if err != nil {
				return err
			}
			pl := transfer.NewPlanner(store, transfer.PlanOptions{Platforms: platforms, NoAttachments: o.noAttachments, VerifyImage: verifyImage})
			var tags []string
			if dst.Tag != "" {
				tags = []string{dst.Tag}
			}
			if _, err := pl.Add(ctx, src, dst.Repo(), tags, src.String()); err != nil {
				return verifyHint(fmt.Errorf("planning the copy of %s: %w", src, err))
			}
			plan := pl.Plan()
			if o.dryRun {
				return g.printPlan(plan)
			}
			bar := g.newProgress("copying "+src.String(), plan.Stats().TargetBytes)
			rep, err := transfer.Run(ctx, plan, store, store, transfer.Options{Jobs: o.jobs, Progress: bar.event, Logger: g.logger()})
			bar.stop()
			if err != nil {
				return fmt.Errorf("copying %s to %s: %w", src, dst, err)
			}
			return g.printReport(rep, "")
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.jobs, "jobs", 8, "blobs copied at once")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be copied and copy nothing")
	f.StringSliceVar(&o.platforms, "platform", nil, "copy only these platforms of a multi-platform image (os/arch[/variant])")
	f.BoolVar(&o.noAttachments, "no-attachments", false, "leave out signatures, attestations, SBOMs and other referrers")
	f.StringArrayVar(&o.imageKeys.imageKeys, "verify-images-key", nil, "refuse the artifact without a cosign signature that verifies with the public key in `FILE` (PEM; repeatable: any key will do)")
	return cmd
}
