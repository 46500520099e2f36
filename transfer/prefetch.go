package transfer

import (
	"context"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// manifestCache holds the manifests the planner read, so that Prefetch can
// read ahead of the Add that plans them.
type manifestCache struct {
	mu sync.Mutex
	m  map[key]*manifestEntry // key{source repository, digest}
}

type manifestEntry struct {
	once sync.Once
	b    []byte
	err  error
}

// manifest returns the bytes of the manifest d of srcRepo, read from the
// source once however many times it is asked for.
func (p *Planner) manifest(ctx context.Context, srcRepo string, d v1.Descriptor) ([]byte, error) {
	p.manifests.mu.Lock()
	if p.manifests.m == nil {
		p.manifests.m = map[key]*manifestEntry{}
	}
	e, ok := p.manifests.m[key{srcRepo, d.Digest}]
	if !ok {
		e = &manifestEntry{}
		p.manifests.m[key{srcRepo, d.Digest}] = e
	}
	p.manifests.mu.Unlock()
	e.once.Do(func() { e.b, e.err = oci.FetchBytes(ctx, p.src, srcRepo, d, oci.MaxManifestBytes) })
	return e.b, e.err
}

// read resolves ref in the source and keeps the manifest it names for the
// planning that follows, which reads it: one request to a registry, where
// resolving and then fetching would take two.
func (p *Planner) read(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	d, b, err := oci.ReadManifest(ctx, p.src, ref)
	if err != nil {
		return v1.Descriptor{}, err
	}
	p.Keep(ref.Repo(), d, b)
	return d, nil
}

// Keep gives the Planner the bytes b of the manifest d of srcRepo, which the
// caller read and verified against d already (oci.ReadManifest), so that
// planning d does not read them again. Keep does nothing when b is nil or
// the Planner holds d's bytes.
func (p *Planner) Keep(srcRepo string, d v1.Descriptor, b []byte) {
	if b == nil {
		return
	}
	e := &manifestEntry{b: b}
	e.once.Do(func() {}) // read already
	p.manifests.mu.Lock()
	defer p.manifests.mu.Unlock()
	if p.manifests.m == nil {
		p.manifests.m = map[key]*manifestEntry{}
	}
	if _, ok := p.manifests.m[key{srcRepo, d.Digest}]; !ok {
		p.manifests.m[key{srcRepo, d.Digest}] = e
	}
}

// Prefetch reads from the source what adding the manifest d of srcRepo will
// read: its signatures (PlanOptions.VerifyImage), its manifest and those
// below it, and its attachments, into the Planner's caches; it plans
// nothing. A caller that must add artifacts in a fixed order (the plan's
// order is the order of Add) can prefetch them concurrently first, so that
// the round trips overlap and the Adds that follow find everything read.
// Errors are left to the Add that meets them again.
func (p *Planner) Prefetch(ctx context.Context, srcRepo string, d v1.Descriptor) {
	if _, err := p.verify(ctx, srcRepo, d); err != nil {
		return
	}
	p.prefetch(ctx, srcRepo, d, 0, "")
}

// prefetch follows add: kind is the attachment kind of d ("" for none).
func (p *Planner) prefetch(ctx context.Context, srcRepo string, d v1.Descriptor, depth int, kind string) {
	if depth > maxDepth || !oci.IsManifest(d.MediaType) {
		return
	}
	b, err := p.manifest(ctx, srcRepo, d)
	if err != nil {
		return
	}
	if !p.o.NoAttachments && kind != kindReferrers {
		list, _ := p.discover(ctx, srcRepo, d.Digest)
		for _, f := range list {
			p.prefetch(ctx, srcRepo, f.desc, depth+1, f.kind)
		}
	}
	if !oci.IsIndex(d.MediaType) {
		return
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return
	}
	keep := make([]bool, len(kids))
	for i := range keep {
		keep[i] = true
	}
	if depth == 0 && kind == "" {
		if keep, _, err = filterChildren(srcRepo, d, b, kids, p.o.Platforms); err != nil {
			return
		}
	}
	for i, c := range kids {
		if !keep[i] {
			continue
		}
		if kind == kindReferrers {
			p.prefetch(ctx, srcRepo, c, depth+1, kindReferrer)
		} else {
			p.prefetch(ctx, srcRepo, c, depth+1, "")
		}
	}
}
