package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

func newBundleCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Carry component versions across an air gap in an offline bundle",
		Long: `bundle writes, checks, lists and imports offline bundles.

A bundle is an OCM CTF archive in one uncompressed tar, readable by ocm: every
image is stored as a native OCI artifact and every blob once, however many
images share it. Outside the air gap, 'bundle create' writes it (optionally
split into volumes, optionally only what the other side lacks); inside,
'bundle verify' checks it and 'bundle import' pushes it into a registry.`,
		GroupID: "main",
	}
	cmd.AddCommand(newBundleCreateCmd(g), newBundleVerifyCmd(g), newBundleInspectCmd(g), newBundleImportCmd(g))
	return cmd
}

type bundleCreateOptions struct {
	copyFlags
	file        string
	split       string
	resume      bool
	missingFrom string

	onEvent func(transfer.Event) // tests: sees every event of the run
}

// bundleCreateLong and bundleCreateExample are bundle create's help.
const (
	bundleCreateLong = `create copies component versions, with every image and blob their resources
point at, into the bundle FILE, by the same engine and rules as 'ferry transfer'
(SRC is REPO//NAME[:VERSION] or a CTF archive). Images become native OCI
artifacts inside it, referenced from the descriptors by relativeOciReference.

The bundle is laid out before the first byte is fetched: blobs stream from the
source straight to their place in the file, in parallel, verified, and nothing
is staged. Until it is complete the bundle is FILE.partial with a journal; if
the run stops, run the same command with --resume to fetch only what is missing.

--split SIZE cuts the bundle into volumes FILE.000, FILE.001, ... of SIZE bytes
('cat FILE.[0-9]* > FILE' gives the single file back, byte for byte; 'cat FILE.*'
appends FILE.sha256, which ferry ignores); FILE.sha256 lists every
file in sha256sum format ('sha256sum -c FILE.sha256' checks them). --missing-from INVENTORY leaves out everything the
inventory (see 'ferry inventory') says the target registry holds already.

--verify-signature NAME --public-key FILE refuses to carry a component version
whose OCM signature does not verify (its resource digests are checked against
the content as it is copied, always); --verify-images-key FILE refuses images
without a cosign signature that verifies. The bundle records a bill of
materials: 'ferry bundle inspect -o json' prints it.

--ocm-artifact-sets writes each image as OCM's own artifact set (one tgz local
blob, byte for byte what ocm writes) instead of a native OCI artifact, for sites
that run 'ocm verify' on the bundle file itself. The sets are made before the
bundle is laid out, in FILE.partial.sets, which is removed when the bundle is
complete; platform filtering and image attachments do not apply to them.

Which OCM CLI verifies the file itself: in the default layout (images as native
OCI artifacts, stored once, accesses relativeOciReference) the OCM v1 CLI reads
and downloads the bundle, but its 'ocm verify' on the file fails with "no digester
accepts resource NAME:VERSION (local OCI artifact ...)"; it verifies the version
once the bundle is imported into a registry. For 'ocm verify' (v1) on the file,
create the bundle with --ocm-artifact-sets. --upload-as localBlob stores images
in each version's OCI index, as the OCM v2 CLI does (its 'transfer
--copy-resources'); the OCM v1 CLI cannot read that form. Versions the OCM v2 CLI
wrote are carried as they are, index and digests included. See docs/ocm-interop.md.`
	bundleCreateExample = `  # a release with its images, in one file
  ferry bundle create ghcr.io/acme/releases//example.com/podinfo:6.3.5 -o podinfo.tar

  # on 4 GiB media, only what the air-gapped registry lacks
  ferry bundle create ghcr.io/acme/releases//example.com/podinfo:6.3.6 -o podinfo.tar \
      --split 4GiB --missing-from inventory.json

  # the connection broke: continue
  ferry bundle create ghcr.io/acme/releases//example.com/podinfo:6.3.5 -o podinfo.tar --resume`
)

func newBundleCreateCmd(g *globals) *cobra.Command {
	var o bundleCreateOptions
	cmd := &cobra.Command{
		Use:     "create SRC... -o FILE",
		Short:   "Write component versions with every image and blob into a bundle",
		Long:    bundleCreateLong,
		Example: bundleCreateExample,
		Args:    func(cmd *cobra.Command, args []string) error { return o.checkArgs(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runBundleCreate(cmd.Context(), args, o)
		},
	}
	f := cmd.Flags()
	g.lock.addFlags(f)
	// -o names the file here, as in 'ferry inventory'; the summary is a table.
	f.StringVarP(&o.file, "output", "o", "", "the bundle file to write")
	f.StringVar(&o.split, "split", "", "cut the bundle into volumes of this size (4GiB, 700MB, 1000000)")
	f.BoolVar(&o.resume, "resume", false, "continue the partial bundle an interrupted create left")
	f.StringVar(&o.missingFrom, "missing-from", "", "leave out what this inventory (from 'ferry inventory') says the target holds")
	f.BoolVarP(&o.Recursive, "recursive", "r", false, "carry referenced component versions too, each once")
	f.StringSliceVar(&o.platforms, "platform", nil, "carry only these platforms of multi-platform images (os/arch[/variant]); their indexes are rewritten and labelled with the signed digest")
	f.BoolVar(&o.NoAttachments, "no-attachments", false, "leave out signatures, attestations, SBOMs and other referrers of the images")
	f.IntVar(&o.Jobs, "jobs", transfer.DefaultJobs, "blobs fetched at once")
	f.StringVar(&o.reportFile, "report", "", "write a JSON report of what was written, with the bill of materials, to this file")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan as the JSON file --plan runs, and write nothing")
	f.StringVar(&o.plan, "plan", "", "write the bundle the plan in `FILE` (from --dry-run -o json) names, exactly as planned")
	f.StringVar(&o.signKey, "sign-key", "", "with --dry-run: sign the plan with the private key in `FILE` (cosign.key with $COSIGN_PASSWORD, or PEM)")
	f.BoolVar(&o.ArtifactSets, "ocm-artifact-sets", false, "store images as OCM artifact sets (local blobs, as 'ocm transfer --copy-resources' does), so that 'ocm verify' can check the bundle file itself")
	addUploadAsFlag(f, &o.UploadAs)
	o.verify.add(cmd)
	g.addSemverFlag(cmd)
	g.addBOMFormatFlag(cmd)
	return cmd
}

// checkArgs checks bundle create's arguments: SRC and -o FILE, or --plan
// alone.
func (o bundleCreateOptions) checkArgs(cmd *cobra.Command, args []string) error {
	if o.plan != "" {
		if len(args) > 0 || o.file != "" {
			return usageErr(errors.New("--plan names the source and the bundle itself: give no SRC or -o"))
		}
		return nil
	}
	if len(args) < 1 {
		return usageErr(fmt.Errorf("%s needs at least one SRC", cmd.CommandPath()))
	}
	if o.file == "" {
		return usageErr(fmt.Errorf("%s needs the bundle file: -o FILE", cmd.CommandPath()))
	}
	return checkFileName(o.file)
}

func (g *globals) runBundleCreate(ctx context.Context, srcArgs []string, o bundleCreateOptions) error {
	var ro release.Options
	var err error
	if o.plan != "" {
		ro, err = g.planOptions(&o.copyFlags)
	} else {
		ro, err = g.options(&o.copyFlags)
	}
	if err != nil {
		return err
	}
	bo, err := release.ReadBundleOptions(o.split, o.missingFrom, o.resume)
	if err != nil {
		return err
	}
	bar := g.startProgress("into "+o.file, &ro)
	if o.onEvent != nil {
		ro.Progress = func(e transfer.Event) { bar.Event(e); o.onEvent(e) }
	}
	var res *release.BundleResult
	if o.plan != "" {
		res, err = g.bundleFromPlan(ctx, o, ro, bo)
	} else {
		res, err = release.CreateBundle(ctx, srcArgs, o.file, ro, bo)
	}
	bar.Finish()
	switch {
	case err != nil:
		return release.BundleCreateHint(err, o.file)
	case o.DryRun:
		// -o names the bundle here: the plan is always the JSON file --plan runs.
		return g.writePlanFile(release.NewPlanFile(&res.Result), o.signKey, true)
	}
	return g.printBundle(res, o.reportFile)
}

// bundleFromPlan writes the bundle of --plan, checked against --public-key.
func (g *globals) bundleFromPlan(ctx context.Context, o bundleCreateOptions, ro release.Options, bo release.BundleOptions) (*release.BundleResult, error) {
	pf, err := release.ReadPlanFile(o.plan, o.verify.publicKeys)
	if err != nil {
		return nil, err
	}
	return release.CreateBundleFromPlan(ctx, pf, ro, bo)
}

// printBundle prints what bundle create wrote, and writes it to the
// --report file when named.
func (g *globals) printBundle(res *release.BundleResult, reportFile string) error {
	r := res.BundleReport(g.requests(), g.selected)
	if err := writeReport(reportFile, r); err != nil {
		return err
	}
	return g.show(r, r.WriteTable)
}

// checkFileName refuses an -o FILE that is an output format: on commands
// whose -o names a file, "-o json" is a slip, not a file called json.
func checkFileName(name string) error {
	switch name {
	case "table", "yaml", "json":
		return usageErr(fmt.Errorf("-o %s: here -o names the file to write; to write a file called %s, name it ./%s", name, name, name))
	}
	return nil
}
