package release

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/buildinfo"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/repository"
)

// BundleOptions tune CreateBundle beyond the transfer's Options.
type BundleOptions struct {
	// VolumeSize, when > 0, cuts the bundle into volumes FILE.000, FILE.001, …
	// of this many bytes, with a FILE.sha256 sidecar.
	VolumeSize int64
	// Resume continues the partial bundle an interrupted create left.
	Resume bool
	// MissingFrom leaves out what this inventory says the target holds.
	MissingFrom *bundle.Inventory
	// Tool names the writer in the bundle's metadata ("ferry v0.4.0");
	// "" means this build of ferry.
	Tool string
}

// ReadBundleOptions reads bundle create's options as users give them: the
// volume size ("4GiB", "700MB", "1000000"; "" for one file), the inventory
// file of a differential bundle ("" for a full one) and whether to resume.
func ReadBundleOptions(volumeSize, missingFrom string, resume bool) (BundleOptions, error) {
	bo := BundleOptions{Resume: resume}
	if volumeSize != "" {
		n, err := bundle.ParseSize(volumeSize)
		if err != nil {
			return bo, &UsageError{fmt.Errorf("--split: %w", err)}
		}
		bo.VolumeSize = n
	}
	if missingFrom != "" {
		b, err := os.ReadFile(missingFrom)
		if err != nil {
			return bo, fmt.Errorf("reading --missing-from: %w", err)
		}
		if bo.MissingFrom, err = bundle.ParseInventory(b); err != nil {
			return bo, fmt.Errorf("reading --missing-from %s: %w", missingFrom, err)
		}
	}
	return bo, nil
}

// BundleResult is what CreateBundle wrote.
type BundleResult struct {
	Result
	File     string // the bundle, as named
	Volumes  []bundle.Volume
	Size     int64
	Resumed  bundle.Resumed
	Metadata *bundle.Metadata
}

// CreateBundle writes the component versions the sources name (as
// Transfer reads them), with every image and blob their resources point
// at, into the offline bundle file. The bundle is laid out before the first
// byte is fetched; until it is complete it is FILE.partial with a journal,
// which a failed run keeps for BundleOptions.Resume. With Options.DryRun it
// only plans (the Result's Plan; no file is touched). Overwrite and
// ByReference do not apply.
func CreateBundle(ctx context.Context, sources []string, file string, o Options, bo BundleOptions) (*BundleResult, error) {
	if o.ArtifactSets && len(o.Platforms) > 0 {
		return nil, errArtifactSetsPlatforms
	}
	if o.ArtifactSets && o.DryRun {
		return nil, usageError("--ocm-artifact-sets makes the sets while it plans: it does not combine with --dry-run")
	}
	if err := o.checkUploadAs(); err != nil {
		return nil, err
	}
	src, versions, err := openSources(ctx, sources, o.Repository)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	images, err := o.images(src)
	if err != nil {
		return nil, err
	}
	srcs := &ocmtransfer.SourceReader{Store: src.Store(), Images: images}
	defer srcs.Close()
	if o.DryRun {
		plan, err := planBundle(ctx, src, versions, srcs, emptyStore{}, "", o)
		if err != nil {
			return nil, &PlanError{What: "the bundle " + file, Err: err}
		}
		return &BundleResult{Result: Result{Plan: plan, Source: src.Spec.String(), Target: file}, File: file}, nil
	}
	w, err := createBundle(ctx, file, o, bo)
	if err != nil {
		return nil, err
	}
	spool := ""
	if o.ArtifactSets {
		spool = file + ".partial.sets"
	}
	// The writer holds nothing yet: the plan is that of a transfer into an
	// empty CTF, the same on every run, so a resume finds the same layout.
	plan, err := planBundle(ctx, src, versions, srcs, w, spool, o)
	if err != nil {
		w.Abort()
		return nil, &PlanError{What: "the bundle " + file, Err: err}
	}
	res, err := writeBundle(ctx, plan, srcs, w, file, o, bo)
	if err != nil {
		w.Abort()
		return nil, err
	}
	if spool != "" {
		if err := os.RemoveAll(spool); err != nil && o.Logger != nil {
			o.Logger.Warn("removing the artifact-set spool", "dir", spool, "err", err)
		}
	}
	res.Source, res.Target = src.Spec.String(), file
	return res, nil
}

// CreateBundleFromPlan writes the bundle a plan made by CreateBundle with
// Options.DryRun names (its Target), exactly as planned: the source must
// still hold every planned digest (else an error wrapping ErrPlanStale, and
// no file is touched).
func CreateBundleFromPlan(ctx context.Context, p *PlanFile, o Options, bo BundleOptions) (*BundleResult, error) {
	src, sources, err := planSources(ctx, p, o)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	defer sources.Close()
	w, err := createBundle(ctx, p.Target, o, bo)
	if err != nil {
		return nil, err
	}
	res, err := writeBundle(ctx, p.Plan, sources, w, p.Target, o, bo)
	if err != nil {
		w.Abort()
		return nil, err
	}
	res.Source, res.Target = p.Source, p.Target
	return res, nil
}

// createBundle prepares the bundle file: another create of the same file
// is waited for up to o.Repository.LockTimeout.
func createBundle(ctx context.Context, file string, o Options, bo BundleOptions) (*bundle.Writer, error) {
	return bundle.Create(file, bundle.CreateOptions{VolumeSize: bo.VolumeSize, Resume: bo.Resume, MissingFrom: bo.MissingFrom, Jobs: o.Jobs,
		LockTimeout: o.Repository.LockTimeout, LockContext: ctx})
}

// planBundle plans the versions into the empty bundle target.
func planBundle(ctx context.Context, src *repository.Repository, versions []component.Ref, sources *ocmtransfer.SourceReader, target oci.Store, spool string, o Options) (*ocmtransfer.Plan, error) {
	co := o.componentOptions(spool)
	co.ByReference, co.Overwrite = false, false
	return ocmtransfer.NewPlan(ctx, sources, src.Repository, versions, ocmtransfer.Target{Repository: ocireg.New(target, ""), Intermediate: true}, co)
}

// writeBundle lays the plan out in w, runs it and closes w.
func writeBundle(ctx context.Context, plan *ocmtransfer.Plan, sources *ocmtransfer.SourceReader, w *bundle.Writer, file string, o Options, bo BundleOptions) (*BundleResult, error) {
	if bo.Tool == "" {
		bo.Tool = buildinfo.Tool()
	}
	contents := bundleContents(plan, bo.Tool)
	if o.CycloneDX {
		doc, err := contents.BOM.CycloneDX(bo.Tool)
		if err != nil {
			return nil, err
		}
		contents.CycloneDX = doc
	}
	if err := w.Begin(ctx, contents); err != nil {
		return nil, err
	}
	rep, err := ocmtransfer.Run(ctx, plan, sources, w, o.runOptions())
	if err != nil {
		return nil, &RunError{What: "writing bundle " + file, Err: err}
	}
	vols, err := w.Close()
	if err != nil {
		return nil, err
	}
	return &BundleResult{Result: Result{Plan: plan, Report: rep, Promoted: Promoted{CycloneDX: contents.CycloneDX}}, File: file, Volumes: vols, Size: w.Size(), Resumed: w.Resumed(), Metadata: w.Metadata()}, nil
}

// bundleContents is what a plan writes into a bundle.
func bundleContents(p *ocmtransfer.Plan, tool string) bundle.Contents {
	c := bundle.Contents{Tool: tool, BOM: p.BOM()}
	for _, w := range p.Writes() {
		c.Entries = append(c.Entries, bundle.Entry{Repo: w.Repo, Descriptor: w.Descriptor, Manifest: w.Manifest, Tags: w.Tags, Data: w.Data})
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

// Import transfers every component version of the bundle file (a ferry
// bundle, its first volume, or any CTF ocm wrote) into the repository
// target names, by the rules of Transfer. Everything is read from the
// bundle, verified while it streams: resources it does not hold keep their
// accesses, and nothing but file and target is contacted. A differential
// bundle is imported only when the target holds everything it left out
// (else a *LeftOutError).
func Import(ctx context.Context, file, target string, o Options) (*Result, error) {
	dstSpec, err := component.ParseRepo(target)
	if err != nil {
		return nil, &UsageError{err}
	}
	b, err := bundle.Open(ctx, file)
	if err != nil {
		return nil, &DamagedError{File: file, Err: err}
	}
	defer b.Close()
	ro := o.Repository
	ro.Write = !o.Check
	dst, err := repository.OpenRepo(ctx, dstSpec, ro)
	if err != nil {
		return nil, err
	}
	res, err := importBundle(ctx, file, b, dst, o)
	if err != nil || o.Check {
		dst.Abort()
	}
	return res, err
}

func importBundle(ctx context.Context, file string, b *bundle.Bundle, dst *repository.Repository, o Options) (*Result, error) {
	if err := checkLeftOut(ctx, file, b, dst); err != nil {
		return nil, err
	}
	versions, err := bundleVersions(ctx, b)
	if err != nil {
		return nil, err
	}
	bs := b.ImportStore(dst.Store(), dst.Base())
	sources := &ocmtransfer.SourceReader{Store: bs}
	defer sources.Close()
	target := ocmtransfer.Target{Repository: dst.Repository, Scheme: dst.Spec.Scheme, Intermediate: dst.Intermediate()}
	co := o.componentOptions("")
	co.ByReference, co.Recursive, co.ArtifactSets = true, false, ""
	what := file + " into " + dst.Spec.String()
	if o.MirrorConfig != "" && b.Metadata != nil {
		o.origins = map[v1.Hash]string{}
		for _, a := range b.Metadata.Artifacts {
			o.origins[a.Digest] = a.Source
		}
	}
	plan, err := ocmtransfer.NewPlan(ctx, sources, ocireg.New(bs, ""), versions, target, co)
	if err != nil {
		return nil, &PlanError{What: "the import of " + what, Err: err}
	}
	if o.Check {
		return o.check(ctx, plan, dst.Store())
	}
	drift, err := o.gate(ctx, plan, dst, dst.Store())
	if err != nil {
		return nil, err
	}
	rep, err := ocmtransfer.Run(ctx, plan, sources, dst.Store(), o.runOptions())
	if err != nil {
		return nil, &RunError{What: "importing " + what, Err: err}
	}
	if err := dst.Close(); err != nil {
		return nil, &CommitError{Target: dst.Spec.String(), Err: err}
	}
	res := &Result{Plan: plan, Report: rep, Promoted: Promoted{Drift: drift}}
	return res, o.promoted(res, dst)
}

// checkLeftOut refuses a differential bundle whose target lacks what it
// left out.
func checkLeftOut(ctx context.Context, file string, b *bundle.Bundle, dst *repository.Repository) error {
	if b.Metadata == nil || b.Metadata.LeftOut == nil {
		return nil
	}
	missing, err := b.MissingLeftOut(ctx, dst.Store(), dst.Base())
	if err != nil || len(missing) == 0 {
		return err
	}
	return &LeftOutError{File: file, Inventory: b.Metadata.LeftOut.Base, Target: dst.Spec.String(), TargetBase: dst.Base(), Missing: missing}
}

// LeftOutError is a differential bundle whose target lacks some of what the
// bundle left out.
type LeftOutError struct {
	File       string            // the bundle
	Inventory  string            // the base the inventory was taken of
	Target     string            // the import's target
	TargetBase string            // its registry path
	Missing    []bundle.HeldBlob // what the target lacks
}

func (e *LeftOutError) Error() string {
	var names []string
	for _, m := range e.Missing[:min(len(e.Missing), 3)] {
		repo := m.Repository
		if e.TargetBase != "" {
			repo = e.TargetBase + "/" + repo
		}
		names = append(names, repo+"@"+m.Digest.String())
	}
	list := strings.Join(names, ", ")
	if more := len(e.Missing) - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return fmt.Sprintf("importing %s: the bundle is differential (made against an inventory of %s) and %s lacks %s it left out: %s: %v",
		e.File, e.Inventory, e.Target, human.Count(len(e.Missing), "blob"), list, oci.ErrNotFound)
}

func (e *LeftOutError) Unwrap() error { return oci.ErrNotFound }

// DamagedError is a bundle that cannot be opened: damaged or incomplete.
type DamagedError struct {
	File string
	Err  error
}

func (e *DamagedError) Error() string { return e.Err.Error() }
func (e *DamagedError) Unwrap() error { return e.Err }

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

// Inventory records what the repository the sources name (as Transfer
// reads them) holds of those component versions, the versions they
// reference and the images they name inside it: the input of a
// differential bundle (BundleOptions.MissingFrom).
func Inventory(ctx context.Context, sources []string, o repository.Options) (*bundle.Inventory, error) {
	repo, versions, err := openSources(ctx, sources, o)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	inv, err := bundle.TakeInventory(ctx, repo.Repository, versions)
	if err != nil {
		return nil, fmt.Errorf("taking the inventory of %s: %w", repo.Spec, err)
	}
	return inv, nil
}
