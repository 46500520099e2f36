package cli

import (
	"context"
	"errors"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/release"
)

func newBundleImportCmd(g *globals) *cobra.Command {
	var o copyFlags
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
			return g.runBundleImport(cmd.Context(), args[0], args[1], &o)
		},
	}
	f := cmd.Flags()
	g.lock.addFlags(f)
	f.BoolVar(&o.Overwrite, "overwrite", false, "move a tag (of an image or a component version) the target holds with other content; see --backup-tag-suffix")
	f.IntVar(&o.Jobs, "jobs", 8, "blobs pushed at once")
	f.StringVar(&o.reportFile, "report", "", "write a JSON report of what was copied, with the bill of materials, to this file")
	o.verify.add(cmd)
	addDriftFlags(cmd, &o.Promotion)
	f.StringVar(&o.MirrorConfig, "mirror-config", "", "after the import, write container runtime configuration (containerd, crio, rke2, idms; see 'ferry mirror-config') for the imported images, from the registries the bundle's metadata says they came from, into this directory")
	return cmd
}

func (g *globals) runBundleImport(ctx context.Context, file, dstArg string, o *copyFlags) error {
	ro, err := g.options(o)
	if err != nil {
		return err
	}
	bar := g.startProgress("into "+dstArg, &ro)
	res, err := release.Import(ctx, file, dstArg, ro)
	bar.Finish()
	if err != nil {
		return importHint(ctx, err, file)
	}
	return g.printResult(res, o.Check, o.reportFile)
}

// importHint says what to do after a failed import. The bundle is called
// damaged only when a digest or size does not match, an entry is malformed
// or a blob is missing from it; an interruption (however the read it cut
// short failed) is never damage.
func importHint(ctx context.Context, err error, file string) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return err
	}
	var (
		de *release.DamagedError
		le *release.LeftOutError
		re *release.RunError
		oe *oci.Error
	)
	switch {
	case errors.As(err, &de):
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exitcode.Damaged) {
			return bundleHint(err, file)
		}
		return withHint(err, "the bundle is damaged or incomplete: run 'ferry bundle verify %s' for details, and bring the bundle (or the volume named) again", file)
	case errors.As(err, &le):
		return withHint(err, "import the bundles this one builds on first, or create a full bundle (without --missing-from)")
	case errors.As(err, &re) && bundle.IsDamage(err):
		return withHint(exitcode.Mark(err, exitcode.Damaged), "the bundle is damaged; nothing was tagged: run 'ferry bundle verify %s' to see where, and bring it again", file)
	case errors.As(err, &re) && errors.As(err, &oe) && oe.Side == oci.Source && errors.Is(err, oci.ErrNotFound):
		return withHint(err, "the bundle is damaged; nothing was tagged: run 'ferry bundle verify %s' to see where, and bring it again", file)
	}
	return verifyHint(err)
}
