package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

// transferLong and transferExample are transfer's help.
const (
	transferLong = `transfer copies component versions, and by default every image and blob their
resources point at, from one repository to another: registry to registry on a
bastion host, or into and out of CTF archives.

SRC is REPO//NAME[:VERSION] (without a version, every version), or a CTF archive
alone (every component version in it). DST is a registry path or a CTF archive.
Images land under DST by OCM's rule: ghcr.io/stefanprodan/podinfo:6.3.5 sent to
registry.local/air lands at registry.local/air/stefanprodan/podinfo:6.3.5, and the
copied descriptor points there by digest. Resource digests and signatures stay
valid.

Blobs are written first, then manifests, then tags, and the component descriptors
last: an interrupted run leaves nothing that looks complete, and running the same
command again resumes where it stopped, sending nothing twice.

For change control, --dry-run -o json prints the plan: every component version,
artifact and blob by digest (with --sign-key, signed as 'cosign sign-blob' signs).
Once reviewed, --plan FILE runs exactly that plan, nothing re-resolved from tags;
with --public-key it runs only a plan whose signature verifies. A source that no
longer holds a planned digest stops the run before anything is written.`
	transferExample = `  # bastion host: a release from a public registry into the private one
  ferry transfer ghcr.io/acme/releases//example.com/podinfo:6.3.5 registry.local:5000/air

  # everything in a CTF archive, with referenced components, into a registry
  ferry transfer --recursive ./ctf http://127.0.0.1:5000/ocm

  # what would be copied, as JSON
  ferry transfer ./ctf//example.com/app:1.0.0 registry.local/air --dry-run -o json

  # a signed plan, reviewed, then run as it is
  ferry transfer staging.local/rel//example.com/app:1.0.0 prod.local/rel --dry-run -o json --sign-key ci.key > plan.json
  ferry transfer --plan plan.json --public-key ci.pub`
)

func newTransferCmd(g *globals) *cobra.Command {
	var o copyFlags
	cmd := &cobra.Command{
		Use:     "transfer SRC... DST",
		Short:   "Copy component versions with all their resources to a registry or a CTF archive",
		Long:    transferLong,
		Example: transferExample,
		Args:    func(cmd *cobra.Command, args []string) error { return o.checkTransferArgs(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.plan != "" {
				return g.runPlan(cmd.Context(), &o)
			}
			return g.runTransfer(cmd.Context(), args[:len(args)-1], args[len(args)-1], &o)
		},
	}
	f := cmd.Flags()
	g.lock.addFlags(f)
	f.BoolVarP(&o.Recursive, "recursive", "r", false, "transfer referenced component versions too, each once")
	f.BoolVar(&o.ByReference, "by-reference", false, "copy only local blobs; keep accesses to images in other registries as they are")
	f.BoolVar(&o.Overwrite, "overwrite", false, "move a tag (of an image or a component version) the target holds with other content; see --backup-tag-suffix")
	f.StringSliceVar(&o.platforms, "platform", nil, "copy only these platforms of multi-platform images (os/arch[/variant], comma-separated or repeated)")
	f.BoolVar(&o.NoAttachments, "no-attachments", false, "leave out signatures, attestations, SBOMs and other referrers of the copied images")
	f.IntVar(&o.Jobs, "jobs", transfer.DefaultJobs, "blobs and manifests copied at once")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan (what would be copied where) and copy nothing")
	f.StringVar(&o.reportFile, "report", "", "write a JSON report of what was copied, with the bill of materials (every component, resource, image, digest and signature), to this file")
	f.BoolVar(&o.ArtifactSets, "ocm-artifact-sets", false, "into a CTF archive: store images as OCM artifact sets (local blobs), as 'ocm transfer --copy-resources' does")
	f.StringVar(&o.plan, "plan", "", "run the plan in `FILE` (from --dry-run -o json) exactly: the same digests, nothing re-resolved")
	f.StringVar(&o.signKey, "sign-key", "", "with --dry-run -o json: sign the plan with the private key in `FILE` (cosign.key with $COSIGN_PASSWORD, or PEM)")
	addUploadAsFlag(f, &o.UploadAs)
	o.verify.add(cmd)
	addDriftFlags(cmd, &o.Promotion)
	g.addSemverFlag(cmd)
	g.addBOMFormatFlag(cmd)
	f.StringVar(&o.MirrorConfig, "mirror-config", "", "after the transfer, write container runtime configuration (containerd, crio, rke2, idms; see 'ferry mirror-config') for the copied images into this directory")
	cmd.GroupID = "main"
	return cmd
}

// checkTransferArgs checks transfer's arguments: SRC... DST, or --plan
// alone.
func (o *copyFlags) checkTransferArgs(cmd *cobra.Command, args []string) error {
	if o.plan != "" {
		if len(args) > 0 {
			return usageErr(fmt.Errorf("--plan names the source and the target itself: give no SRC or DST (got %d argument(s))", len(args)))
		}
		return nil
	}
	if len(args) < 2 {
		return usageErr(fmt.Errorf("%s needs at least one SRC and a DST, got %d argument(s)", cmd.CommandPath(), len(args)))
	}
	return nil
}

func (g *globals) runTransfer(ctx context.Context, srcArgs []string, dstArg string, o *copyFlags) error {
	ro, err := g.options(o)
	if err != nil {
		return err
	}
	bar := g.startProgress("to "+dstArg, &ro)
	res, err := release.Transfer(ctx, srcArgs, dstArg, ro)
	bar.Finish()
	if err != nil {
		return release.VerifyHint(err)
	}
	if o.DryRun && !o.Check {
		return g.printPlanFile(release.NewPlanFile(res), o.signKey)
	}
	return g.printResult(res, o.Check, o.reportFile)
}

// runPlan runs the plan of --plan, checked against --public-key.
func (g *globals) runPlan(ctx context.Context, o *copyFlags) error {
	ro, err := g.planOptions(o)
	if err != nil {
		return err
	}
	pf, err := release.ReadPlanFile(o.plan, o.verify.publicKeys)
	if err != nil {
		return err
	}
	bar := g.startProgress("to "+pf.Target, &ro)
	res, err := release.RunPlan(ctx, pf, ro)
	bar.Finish()
	if err != nil {
		return release.PlanHint(err)
	}
	return g.printResult(res, o.Check, o.reportFile)
}
