package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/transfer"
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
	ctx := cmd.Context()
	checks, verifyImage, err := o.verify.gates()
	if err != nil {
		return err
	}
	var refs []component.Ref
	for _, s := range srcArgs {
		if strings.Contains(s, "//") && !strings.HasSuffix(s, "//") {
			ref, err := parseComponentRef(s, false)
			if err != nil {
				return err
			}
			refs = append(refs, ref)
			continue
		}
		spec, err := component.ParseRepo(strings.TrimSuffix(s, "//"))
		if err != nil {
			return usageErr(err)
		}
		refs = append(refs, component.Ref{Repo: spec})
	}
	for _, r := range refs[1:] {
		if r.Repo.String() != refs[0].Repo.String() {
			return usageErr(fmt.Errorf("all SRC arguments must be in one repository: %s and %s differ; run one transfer per repository", refs[0].Repo, r.Repo))
		}
	}
	dstSpec, err := component.ParseRepo(dstArg)
	if err != nil {
		return usageErr(err)
	}
	src, err := g.openComponentRepo(refs[0].Repo, false)
	if err != nil {
		return err
	}
	defer src.Close()
	// Expand "every version" and "every component" into versions.
	var versions []component.Ref
	for _, r := range refs {
		names := []string{r.Component}
		if r.Component == "" {
			if names, err = src.Components(ctx); err != nil {
				return fmt.Errorf("listing components in %s: %w (name them: REPO//NAME)", src.spec, err)
			}
		}
		for _, n := range names {
			rr := r
			rr.Component = n
			vs, err := versionsOf(ctx, src, rr)
			if err != nil {
				return err
			}
			for _, v := range vs {
				rr.Version = v
				versions = append(versions, rr)
			}
		}
	}
	dst, err := g.openComponentRepo(dstSpec, !o.dryRun)
	if err != nil {
		return err
	}
	images, err := g.remoteStore()
	if err != nil {
		dst.Abort()
		return err
	}
	sources := &transfer.Sources{Store: src.Store(), Images: images}
	defer sources.Close()
	target := transfer.Target{Repository: dst.Repository, Scheme: dstSpec.Scheme, Intermediate: dst.intermediate()}
	spool := ""
	if o.artifactSets {
		if !target.Intermediate {
			dst.Abort()
			return usageErr(fmt.Errorf("--ocm-artifact-sets stores images inside a CTF archive; %s is a registry", dstSpec))
		}
		if len(o.platforms) > 0 {
			dst.Abort()
			return usageErr(errors.New("--ocm-artifact-sets stores whole images: it does not combine with --platform"))
		}
		dir, err := os.MkdirTemp("", "ferry-sets-")
		if err != nil {
			dst.Abort()
			return err
		}
		defer os.RemoveAll(dir)
		spool = dir
	}
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		dst.Abort()
		return err
	}
	plan, err := transfer.NewComponentPlan(ctx, sources, src.Repository, versions, target,
		transfer.ComponentOptions{Recursive: o.recursive, ByReference: o.byReference, Overwrite: o.overwrite, Verify: checks, ArtifactSets: spool,
			Plan: transfer.PlanOptions{Platforms: platforms, NoAttachments: o.noAttachments, VerifyImage: verifyImage}})
	if err != nil {
		dst.Abort()
		return verifyHint(fmt.Errorf("planning the transfer to %s: %w", dstSpec, err))
	}
	if o.dryRun {
		dst.Abort()
		return g.printPlan(plan)
	}
	bar := g.newProgress("transferring to "+dstSpec.String(), plan.Stats().TargetBytes)
	rep, err := transfer.Run(ctx, plan, sources, dst.Store(), transfer.Options{Jobs: o.jobs, Progress: bar.event, Logger: g.logger()})
	bar.stop()
	if err != nil {
		dst.Abort()
		return verifyHint(fmt.Errorf("transferring to %s: %w", dstSpec, err))
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dstSpec, err)
	}
	return g.printReport(rep, o.reportFile)
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
