package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/transfer"
)

type bundleImportOptions struct {
	overwrite  bool
	jobs       int
	reportFile string
	verify     verifyFlags
}

func newBundleImportCmd(g *globals) *cobra.Command {
	var o bundleImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE DST",
		Short: "Push every component version of a bundle, with its images, into a registry",
		Long: `import transfers every component version of the bundle FILE (a ferry bundle,
its first volume, or any CTF ocm wrote: directory, tar or tgz) into DST, a
registry path or a CTF archive, by the same engine and rules as 'ferry transfer':
images land under DST by OCM's rule and the descriptors point at them.

Blobs are read in place from the bundle and verified while they stream; blobs
first, then manifests, then tags, component versions last, so a damaged bundle
stops the import before anything is tagged. Running it again resumes.
Resources the bundle does not hold (a CTF made without --copy-resources names
images in other registries) keep their accesses; nothing outside FILE and DST
is contacted.

A differential bundle (made with --missing-from) is imported only when DST holds
everything it left out; import names what is missing otherwise.`,
		Example: `  ferry bundle verify podinfo.tar && ferry bundle import podinfo.tar registry.local:5000/air
  ferry bundle import podinfo.tar.000 http://127.0.0.1:5000/air -o json`,
		Args: exactArgs("FILE", "DST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runBundleImport(cmd.Context(), args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.overwrite, "overwrite", false, "replace a version the target holds with different content")
	f.IntVar(&o.jobs, "jobs", 8, "blobs pushed at once")
	f.StringVar(&o.reportFile, "report", "", "write a JSON report of what was copied, with the bill of materials, to this file")
	o.verify.add(cmd)
	return cmd
}

func (g *globals) runBundleImport(ctx context.Context, file, dstArg string, o bundleImportOptions) error {
	checks, verifyImage, err := o.verify.gates()
	if err != nil {
		return err
	}
	dstSpec, err := component.ParseRepo(dstArg)
	if err != nil {
		return usageErr(err)
	}
	b, err := bundle.Open(ctx, file)
	if err != nil {
		return withHint(err, "the bundle is damaged or incomplete: run 'ferry bundle verify %s' for details, and bring the bundle (or the volume named) again", file)
	}
	defer b.Close()
	dst, err := g.openComponentRepo(dstSpec, true)
	if err != nil {
		return err
	}
	if lo := b.Metadata; lo != nil && lo.LeftOut != nil {
		missing, err := b.MissingLeftOut(ctx, dst.Store(), dst.Base())
		if err != nil {
			dst.Abort()
			return err
		}
		if len(missing) > 0 {
			dst.Abort()
			var names []string
			for _, m := range missing[:min(len(missing), 3)] {
				names = append(names, bundleJoin(dst.Base(), m.Repository)+"@"+m.Digest.String())
			}
			return withHint(fmt.Errorf("importing %s: the bundle is differential (made against an inventory of %s) and %s lacks %d of what it left out: %s: %w",
				file, lo.LeftOut.Base, dstSpec, len(missing), strings.Join(names, ", "), oci.ErrNotFound),
				"import the bundles this one builds on first, or create a full bundle (without --missing-from)")
		}
	}
	src := b.Source(dst.Store(), dst.Base())
	versions, err := bundleVersions(ctx, b)
	if err != nil {
		dst.Abort()
		return err
	}
	// Everything is read from the bundle: resources it does not hold (images
	// a by-reference CTF names in other registries) keep their accesses.
	sources := &transfer.Sources{Store: src}
	defer sources.Close()
	target := transfer.Target{Repository: dst.Repository, Scheme: dstSpec.Scheme, Intermediate: dst.intermediate()}
	plan, err := transfer.NewComponentPlan(ctx, sources, ocireg.New(src, ""), versions, target,
		transfer.ComponentOptions{ByReference: true, Overwrite: o.overwrite, Verify: checks, Plan: transfer.PlanOptions{VerifyImage: verifyImage}})
	if err != nil {
		dst.Abort()
		return verifyHint(fmt.Errorf("planning the import of %s into %s: %w", file, dstSpec, err))
	}
	bar := g.newProgress("importing into "+dstSpec.String(), plan.Stats().TargetBytes)
	rep, err := transfer.Run(ctx, plan, sources, dst.Store(), transfer.Options{Jobs: o.jobs, Progress: bar.event, Logger: g.logger()})
	bar.stop()
	if err != nil {
		dst.Abort()
		err = fmt.Errorf("importing %s into %s: %w", file, dstSpec, err)
		var oe *oci.Error
		if errors.Is(err, oci.ErrDigestMismatch) || errors.Is(err, oci.ErrSizeMismatch) || errors.As(err, &oe) && oe.Side == oci.Source {
			return withHint(err, "the bundle is damaged; nothing was tagged: run 'ferry bundle verify %s' to see where, and bring it again", file)
		}
		return err
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dstSpec, err)
	}
	return g.printReport(rep, o.reportFile)
}

func bundleJoin(base, repo string) string {
	if base == "" {
		return repo
	}
	return base + "/" + repo
}

// bundleVersions lists the component versions of a bundle in the order an
// import writes them: the plan's (referenced versions first) when ferry made
// it, else every version of every component.
func bundleVersions(ctx context.Context, b *bundle.Bundle) ([]component.Ref, error) {
	var out []component.Ref
	if md := b.Metadata; md != nil && len(md.Components) > 0 {
		for _, c := range md.Components {
			out = append(out, component.Ref{Component: c.Name, Version: c.Version})
		}
		return out, nil
	}
	repo := ocireg.New(b.Archive, "")
	names, err := repo.Components(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the components of %s: %w", b.Path, err)
	}
	for _, n := range names {
		vs, err := repo.Versions(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("listing the versions of %s in %s: %w", n, b.Path, err)
		}
		for _, v := range vs {
			out = append(out, component.Ref{Component: n, Version: v})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no component versions: %w", b.Path, oci.ErrNotFound)
	}
	return out, nil
}
