// Package release is ferry's operations as library calls: each of ferry's
// commands is one call here, which a Go program makes as the command line
// does. It carries OCM component versions, with every image and blob their
// resources point at, between component repositories (Transfer,
// CreateBundle, Import, CopyArtifact), and creates, lists, signs, verifies,
// localizes and publishes them. Each call opens what it reads from
// (repository.Open), plans with package ocmtransfer, runs the plan with the
// one copy engine (transfer), and cleans up after a failure itself. Beside
// the calls: request types that read inputs as users state them (flag
// values, key and plan files), results that print themselves as tables, and
// Hint, the advice for the errors the calls return.
package release

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/transfer"
)

// ErrUsage marks options that do not go together or an argument that
// cannot be used; the error that wraps it says which.
var ErrUsage = errors.New("bad usage")

// UsageError is an error in how the operation was asked for (an argument
// that does not parse, options that do not go together): errors.Is(err,
// ErrUsage) holds for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string        { return e.Err.Error() }
func (e *UsageError) Unwrap() error        { return e.Err }
func (e *UsageError) Is(target error) bool { return target == ErrUsage || target == exitcode.Usage }

func usageError(msg string) error { return &UsageError{errors.New(msg)} }

// Options tune a transfer. The zero value copies every resource by value,
// without referenced versions, with 8 copies at once.
type Options struct {
	// Recursive carries the referenced component versions too, first, each
	// once.
	Recursive bool
	// ByReference keeps the accesses of images in other registries as they
	// are; local blobs are copied all the same.
	ByReference bool
	// Overwrite moves a tag (of an image or a component version) the target
	// holds with other content; without it, or SkipExisting, such a tag
	// stops the run with a *transfer.DriftError before anything is written
	// (the drift gate, see Promotion).
	Overwrite bool
	// Promotion holds the drift gate's other options, the CycloneDX BOM and
	// the mirror configuration (promote.go).
	Promotion
	// Platforms, when set, copies only these platforms of multi-platform
	// images (their indexes are filtered and labelled with the signed digest).
	Platforms []v1.Platform
	// NoAttachments leaves out signatures, attestations, SBOMs and other
	// referrers of the copied images.
	NoAttachments bool
	// Verify are the OCM signatures each version must carry (see
	// ocmtransfer.PlanOptions.Verify).
	Verify []ocmtransfer.SignatureCheck
	// VerifyImage, when set, must accept every image before it is planned
	// (ImageVerifier makes one that checks cosign signatures).
	VerifyImage transfer.ImageVerifier
	// ArtifactSets stores images copied into a CTF or bundle as OCM artifact
	// sets (local blobs), as `ocm transfer --copy-resources` writes them.
	ArtifactSets bool
	// UploadAs is how images copied by value are stored:
	// ocmtransfer.UploadAsOCIArtifact ("" too), or ocmtransfer.UploadAsLocalBlob
	// (in each version's OCI index, as the OCM v2 CLI stores them).
	UploadAs string
	// DryRun plans and writes nothing: the Result has the Plan only.
	DryRun bool
	// Repository opens the repositories named by specification: the
	// registry client to share (each registry is then pinged and
	// authenticated once per run) and whether plain HTTP is allowed off
	// loopback.
	Repository repository.Options
	// Images reads images that live in other registries than the source
	// (ociArtifact accesses); nil means the source's registry client
	// (Repository.Registry), or one with remote.New's defaults.
	Images oci.Reader
	// Jobs is how many blobs and manifests are in flight at once; <= 0
	// means 8.
	Jobs int
	// Progress, when set, is called from many goroutines as the run goes.
	Progress func(transfer.Event)
	// Logger receives debug lines; nil means none.
	Logger *slog.Logger
}

// Result is what a transfer planned and did.
type Result struct {
	// Source and Target are the repositories read and written, as
	// specified ("" where the call was given opened repositories).
	Source, Target string
	Plan           *ocmtransfer.Plan
	// Report is what the run did; nil after a dry run.
	Report *ocmtransfer.Report
	// Promoted is what the drift gate, the CycloneDX BOM and the mirror
	// configuration found and wrote (promote.go).
	Promoted
}

// Transfer carries component versions from the repository the sources
// name into the repository target names (specifications as
// component.ParseSources and repository.Open read them: REPO//NAME[:VERSION]
// or a repository alone for every component in it; a registry path or a
// CTF archive, created when it is missing). See TransferVersions.
func Transfer(ctx context.Context, sources []string, target string, o Options) (*Result, error) {
	src, versions, dst, err := openEnds(ctx, sources, target, o.Repository, !o.DryRun && !o.Check)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	res, err := TransferVersions(ctx, src, versions, dst, o)
	if err != nil {
		return nil, err
	}
	res.Source, res.Target = src.Spec.String(), dst.Spec.String()
	return res, nil
}

// openEnds opens the repository the sources name, expanded into component
// versions, and the one target names (for writing with write); the caller
// closes both.
func openEnds(ctx context.Context, sources []string, target string, o repository.Options, write bool) (*repository.Repository, []component.Ref, *repository.Repository, error) {
	dstSpec, err := component.ParseRepo(target)
	if err != nil {
		return nil, nil, nil, &UsageError{err}
	}
	src, versions, err := openSources(ctx, sources, o)
	if err != nil {
		return nil, nil, nil, err
	}
	o.Write = write
	dst, err := repository.OpenRepo(ctx, dstSpec, o)
	if err != nil {
		src.Close()
		return nil, nil, nil, err
	}
	return src, versions, dst, nil
}

// openSources opens the repository the sources name (see
// component.ParseSources) and expands them into component versions; the
// caller closes the repository.
func openSources(ctx context.Context, sources []string, o repository.Options) (*repository.Repository, []component.Ref, error) {
	refs, err := component.ParseSources(sources)
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	src, err := repository.OpenRepo(ctx, refs[0].Repo, o)
	if err != nil {
		return nil, nil, err
	}
	versions, err := src.Expand(ctx, refs)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, versions, nil
}

// planSources opens the source of a plan made earlier and checks that it
// still holds every planned digest (else an error wrapping ErrPlanStale);
// the caller closes both.
func planSources(ctx context.Context, p *PlanFile, o Options) (*repository.Repository, *ocmtransfer.SourceReader, error) {
	src, err := repository.Open(ctx, p.Source, o.Repository)
	if err != nil {
		return nil, nil, err
	}
	images, err := o.images(src)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	sources := &ocmtransfer.SourceReader{Store: src.Store(), Images: images}
	if err := checkPlanned(ctx, p.Plan, sources); err != nil {
		sources.Close()
		src.Close()
		return nil, nil, &PlanError{What: "the transfer to " + p.Target, Err: err}
	}
	return src, sources, nil
}

// TransferVersions carries the component versions refs of src (see
// repository.Repository.Expand: a ref without a version names every
// version, one without a component every component) into dst: it plans,
// then copies blobs, manifests and tags, and writes the component
// descriptors last. It takes dst over: it commits it (Close) when the
// transfer succeeded, and discards what it wrote (Abort) otherwise and
// after a dry run. src stays the caller's.
func TransferVersions(ctx context.Context, src *repository.Repository, refs []component.Ref, dst *repository.Repository, o Options) (res *Result, err error) {
	defer func() {
		if err != nil || o.DryRun || o.Check {
			dst.Abort()
		}
	}()
	if o.ArtifactSets && !dst.Intermediate() {
		return nil, usageError("--ocm-artifact-sets stores images inside a CTF archive; " + dst.Spec.String() + " is a registry")
	}
	if o.ArtifactSets && len(o.Platforms) > 0 {
		return nil, errArtifactSetsPlatforms
	}
	if err := o.checkUploadAs(); err != nil {
		return nil, err
	}
	dst.Connect(ctx) // the target is first asked after planning: meet it while the source is read
	versions, err := src.Expand(ctx, refs)
	if err != nil {
		return nil, err
	}
	images, err := o.images(src)
	if err != nil {
		return nil, err
	}
	spool := ""
	if o.ArtifactSets {
		if spool, err = os.MkdirTemp("", "ferry-sets-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(spool)
	}
	sources := &ocmtransfer.SourceReader{Store: src.Store(), Images: images}
	defer sources.Close()
	target := ocmtransfer.Target{Repository: dst.Repository, Scheme: dst.Spec.Scheme, Intermediate: dst.Intermediate()}
	co := o.componentOptions(spool)
	store := dst.Store()
	if !o.DryRun && !dst.Intermediate() {
		// The drift check's tags are resolved in the registry while the
		// plan is made, not after.
		ahead := transfer.NewLookahead(ctx, store, o.Jobs)
		defer ahead.Stop()
		co.Artifacts.Lookahead, store = ahead, ahead
	}
	plan, err := ocmtransfer.NewPlan(ctx, sources, src.Repository, versions, target, co)
	if err != nil {
		return nil, &PlanError{What: "the transfer to " + dst.Spec.String(), Err: err}
	}
	if o.Check {
		return o.check(ctx, plan, store)
	}
	if o.DryRun {
		return &Result{Plan: plan}, nil
	}
	drift, err := o.gate(ctx, plan, dst, store)
	if err != nil {
		return nil, err
	}
	rep, err := ocmtransfer.Run(ctx, plan, sources, dst.Store(), o.runOptions())
	if err != nil {
		return nil, &RunError{What: "transferring to " + dst.Spec.String(), Err: err}
	}
	if err := dst.Close(); err != nil {
		return nil, &CommitError{Target: dst.Spec.String(), Err: err}
	}
	res = &Result{Plan: plan, Report: rep, Promoted: Promoted{Drift: drift}}
	return res, o.promoted(res, dst)
}

var errArtifactSetsPlatforms = usageError("--ocm-artifact-sets stores whole images: it does not combine with --platform")

// checkUploadAs checks Options.UploadAs against the other options.
func (o Options) checkUploadAs() error {
	m, err := ocmtransfer.ParseUploadAs(o.UploadAs)
	switch {
	case err != nil:
		return &UsageError{fmt.Errorf("--upload-as: %w", err)}
	case m == ocmtransfer.UploadAsLocalBlob && o.ArtifactSets:
		return usageError("--upload-as localBlob stores images in the version's index; --ocm-artifact-sets stores them as artifact sets: choose one")
	case m == ocmtransfer.UploadAsLocalBlob && len(o.Platforms) > 0:
		return usageError("--upload-as localBlob stores whole images: it does not combine with --platform")
	}
	return nil
}

// images is the reader of images in other registries.
func (o Options) images(src *repository.Repository) (oci.Reader, error) {
	if o.Images != nil {
		return o.Images, nil
	}
	if r := src.Registry(); r != nil {
		return r, nil
	}
	return remote.New()
}

func (o Options) componentOptions(spool string) ocmtransfer.PlanOptions {
	// Overwrite: a version the target holds with other content reaches the
	// drift gate, which decides (Options.Overwrite, SkipExisting).
	return ocmtransfer.PlanOptions{Recursive: o.Recursive, ByReference: o.ByReference, Overwrite: true, Verify: o.Verify,
		ArtifactSets: spool, UploadAs: o.UploadAs, Artifacts: o.planOptions(), Jobs: o.Jobs}
}

func (o Options) planOptions() transfer.PlanOptions {
	return transfer.PlanOptions{Platforms: o.Platforms, NoAttachments: o.NoAttachments, VerifyImage: o.VerifyImage}
}

func (o Options) runOptions() transfer.Options {
	return transfer.Options{Jobs: o.Jobs, Progress: o.Progress, Logger: o.Logger}
}

// CopyArtifact copies the OCI artifact src (an image, an index, a chart, …)
// with every manifest and blob below it to dst, a repository with an
// optional tag (none: src's tag), through store. Blobs dst has already are
// skipped.
func CopyArtifact(ctx context.Context, store oci.Store, src, dst oci.Ref, o Options) (*Result, error) {
	if dst.Digest != (v1.Hash{}) {
		return nil, usageError("destination " + dst.String() + ": name a repository or a tag, not a digest (the digest is the source's)")
	}
	if dst.Tag == "" {
		dst.Tag = src.Tag
	}
	var tags []string
	if dst.Tag != "" {
		tags = []string{dst.Tag}
	}
	pl := transfer.NewPlanner(store, o.planOptions())
	if _, err := pl.Add(ctx, src, dst.Repo(), tags, src.String()); err != nil {
		return nil, &PlanError{What: "the copy of " + src.String(), Err: err}
	}
	plan := &ocmtransfer.Plan{Plan: *pl.Plan()} // no component versions: a plain copy
	if o.DryRun {
		return &Result{Plan: plan}, nil
	}
	rep, err := ocmtransfer.Run(ctx, plan, store, store, o.runOptions())
	if err != nil {
		return nil, &RunError{What: "copying " + src.String() + " to " + dst.String(), Err: err}
	}
	return &Result{Plan: plan, Report: rep}, nil
}

// ImageVerifier returns a transfer.ImageVerifier that accepts an image
// with a cosign signature that verifies with any of keys, and records the
// signatures it verified.
func ImageVerifier(keys ...crypto.PublicKey) transfer.ImageVerifier {
	return func(ctx context.Context, src oci.Reader, repo string, d v1.Descriptor) ([]transfer.Signature, error) {
		sigs, err := cosign.Verify(ctx, src, repo, d, keys...)
		if err != nil {
			return nil, err
		}
		out := make([]transfer.Signature, 0, len(sigs))
		for _, s := range sigs {
			out = append(out, transfer.Signature{Kind: bom.KindCosign, Digest: s.Digest.String(), Verified: true, Key: s.KeyID})
		}
		return out, nil
	}
}

// PlanError is a transfer that failed while it was planned: nothing was
// written.
type PlanError struct {
	What string // "the transfer to reg.local/air"
	Err  error
}

func (e *PlanError) Error() string { return "planning " + e.What + ": " + e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

// RunError is a transfer that failed while it copied: what was copied
// stays (blobs and manifests, never a tag or descriptor over missing
// content), and the same transfer again resumes.
type RunError struct {
	What string // "transferring to reg.local/air"
	Err  error
}

func (e *RunError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *RunError) Unwrap() error { return e.Err }

// CommitError is a target that could not be committed (a CTF tar written
// when it is closed).
type CommitError struct {
	Target string
	Err    error
}

func (e *CommitError) Error() string { return "writing " + e.Target + ": " + e.Err.Error() }
func (e *CommitError) Unwrap() error { return e.Err }
