package transfer

import (
	"context"
	"fmt"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Planner builds a Plan by reading manifests from a source. Its methods are
// safe for concurrent use, so callers may plan many artifacts at once.
type Planner struct {
	src oci.Reader
	o   PlanOptions

	mu        sync.Mutex
	plan      Plan
	arts      map[key]int     // index into plan.Artifacts
	blobs     map[v1.Hash]int // index into plan.Blobs
	found     attachmentCache
	manifests manifestCache

	verified map[key][]Signature // key{source repository, digest}: what VerifyImage said
}

// PlanOptions tune a Planner. The zero value copies every child of an
// index and every attachment.
type PlanOptions struct {
	// Platforms, when set, copies of each multi-platform index only the
	// children of these platforms (see Filter for how the index itself is
	// written). A child matches when OS and architecture are equal and,
	// where the option names them, variant and OS version ("linux/arm64"
	// matches linux/arm64/v8). An index with no matching child is an error
	// wrapping ErrNoPlatform. Indexes whose children name no platform, and
	// indexes below the first level, are copied whole.
	Platforms []v1.Platform
	// NoAttachments leaves out what belongs to a copied manifest: cosign's
	// signatures, attestations and SBOMs (tags sha256-<hex>.sig, .att,
	// .sbom) and OCI 1.1 referrers. By default they travel with it, into
	// the same target repository.
	NoAttachments bool
	// FilterAlways writes the filtered index of a platform-filtered copy even
	// where the target would take the original without its other children:
	// archives (CTFs and bundles) must stay closed, every index's children
	// present, for verification and for ocm.
	FilterAlways bool
	// Lookahead, when set, is told every target tag as the artifact it
	// names is planned, so that the drift check finds the tag resolved.
	Lookahead *Lookahead
	// VerifyImage, when set, is asked about every artifact added (not the
	// manifests below it) before anything of it is planned; an error stops
	// the plan. What it returns is recorded as the artifact's Signatures.
	VerifyImage ImageVerifier
}

// An ImageVerifier checks the signatures of the artifact d in the source
// repository repo, read through src, and returns those that verified.
type ImageVerifier func(ctx context.Context, src oci.Reader, repo string, d v1.Descriptor) ([]Signature, error)

// NewPlanner returns a Planner that reads from src, tuned by at most one
// PlanOptions (none means the zero value).
func NewPlanner(src oci.Reader, o ...PlanOptions) *Planner {
	p := &Planner{src: src, arts: map[key]int{}, blobs: map[v1.Hash]int{}}
	if len(o) > 0 {
		p.o = o[0]
	}
	return p
}

// Add plans the copy of the artifact that from names (by tag or digest) into
// the target repository to, tagged there with tags. It returns the
// artifact's descriptor. forWhat says what asked for it, for reports.
func (p *Planner) Add(ctx context.Context, from oci.Ref, to string, tags []string, forWhat string) (v1.Descriptor, error) {
	d, err := p.read(ctx, from)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("resolving %s: %w", from, oci.WithSide(err, oci.Source, "resolve"))
	}
	if from.Digest != (v1.Hash{}) && d.Digest != from.Digest {
		return v1.Descriptor{}, fmt.Errorf("resolving %s: the source answered with %s: %w", from, d.Digest, oci.ErrDigestMismatch)
	}
	return d, p.AddResolved(ctx, from.Repo(), d, to, tags, forWhat)
}

// AddResolved is Add for a manifest the caller resolved already: d in the
// source repository srcRepo.
func (p *Planner) AddResolved(ctx context.Context, srcRepo string, d v1.Descriptor, to string, tags []string, forWhat string) error {
	sigs, err := p.verify(ctx, srcRepo, d)
	if err != nil {
		return err
	}
	if err := p.add(ctx, srcRepo, d, to, forWhat, 0, attachment{}); err != nil {
		return err
	}
	p.addTags(key{to, d.Digest}, tags, sigs)
	return nil
}

// verify asks PlanOptions.VerifyImage about d in srcRepo, once however
// many resources or targets name it.
func (p *Planner) verify(ctx context.Context, srcRepo string, d v1.Descriptor) ([]Signature, error) {
	if p.o.VerifyImage == nil {
		return nil, nil
	}
	k := key{srcRepo, d.Digest}
	p.mu.Lock()
	sigs, ok := p.verified[k]
	p.mu.Unlock()
	if ok {
		return sigs, nil
	}
	sigs, err := p.o.VerifyImage(ctx, p.src, srcRepo, d)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.verified == nil {
		p.verified = map[key][]Signature{}
	}
	p.verified[k] = sigs
	p.mu.Unlock()
	return sigs, nil
}

func (p *Planner) addTags(k key, tags []string, sigs []Signature) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := &p.plan.Artifacts[p.arts[k]]
	if len(sigs) > 0 {
		a.Signatures = sigs
	}
	for _, t := range tags {
		if !slices.Contains(a.Tags, t) {
			a.Tags = append(a.Tags, t)
			if p.o.Lookahead != nil {
				p.o.Lookahead.Start(a.Target, t)
			}
		}
	}
}

// maxDepth bounds how deep indexes may nest.
const maxDepth = 8

// add plans the manifest d of srcRepo into to, with everything below it
// and, unless NoAttachments, its attachments. att marks an attachment.
func (p *Planner) add(ctx context.Context, srcRepo string, d v1.Descriptor, to, forWhat string, depth int, att attachment) error {
	k := key{to, d.Digest}
	p.mu.Lock()
	_, done := p.arts[k]
	p.mu.Unlock()
	if done {
		return nil
	}
	if depth > maxDepth {
		return fmt.Errorf("reading %s@%s: indexes nest more than %d deep", srcRepo, d.Digest, maxDepth)
	}
	switch d.MediaType {
	case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return fmt.Errorf("reading %s@%s: Docker schema 1 manifests are not supported (convert the image to schema 2 or OCI): %w", srcRepo, d.Digest, oci.ErrUnsupported)
	}
	if !oci.IsManifest(d.MediaType) {
		return fmt.Errorf("reading %s@%s: media type %q is not a manifest or index: %w", srcRepo, d.Digest, d.MediaType, oci.ErrUnsupported)
	}
	b, err := p.manifest(ctx, srcRepo, d)
	if err != nil {
		return fmt.Errorf("reading manifest %s@%s: %w", srcRepo, d.Digest, oci.WithSide(err, oci.Source, "fetch"))
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return fmt.Errorf("reading manifest %s@%s: %w", srcRepo, d.Digest, err)
	}
	a := Artifact{Source: srcRepo, Target: to, Digest: d.Digest, MediaType: d.MediaType, Size: d.Size,
		Platform: d.Platform, For: forWhat, manifest: b}
	if err := att.mark(&a, b); err != nil {
		return fmt.Errorf("reading manifest %s@%s: %w", srcRepo, d.Digest, err)
	}
	if oci.IsIndex(d.MediaType) {
		keep := make([]bool, len(kids))
		for i := range keep {
			keep[i] = true
		}
		if depth == 0 && a.Attachment == "" {
			if keep, a.Filter, err = filterChildren(srcRepo, d, b, kids, p.o.Platforms); err != nil {
				return err
			}
			if a.Filter != nil && p.o.FilterAlways {
				a.Filter.Forced, a.Filter.Landed = true, true
			}
		}
		childAtt := attachment{}
		if a.Attachment == kindReferrers {
			childAtt.kind = kindReferrer // the referrers tag schema lists them
		}
		for i, c := range kids {
			if !keep[i] {
				continue
			}
			if !oci.IsManifest(c.MediaType) {
				// An index may name non-manifest artifacts (rare); copy them as blobs.
				p.AddBlob(srcRepo, c, to)
				a.Blobs = append(a.Blobs, c.Digest)
				continue
			}
			if err := p.add(ctx, srcRepo, c, to, forWhat, depth+1, childAtt); err != nil {
				return err
			}
			a.Children = append(a.Children, c.Digest)
		}
	} else {
		for _, c := range kids {
			if oci.IsNonDistributable(c) {
				continue // non-distributable layers stay where their URLs say
			}
			p.AddBlob(srcRepo, c, to)
			a.Blobs = append(a.Blobs, c.Digest)
		}
	}
	p.mu.Lock()
	_, done = p.arts[k]
	if !done {
		p.arts[k] = len(p.plan.Artifacts)
		p.plan.Artifacts = append(p.plan.Artifacts, a)
	}
	p.mu.Unlock()
	if done || p.o.NoAttachments || a.Attachment == kindReferrers {
		return nil
	}
	return p.attach(ctx, srcRepo, d.Digest, to, forWhat, depth)
}

// AddBlob plans the copy of the blob d, read from the source repository
// srcRepo, into the target repository to: content that no manifest of the
// plan names, such as a component version's local blobs (a Finisher
// writes what names them).
func (p *Planner) AddBlob(srcRepo string, d v1.Descriptor, to string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i, ok := p.blobs[d.Digest]; ok {
		p.plan.Blobs[i].addTarget(to)
		return
	}
	p.blobs[d.Digest] = len(p.plan.Blobs)
	p.plan.Blobs = append(p.plan.Blobs, Blob{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType, Source: srcRepo, Targets: []string{to}})
}

// Plan returns the plan built so far. The Planner must not be used after.
func (p *Planner) Plan() *Plan {
	p.manifests.mu.Lock()
	p.manifests.m = nil // the plan's artifacts keep what they need
	p.manifests.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	return &p.plan
}

// Artifact returns the artifact planned as digest in the target repository
// target, or nil. It may be changed until Plan is called.
func (p *Planner) Artifact(target string, digest v1.Hash) *Artifact {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.arts[key{target, digest}]
	if !ok {
		return nil
	}
	return &p.plan.Artifacts[i]
}

// Landed is Plan.Landed on the plan being built.
func (p *Planner) Landed(target string, digest v1.Hash) (v1.Descriptor, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plan.Landed(target, digest)
}
