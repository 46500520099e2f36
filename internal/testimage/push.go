package testimage

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// Push writes a into repository repo of w and returns the descriptor of its
// manifest. It writes the blobs first (configs and layers, each once, skipping
// those repo already holds), then the manifests, children before the index,
// then, unless tag is empty, the tag. A run that stops part way leaves no tag
// pointing at incomplete content.
//
// repo is named as the store names repositories: with the registry host for
// a registry ("127.0.0.1:5000/bench/app-01"), without one in a CTF archive
// ("bench/app-01"). Layers stream from their generator; nothing is held
// whole in memory.
func Push(ctx context.Context, w oci.Writer, repo, tag string, a Artifact) (v1.Descriptor, error) {
	return NewPusher(w).Push(ctx, repo, tag, a)
}

// Pusher pushes artifacts one after another into one store, as Push does,
// and remembers which repository received each layer, so that a layer
// another repository needs later is mounted from there instead of uploaded
// again, when the store is an oci.Mounter. It is not safe for concurrent
// use.
type Pusher struct {
	w     oci.Writer
	where map[v1.Hash]string
}

// NewPusher returns a Pusher writing to w.
func NewPusher(w oci.Writer) *Pusher { return &Pusher{w: w} }

// Push pushes a to repo and tags it, as the function Push does.
func (p *Pusher) Push(ctx context.Context, repo, tag string, a Artifact) (v1.Descriptor, error) {
	var ref oci.Ref
	if tag != "" {
		var err error
		if ref, err = oci.ParseRef(repo + ":" + tag); err != nil {
			return v1.Descriptor{}, err
		}
	}
	c, err := a.contents()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("building artifact for %s: %w", repo, err)
	}
	for _, b := range c.blobs {
		if err := p.pushBlob(ctx, repo, b); err != nil {
			return v1.Descriptor{}, fmt.Errorf("pushing blob %s to %s: %w", b.desc.Digest, repo, err)
		}
	}
	for _, m := range c.manifests {
		if err := oci.PushBytes(ctx, p.w, repo, m.desc, m.data); err != nil {
			return v1.Descriptor{}, fmt.Errorf("pushing manifest %s to %s: %w", m.desc.Digest, repo, err)
		}
	}
	top := c.manifests[len(c.manifests)-1].desc
	if tag != "" {
		if err := p.w.Tag(ctx, ref, top); err != nil {
			return v1.Descriptor{}, fmt.Errorf("tagging %s: %w", ref, err)
		}
	}
	return top, nil
}

func (p *Pusher) pushBlob(ctx context.Context, repo string, b blob) error {
	ok, err := p.w.Exists(ctx, repo, b.desc)
	if err != nil {
		return err
	}
	if ok {
		p.remember(b.desc.Digest, repo)
		return nil
	}
	if from, seen := p.where[b.desc.Digest]; seen && from != repo {
		if m, isMounter := p.w.(oci.Mounter); isMounter {
			err := m.Mount(ctx, from, repo, b.desc)
			if err == nil {
				return nil
			}
			if !errors.Is(err, oci.ErrNotFound) && !errors.Is(err, oci.ErrUnsupported) {
				return err
			}
		}
	}
	rc := b.open()
	defer rc.Close()
	if err := p.w.Push(ctx, repo, b.desc, rc); err != nil {
		return err
	}
	p.remember(b.desc.Digest, repo)
	return nil
}

func (p *Pusher) remember(d v1.Hash, repo string) {
	if p.where == nil {
		p.where = map[v1.Hash]string{}
	}
	if _, ok := p.where[d]; !ok {
		p.where[d] = repo
	}
}
