package transfer

import (
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Plan is everything a transfer will copy, as data. Artifacts are ordered
// children before parents; Blobs are unique by digest.
type Plan struct {
	Artifacts []Artifact `json:"artifacts"`
	Blobs     []Blob     `json:"blobs"`
}

// Artifact is one manifest or index to copy from a source repository to a
// target repository.
type Artifact struct {
	Source    string          `json:"source"` // repository read from ("ghcr.io/stefanprodan/podinfo")
	Target    string          `json:"target"` // repository written to ("reg.local/air/stefanprodan/podinfo")
	Digest    v1.Hash         `json:"digest"`
	MediaType types.MediaType `json:"mediaType"`
	Size      int64           `json:"size"`
	Platform  *v1.Platform    `json:"platform,omitempty"`
	// Tags are set in Target once the artifact and everything below it is there.
	Tags []string `json:"tags,omitempty"`
	// Children are the digests of the manifests an index names (each also an
	// Artifact of this plan, with the same Target).
	Children []v1.Hash `json:"children,omitempty"`
	// Blobs are the digests of the config and layers an image manifest names.
	Blobs []v1.Hash `json:"blobs,omitempty"`
	// For says what asked for the artifact: an image reference given on the
	// command line, or a component resource ("example.com/podinfo:6.3.5 resource image").
	For string `json:"for,omitempty"`
	// Filter is set on an index of which only the children of some
	// platforms are copied (PlanOptions.Platforms).
	Filter *Filter `json:"filter,omitempty"`
	// Attachment, on an artifact that belongs to another one, says what it
	// is: "sig", "att" or "sbom" (cosign's sha256-<hex>.<kind> tags),
	// "referrer" (an OCI 1.1 manifest whose subject is the other one) or
	// "referrers" (the index of referrers kept under the tag sha256-<hex>
	// in registries without the referrers API).
	Attachment string `json:"attachment,omitempty"`
	// Subject, on an attachment, is the digest of the artifact it belongs
	// to, in the same Target; Run pushes the subject first.
	Subject *v1.Hash `json:"subject,omitempty"`
	// Signatures are the image signatures PlanOptions.VerifyImage verified.
	Signatures []Signature `json:"signatures,omitempty"`

	manifest []byte // the manifest's bytes, read while planning; not part of the data
	// found is what CheckTags found under the artifact's tags in the target
	// (tag -> digest); Run trusts a tag found at the digest the artifact
	// lands as and asks the target nothing more about it. Not part of the
	// data: a plan read back is checked again.
	found map[string]v1.Hash
}

// foundAs reports whether the drift gate found one of the artifact's tags
// in the target at its own digest (filtered false) or at its filtered
// index (filtered true): the target then holds that manifest.
func (a *Artifact) foundAs() (filtered, ok bool) {
	for _, h := range a.found {
		switch {
		case a.Filter != nil && h == a.Filter.Digest:
			return true, true
		case h == a.Digest && (a.Filter == nil || !a.Filter.Forced):
			return false, true
		}
	}
	return false, false
}

// Signature is an image signature that PlanOptions.VerifyImage verified,
// as an Artifact records it (and a bill of materials lists it).
type Signature struct {
	Kind string `json:"kind"` // how it is stored: "cosign" (a sha256-<hex>.sig tag)
	// Digest is the signature manifest's digest.
	Digest string `json:"digest,omitempty"`
	// Verified says the signature was checked during the crossing with Key.
	Verified bool `json:"verified"`
	// Key is the fingerprint of the public key that verified it.
	Key string `json:"key,omitempty"`
}

// Descriptor returns the artifact's manifest descriptor.
func (a *Artifact) Descriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: a.MediaType, Size: a.Size, Digest: a.Digest, Platform: a.Platform}
}

// Blob is one unique blob and the target repositories that need it.
type Blob struct {
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType,omitempty"`
	Source    string          `json:"source"`  // a repository that holds it in the source
	Targets   []string        `json:"targets"` // repositories that need it, in the order first planned
}

// Descriptor returns the blob's descriptor.
func (b *Blob) Descriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: b.MediaType, Size: b.Size, Digest: b.Digest}
}

// Stats summarises a plan.
type Stats struct {
	Artifacts   int   `json:"artifacts"`
	Blobs       int   `json:"blobs"`       // unique blobs
	Bytes       int64 `json:"bytes"`       // unique blob bytes: what crosses once
	TargetBytes int64 `json:"targetBytes"` // blob bytes summed over target repositories: what a copy per repository would send
}

// Stats counts what the plan holds.
func (p *Plan) Stats() Stats {
	s := Stats{Artifacts: len(p.Artifacts), Blobs: len(p.Blobs)}
	for _, b := range p.Blobs {
		s.Bytes += b.Size
		s.TargetBytes += b.Size * int64(len(b.Targets))
	}
	return s
}

// key names an artifact in a plan: a manifest in a target repository.
type key struct {
	target string
	digest v1.Hash
}

// levels groups the artifacts by height: leaves (image manifests) first,
// then the indexes above them, so that each level can be pushed in
// parallel once the one before it is in. An attachment sits above its
// subject.
func (p *Plan) levels() [][]*Artifact {
	byKey := p.artifactsByKey()
	height := make(map[*Artifact]int, len(p.Artifacts))
	var h func(a *Artifact, depth int) int
	h = func(a *Artifact, depth int) int {
		if v, ok := height[a]; ok {
			return v
		}
		v := 0
		if depth < 16 { // indexes of indexes are rare; cycles are impossible by digest but bound anyway
			for _, c := range a.Children {
				if ca, ok := byKey[key{a.Target, c}]; ok {
					v = max(v, h(ca, depth+1)+1)
				}
			}
			if a.Subject != nil {
				if sa, ok := byKey[key{a.Target, *a.Subject}]; ok && sa != a {
					v = max(v, h(sa, depth+1)+1)
				}
			}
		}
		height[a] = v
		return v
	}
	var out [][]*Artifact
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		l := h(a, 0)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], a)
	}
	return out
}

// Roots returns the artifacts no other artifact of the plan names as a
// child: the images and indexes asked for, and their attachments.
func (p *Plan) Roots() []*Artifact {
	child := make(map[key]bool)
	for _, a := range p.Artifacts {
		for _, c := range a.Children {
			child[key{a.Target, c}] = true
		}
	}
	var out []*Artifact
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		if !child[key{a.Target, a.Digest}] {
			out = append(out, a)
		}
	}
	return out
}

// addTarget records that repo needs blob b.
func (b *Blob) addTarget(repo string) {
	if !slices.Contains(b.Targets, repo) {
		b.Targets = append(b.Targets, repo)
	}
}
