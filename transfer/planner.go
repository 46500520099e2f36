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

	mu    sync.Mutex
	plan  Plan
	arts  map[key]int     // index into plan.Artifacts
	blobs map[v1.Hash]int // index into plan.Blobs
}

// NewPlanner returns a Planner that reads from src.
func NewPlanner(src oci.Reader) *Planner {
	return &Planner{src: src, arts: map[key]int{}, blobs: map[v1.Hash]int{}}
}

// Add plans the copy of the artifact that from names (by tag or digest) into
// the target repository to, tagged there with tags. It returns the
// artifact's descriptor. forWhat says what asked for it, for reports.
func (p *Planner) Add(ctx context.Context, from oci.Ref, to string, tags []string, forWhat string) (v1.Descriptor, error) {
	d, err := p.src.Resolve(ctx, from)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("resolving %s: %w", from, oci.WithSide(err, oci.Source, "resolve"))
	}
	if from.Digest != (v1.Hash{}) && d.Digest != from.Digest {
		return v1.Descriptor{}, fmt.Errorf("resolving %s: the source answered with %s: %w", from, d.Digest, oci.ErrDigestMismatch)
	}
	if err := p.add(ctx, from.Repo(), d, to, forWhat, 0); err != nil {
		return v1.Descriptor{}, err
	}
	if len(tags) > 0 {
		p.mu.Lock()
		a := &p.plan.Artifacts[p.arts[key{to, d.Digest}]]
		for _, t := range tags {
			if !slices.Contains(a.Tags, t) {
				a.Tags = append(a.Tags, t)
			}
		}
		p.mu.Unlock()
	}
	return d, nil
}

// maxDepth bounds how deep indexes may nest.
const maxDepth = 8

func (p *Planner) add(ctx context.Context, srcRepo string, d v1.Descriptor, to, forWhat string, depth int) error {
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
	b, err := oci.FetchBytes(ctx, p.src, srcRepo, d, oci.MaxManifestBytes)
	if err != nil {
		return fmt.Errorf("reading manifest %s@%s: %w", srcRepo, d.Digest, oci.WithSide(err, oci.Source, "fetch"))
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return fmt.Errorf("reading manifest %s@%s: %w", srcRepo, d.Digest, err)
	}
	a := Artifact{Source: srcRepo, Target: to, Digest: d.Digest, MediaType: d.MediaType, Size: d.Size,
		Platform: d.Platform, For: forWhat, manifest: b}
	if oci.IsIndex(d.MediaType) {
		for _, c := range kids {
			if !oci.IsManifest(c.MediaType) {
				// An index may name non-manifest artifacts (rare); copy them as blobs.
				p.addBlob(srcRepo, c, to)
				a.Blobs = append(a.Blobs, c.Digest)
				continue
			}
			if err := p.add(ctx, srcRepo, c, to, forWhat, depth+1); err != nil {
				return err
			}
			a.Children = append(a.Children, c.Digest)
		}
	} else {
		for _, c := range kids {
			if isForeign(c) {
				continue // non-distributable layers stay where their URLs say
			}
			p.addBlob(srcRepo, c, to)
			a.Blobs = append(a.Blobs, c.Digest)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, done := p.arts[k]; !done {
		p.arts[k] = len(p.plan.Artifacts)
		p.plan.Artifacts = append(p.plan.Artifacts, a)
	}
	return nil
}

func isForeign(d v1.Descriptor) bool {
	return d.MediaType == types.DockerForeignLayer || d.MediaType == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
		d.MediaType == "application/vnd.oci.image.layer.nondistributable.v1.tar"
}

func (p *Planner) addBlob(srcRepo string, d v1.Descriptor, to string) {
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
	p.mu.Lock()
	defer p.mu.Unlock()
	return &p.plan
}
