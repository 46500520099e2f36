package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
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
	file          string
	split         string
	resume        bool
	missingFrom   string
	recursive     bool
	platforms     []string
	noAttachments bool
	jobs          int
	reportFile    string
	artifactSets  bool
	verify        verifyFlags

	onEvent func(transfer.Event) // tests: sees every event of the run
}

func newBundleCreateCmd(g *globals) *cobra.Command {
	var o bundleCreateOptions
	cmd := &cobra.Command{
		Use:   "create SRC... -o FILE",
		Short: "Write component versions with every image and blob into a bundle",
		Long: `create copies component versions, with every image and blob their resources
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
complete; platform filtering and image attachments do not apply to them.`,
		Example: `  # a release with its images, in one file
  ferry bundle create ghcr.io/acme/releases//example.com/podinfo:6.3.5 -o podinfo.tar

  # on 4 GiB media, only what the air-gapped registry lacks
  ferry bundle create ghcr.io/acme/releases//example.com/podinfo:6.3.6 -o podinfo.tar \
      --split 4GiB --missing-from inventory.json

  # the connection broke: continue
  ferry bundle create ghcr.io/acme/releases//example.com/podinfo:6.3.5 -o podinfo.tar --resume`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageErr(fmt.Errorf("%s needs at least one SRC", cmd.CommandPath()))
			}
			if o.file == "" {
				return usageErr(fmt.Errorf("%s needs the bundle file: -o FILE", cmd.CommandPath()))
			}
			return checkFileName(o.file)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runBundleCreate(cmd.Context(), args, o)
		},
	}
	f := cmd.Flags()
	// -o names the file here, as in 'ferry inventory'; the summary is a table.
	f.StringVarP(&o.file, "output", "o", "", "the bundle file to write")
	f.StringVar(&o.split, "split", "", "cut the bundle into volumes of this size (4GiB, 700MB, 1000000)")
	f.BoolVar(&o.resume, "resume", false, "continue the partial bundle an interrupted create left")
	f.StringVar(&o.missingFrom, "missing-from", "", "leave out what this inventory (from 'ferry inventory') says the target holds")
	f.BoolVarP(&o.recursive, "recursive", "r", false, "carry referenced component versions too, each once")
	f.StringSliceVar(&o.platforms, "platform", nil, "carry only these platforms of multi-platform images (os/arch[/variant]); their indexes are rewritten and labelled with the signed digest")
	f.BoolVar(&o.noAttachments, "no-attachments", false, "leave out signatures, attestations, SBOMs and other referrers of the images")
	f.IntVar(&o.jobs, "jobs", 8, "blobs fetched at once")
	f.StringVar(&o.reportFile, "report", "", "write a JSON report of what was written, with the bill of materials, to this file")
	f.BoolVar(&o.artifactSets, "ocm-artifact-sets", false, "store images as OCM artifact sets (local blobs, as 'ocm transfer --copy-resources' does), so that 'ocm verify' can check the bundle file itself")
	o.verify.add(cmd)
	return cmd
}

// parseSize reads a byte count with an optional unit: KB, MB, GB, TB (powers
// of 1000), KiB, MiB, GiB, TiB (powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with KB, MB, GB, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// sourceVersions opens the repository of the SRC arguments and expands them
// into component versions, as 'ferry transfer' does.
func (g *globals) sourceVersions(ctx context.Context, srcArgs []string) (*componentRepo, []component.Ref, error) {
	var refs []component.Ref
	for _, s := range srcArgs {
		if strings.Contains(s, "//") && !strings.HasSuffix(s, "//") {
			ref, err := parseComponentRef(s, false)
			if err != nil {
				return nil, nil, err
			}
			refs = append(refs, ref)
			continue
		}
		spec, err := component.ParseRepo(strings.TrimSuffix(s, "//"))
		if err != nil {
			return nil, nil, usageErr(err)
		}
		refs = append(refs, component.Ref{Repo: spec})
	}
	for _, r := range refs[1:] {
		if r.Repo.String() != refs[0].Repo.String() {
			return nil, nil, usageErr(fmt.Errorf("all SRC arguments must be in one repository: %s and %s differ", refs[0].Repo, r.Repo))
		}
	}
	src, err := g.openComponentRepo(refs[0].Repo, false)
	if err != nil {
		return nil, nil, err
	}
	var versions []component.Ref
	for _, r := range refs {
		names := []string{r.Component}
		if r.Component == "" {
			if names, err = src.Components(ctx); err != nil {
				src.Close()
				return nil, nil, fmt.Errorf("listing components in %s: %w (name them: REPO//NAME)", src.spec, err)
			}
		}
		for _, n := range names {
			rr := r
			rr.Component = n
			vs, err := versionsOf(ctx, src, rr)
			if err != nil {
				src.Close()
				return nil, nil, err
			}
			for _, v := range vs {
				rr.Version = v
				versions = append(versions, rr)
			}
		}
	}
	return src, versions, nil
}

// bundleContents is what a plan writes into a bundle.
func bundleContents(p *transfer.Plan) bundle.Contents {
	c := bundle.Contents{Tool: "ferry " + buildVersion().Version, BOM: p.BOM()}
	for _, w := range p.Writes() {
		c.Entries = append(c.Entries, bundle.Entry{Repo: w.Repo, Descriptor: w.Descriptor, Manifest: w.Manifest, Tags: w.Tags})
	}
	for _, cv := range p.Components {
		c.Components = append(c.Components, bundle.Component{Name: cv.Name, Version: cv.Version, Repository: cv.Target, Tag: cv.Tag, Digest: cv.Digest})
	}
	for _, a := range p.Artifacts {
		c.Artifacts = append(c.Artifacts, bundle.Artifact{Repository: a.Target, Digest: a.Digest, MediaType: a.MediaType, Size: a.Size,
			Tags: a.Tags, Platform: a.Platform, Source: a.Source, For: a.For})
	}
	return c
}

// createResult is what 'bundle create' prints.
type createResult struct {
	Bundle     string           `json:"bundle"`
	Volumes    []bundle.Volume  `json:"volumes"`
	Size       int64            `json:"size"`
	Components int              `json:"components"`
	Artifacts  int              `json:"artifacts"`
	Blobs      int              `json:"blobs"`
	LeftOut    int              `json:"leftOut,omitempty"`
	Resumed    bundle.Resumed   `json:"resumed"`
	Report     runSummary       `json:"report"`
	Metadata   *bundle.Metadata `json:"-"`
}

func (g *globals) runBundleCreate(ctx context.Context, srcArgs []string, o bundleCreateOptions) error {
	if o.artifactSets && len(o.platforms) > 0 {
		return usageErr(errors.New("--ocm-artifact-sets stores whole images: it does not combine with --platform"))
	}
	checks, verifyImage, err := o.verify.gates()
	if err != nil {
		return err
	}
	var co bundle.CreateOptions
	if o.split != "" {
		n, err := parseSize(o.split)
		if err != nil {
			return usageErr(fmt.Errorf("--split: %w", err))
		}
		co.VolumeSize = n
	}
	co.Resume, co.Jobs = o.resume, o.jobs
	if o.missingFrom != "" {
		b, err := os.ReadFile(o.missingFrom)
		if err != nil {
			return fmt.Errorf("reading --missing-from: %w", err)
		}
		if co.MissingFrom, err = bundle.ParseInventory(b); err != nil {
			return fmt.Errorf("reading --missing-from %s: %w", o.missingFrom, err)
		}
	}
	src, versions, err := g.sourceVersions(ctx, srcArgs)
	if err != nil {
		return err
	}
	defer src.Close()
	w, err := bundle.Create(o.file, co)
	if err != nil {
		if errors.Is(err, bundle.ErrPartialExists) {
			return withHint(err, "an earlier create of %s stopped: add --resume to continue it, or delete %s.partial* to start afresh", o.file, o.file)
		}
		if errors.Is(err, fs.ErrExist) {
			return withHint(err, "the bundle exists already: remove it or choose another -o")
		}
		return err
	}
	images, err := g.remoteStore()
	if err != nil {
		w.Abort()
		return err
	}
	sources := &transfer.Sources{Store: src.Store(), Images: images}
	defer sources.Close()
	// The writer holds nothing yet: the plan is that of a transfer into an
	// empty CTF, the same on every run, so a resume finds the same layout.
	target := transfer.Target{Repository: ocireg.New(w, ""), Intermediate: true}
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		w.Abort()
		return err
	}
	spool := ""
	if o.artifactSets {
		spool = o.file + ".partial.sets"
	}
	plan, err := transfer.NewComponentPlan(ctx, sources, src.Repository, versions, target,
		transfer.ComponentOptions{Recursive: o.recursive, Verify: checks, ArtifactSets: spool,
			Plan: transfer.PlanOptions{Platforms: platforms, NoAttachments: o.noAttachments, VerifyImage: verifyImage}})
	if err != nil {
		w.Abort()
		return verifyHint(fmt.Errorf("planning the bundle %s: %w", o.file, err))
	}
	if err := w.Begin(ctx, bundleContents(plan)); err != nil {
		w.Abort()
		if errors.Is(err, bundle.ErrPlanChanged) {
			return withHint(err, "the source or the options changed since the partial bundle was started: delete %s.partial* and create it again", o.file)
		}
		return err
	}
	bar := g.newProgress("writing "+o.file, plan.Stats().TargetBytes)
	progress := bar.event
	if o.onEvent != nil {
		progress = func(e transfer.Event) { bar.event(e); o.onEvent(e) }
	}
	rep, err := transfer.Run(ctx, plan, sources, w, transfer.Options{Jobs: o.jobs, Progress: progress, Logger: g.logger()})
	bar.stop()
	if err != nil {
		w.Abort()
		return withHint(fmt.Errorf("writing bundle %s: %w", o.file, err),
			"the partial bundle is kept: run the same command with --resume to fetch only what is missing")
	}
	vols, err := w.Close()
	if err != nil {
		w.Abort()
		return err
	}
	if spool != "" {
		if err := os.RemoveAll(spool); err != nil {
			g.logger().Warn("removing the artifact-set spool", "dir", spool, "err", err)
		}
	}
	md := w.Metadata()
	res := createResult{Bundle: o.file, Volumes: vols, Size: w.Size(), Components: len(md.Components), Artifacts: len(md.Artifacts),
		Blobs: len(md.Blobs), Resumed: w.Resumed(), Report: g.summary(rep), Metadata: md}
	if md.LeftOut != nil {
		res.LeftOut = len(md.LeftOut.Blobs)
	}
	if err := writeReport(o.reportFile, res); err != nil {
		return err
	}
	return g.print(res, func(t *tableWriter) {
		t.row("FILE", "SIZE")
		for _, v := range vols {
			t.row(v.Path, sizeString(v.Size))
		}
		t.row("")
		line := fmt.Sprintf("%d component versions, %d artifacts, %d blobs in %s; fetched %s",
			res.Components, res.Artifacts, res.Blobs, sizeString(res.Size), sizeString(rep.BytesCopied))
		if res.Resumed.Blobs > 0 {
			line += fmt.Sprintf(" (resumed: %d blobs, %s already there)", res.Resumed.Blobs, sizeString(res.Resumed.Bytes))
		}
		if res.LeftOut > 0 {
			line += fmt.Sprintf("; left out %d blobs the target holds", res.LeftOut)
		}
		t.row(line)
		if v := verifiedLine(md.BOM); v != "" {
			t.row(v)
		}
	})
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
