package transfer

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Write is one piece of content a Run pushes into a repository of the
// target, and the tags it sets on it.
type Write struct {
	Repo       string
	Descriptor v1.Descriptor
	Manifest   bool     // a manifest or index (else a blob)
	Tags       []string // tags set on the manifest
	// Data holds the content when the plan made it (a filtered index, a
	// component descriptor layer, config or manifest); nil when it is read
	// from the source.
	Data []byte
}

// Writes lists everything a Run of p may push, without duplicates: every
// blob once per target repository, every manifest, and then more, what an
// Options.Finish writes (the component versions' descriptor layers,
// configs and manifests, with their bytes). A target that must know its
// whole content before the first byte arrives (a bundle written in OCM's
// canonical order) lays itself out from it.
func (p *Plan) Writes(more ...Write) []Write {
	var out []Write
	seen := map[key]bool{}
	add := func(w Write) {
		k := key{w.Repo, w.Descriptor.Digest}
		if seen[k] {
			for i := range out {
				if out[i].Repo == w.Repo && out[i].Descriptor.Digest == w.Descriptor.Digest {
					out[i].Tags = append(out[i].Tags, w.Tags...)
				}
			}
			return
		}
		seen[k] = true
		out = append(out, w)
	}
	for _, b := range p.Blobs {
		for _, t := range b.Targets {
			add(Write{Repo: t, Descriptor: b.Descriptor()})
		}
	}
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		if a.Filter != nil && a.Filter.Forced {
			add(Write{Repo: a.Target, Descriptor: a.Filtered(), Manifest: true, Tags: a.Tags, Data: a.Filter.manifest})
			continue
		}
		add(Write{Repo: a.Target, Descriptor: a.Descriptor(), Manifest: true, Tags: a.Tags, Data: a.manifest})
	}
	for _, w := range more {
		add(w)
	}
	return out
}
