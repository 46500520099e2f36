package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
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
	f.IntVar(&o.Jobs, "jobs", transfer.DefaultJobs, "blobs pushed at once")
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
		return release.ImportHint(ctx, err, file)
	}
	return g.printResult(res, o.Check, o.reportFile)
}
