package cli

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

type transferOptions struct {
	recursive     bool
	byReference   bool
	platforms     []string
	noAttachments bool
	overwrite     bool
	jobs          int
	dryRun        bool
	reportFile    string
	artifactSets  bool
	verify        verifyFlags
}

func newTransferCmd(g *globals) *cobra.Command {
	var o transferOptions
	cmd := &cobra.Command{
		Use:   "transfer SRC... DST",
		Short: "Copy component versions with all their resources to a registry or a CTF archive",
		Long: `transfer copies component versions, and by default every image and blob their
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
command again resumes where it stopped, sending nothing twice.`,
		Example: `  # bastion host: a release from a public registry into the private one
  ferry transfer ghcr.io/acme/releases//example.com/podinfo:6.3.5 registry.local:5000/air

  # everything in a CTF archive, with referenced components, into a registry
  ferry transfer --recursive ./ctf http://127.0.0.1:5000/ocm

  # what would be copied, as JSON
  ferry transfer ./ctf//example.com/app:1.0.0 registry.local/air --dry-run -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErr(fmt.Errorf("%s needs at least one SRC and a DST, got %d argument(s)", cmd.CommandPath(), len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runTransfer(cmd, args[:len(args)-1], args[len(args)-1], o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "transfer referenced component versions too, each once")
	f.BoolVar(&o.byReference, "by-reference", false, "copy only local blobs; keep accesses to images in other registries as they are")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace a version the target holds with different content")
	f.StringSliceVar(&o.platforms, "platform", nil, "copy only these platforms of multi-platform images (os/arch[/variant], comma-separated or repeated)")
	f.BoolVar(&o.noAttachments, "no-attachments", false, "leave out signatures, attestations, SBOMs and other referrers of the copied images")
	f.IntVar(&o.jobs, "jobs", 8, "blobs and manifests copied at once")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan (what would be copied where) and copy nothing")
	f.StringVar(&o.reportFile, "report", "", "write a JSON report of what was copied, with the bill of materials (every component, resource, image, digest and signature), to this file")
	f.BoolVar(&o.artifactSets, "ocm-artifact-sets", false, "into a CTF archive: store images as OCM artifact sets (local blobs), as 'ocm transfer --copy-resources' does")
	o.verify.add(cmd)
	cmd.GroupID = "main"
	return cmd
}

func (g *globals) runTransfer(cmd *cobra.Command, srcArgs []string, dstArg string, o transferOptions) error {
	ro, err := g.releaseOptions(o.verify, o.platforms, o.noAttachments, o.jobs)
	if err != nil {
		return err
	}
	ro.Recursive, ro.ByReference, ro.Overwrite, ro.DryRun, ro.ArtifactSets = o.recursive, o.byReference, o.overwrite, o.dryRun, o.artifactSets
	bar := g.newProgress("transferring to "+dstArg, 0)
	ro.Progress = bar.event
	res, err := release.Transfer(cmd.Context(), srcArgs, dstArg, ro)
	bar.stop()
	if err != nil {
		return verifyHint(err)
	}
	if o.dryRun {
		return g.printPlan(res.Plan)
	}
	return g.printReport(res.Report, o.reportFile)
}

// parsePlatforms parses --platform values (os/arch[/variant]).
func parsePlatforms(ss []string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, s := range ss {
		p, err := v1.ParsePlatform(s)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, usageErr(fmt.Errorf("--platform %q: want os/arch[/variant], e.g. linux/amd64", s))
		}
		out = append(out, *p)
	}
	return out, nil
}
