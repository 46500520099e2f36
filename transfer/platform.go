package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// ErrNoPlatform: an index holds no manifest for any of the platforms a
// transfer was asked to copy (PlanOptions.Platforms).
var ErrNoPlatform = errors.New("no manifest for the requested platforms")

// Filter records that only some children of an index are copied (see
// PlanOptions.Platforms). Run pushes the index unchanged first (the
// artifact's Digest), so that it keeps its digest where the target accepts
// an index whose other children are absent (a CTF; a registry configured
// with validation.manifests.indexes.platforms: none); a target that refuses
// it (distribution by default answers MANIFEST_BLOB_UNKNOWN) gets the
// filtered index instead: the same bytes without the dropped children, with
// Digest and Size.
type Filter struct {
	Platforms []v1.Platform `json:"platforms"`         // of the children kept, in index order
	Dropped   []v1.Platform `json:"dropped,omitempty"` // of the children left out
	Digest    v1.Hash       `json:"digest"`            // of the filtered index
	Size      int64         `json:"size"`              // of the filtered index
	Landed    bool          `json:"landed,omitempty"`  // set by Run: the filtered index is what the target holds
	Forced    bool          `json:"forced,omitempty"`  // the filtered index is written whatever the target accepts (PlanOptions.FilterAlways)
	manifest  []byte        // the filtered index's bytes, made while planning
}

// filterChildren decides which children of the index b (read from
// repo@d) to copy for the platforms want. It returns keep, one flag per
// entry of the index's manifests, and the filter to record, or a nil filter
// when every child is kept or no child names a platform (the index is then
// not a multi-platform image, and is copied whole).
func filterChildren(repo string, d v1.Descriptor, b []byte, kids []v1.Descriptor, want []v1.Platform) ([]bool, *Filter, error) {
	keep := make([]bool, len(kids))
	for i := range keep {
		keep[i] = true
	}
	if len(want) == 0 {
		return keep, nil, nil
	}
	keptDigests := map[v1.Hash]bool{}
	anyPlatform, anyManifest := false, false
	for i, c := range kids {
		if !oci.IsManifest(c.MediaType) {
			keptDigests[c.Digest] = true // blobs an index names are not images of a platform
			continue
		}
		keep[i] = false
		if c.Platform == nil || isAttestation(c) {
			continue
		}
		anyPlatform = true
		if slices.ContainsFunc(want, func(w v1.Platform) bool { return platformMatches(w, *c.Platform) }) {
			keptDigests[c.Digest] = true
			anyManifest = true
		}
	}
	if !anyPlatform {
		for i := range keep {
			keep[i] = true
		}
		return keep, nil, nil
	}
	if !anyManifest {
		return nil, nil, fmt.Errorf("%s@%s has no manifest for %s (it has %s): %w",
			repo, d.Digest, platformList(want), platformList(platformsOf(kids)), ErrNoPlatform)
	}
	// BuildKit keeps each image's attestations beside it, as a manifest of
	// platform unknown/unknown naming the image it describes.
	for _, c := range kids {
		if isAttestation(c) {
			if ref, err := v1.NewHash(c.Annotations[annotationReferenceDigest]); err == nil && keptDigests[ref] {
				keptDigests[c.Digest] = true
			}
		}
	}
	f := &Filter{}
	all := true
	for i, c := range kids {
		keep[i] = keptDigests[c.Digest]
		all = all && keep[i]
		if !oci.IsManifest(c.MediaType) || c.Platform == nil || isAttestation(c) {
			continue
		}
		if keep[i] {
			f.Platforms = append(f.Platforms, *c.Platform)
		} else {
			f.Dropped = append(f.Dropped, *c.Platform)
		}
	}
	if all {
		return keep, nil, nil
	}
	fb, err := dropManifests(b, keep)
	if err != nil {
		return nil, nil, fmt.Errorf("filtering %s@%s: %w", repo, d.Digest, err)
	}
	f.manifest, f.Digest, f.Size = fb, oci.Digest(fb), int64(len(fb))
	return keep, f, nil
}

// BuildKit's annotations on the attestation manifests of an index.
const (
	annotationReferenceType   = "vnd.docker.reference.type"
	annotationReferenceDigest = "vnd.docker.reference.digest"
)

func isAttestation(d v1.Descriptor) bool {
	return d.Annotations[annotationReferenceType] == "attestation-manifest"
}

// platformMatches reports whether an index child of platform have runs on
// want, as crane and regctl match them: OS and architecture equal (after
// the usual aliases: x86_64 is amd64, aarch64 is arm64), variant and OS
// version equal when want names them, and arm64's default variant v8 the
// same as none.
func platformMatches(want, have v1.Platform) bool {
	w, h := normalPlatform(want), normalPlatform(have)
	return w.OS == h.OS && w.Architecture == h.Architecture &&
		(w.Variant == "" || w.Variant == h.Variant) &&
		(w.OSVersion == "" || w.OSVersion == h.OSVersion)
}

func normalPlatform(p v1.Platform) v1.Platform {
	p.OS = strings.ToLower(p.OS)
	p.Architecture = strings.ToLower(p.Architecture)
	p.Variant = strings.ToLower(p.Variant)
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	}
	if p.Architecture == "arm64" && p.Variant == "v8" {
		p.Variant = ""
	}
	return p
}

func platformsOf(kids []v1.Descriptor) []v1.Platform {
	var out []v1.Platform
	for _, c := range kids {
		if c.Platform != nil && !isAttestation(c) {
			out = append(out, *c.Platform)
		}
	}
	return out
}

func platformList(ps []v1.Platform) string {
	if len(ps) == 0 {
		return "no platforms"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// dropManifests returns the index b without the entries of its manifests
// array whose keep flag is false. Everything else keeps its bytes: the
// other fields, their order, the spacing, the kept entries themselves.
func dropManifests(b []byte, keep []bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("the index is not a JSON object")
	}
	var (
		found   bool
		closing int64
		spans   [][2]int64
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if t != "manifests" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if found {
			return nil, fmt.Errorf("the index has two manifests fields")
		}
		found = true
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil, fmt.Errorf("the index's manifests field is not an array")
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			end := dec.InputOffset()
			spans = append(spans, [2]int64{end - int64(len(raw)), end})
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		closing = dec.InputOffset() - 1
	}
	if len(spans) != len(keep) || len(spans) == 0 {
		return nil, fmt.Errorf("the index lists %d manifests, expected %d", len(spans), len(keep))
	}
	sep := []byte(",")
	if len(spans) > 1 {
		sep = b[spans[0][1]:spans[1][0]]
	}
	out := slices.Clip(b[:spans[0][0]])
	first := true
	for i, s := range spans {
		if !keep[i] {
			continue
		}
		if !first {
			out = append(out, sep...)
		}
		out = append(out, b[s[0]:s[1]]...)
		first = false
	}
	out = append(out, b[spans[len(spans)-1][1]:closing]...)
	return append(out, b[closing:]...), nil
}

// filteredManifest returns the filtered index's bytes, remaking them from
// the original's (b) when the plan was not made in this process.
func (a *Artifact) filteredManifest(b []byte) ([]byte, error) {
	if a.Filter.manifest != nil {
		return a.Filter.manifest, nil
	}
	kids, err := oci.Children(a.MediaType, b)
	if err != nil {
		return nil, err
	}
	keep := make([]bool, len(kids))
	for i, c := range kids {
		keep[i] = slices.Contains(a.Children, c.Digest) || slices.Contains(a.Blobs, c.Digest)
	}
	fb, err := dropManifests(b, keep)
	if err != nil {
		return nil, err
	}
	if got := oci.Digest(fb); got != a.Filter.Digest {
		return nil, fmt.Errorf("filtering %s@%s gave %s, the plan records %s: %w", a.Source, a.Digest, got, a.Filter.Digest, oci.ErrDigestMismatch)
	}
	return fb, nil
}

// Landed returns the descriptor of what holds the artifact in the target:
// its own, or the filtered index's when that is what landed (Filter.Landed).
func (a *Artifact) Landed() v1.Descriptor {
	if a.Filter != nil && a.Filter.Landed {
		return a.Filtered()
	}
	return a.Descriptor()
}

// Filtered returns the descriptor of the filtered index of an artifact
// filtered by platform; a.Filter must be set.
func (a *Artifact) Filtered() v1.Descriptor {
	return v1.Descriptor{MediaType: a.MediaType, Size: a.Filter.Size, Digest: a.Filter.Digest, Platform: a.Platform}
}

// refusedIncomplete reports whether a push of an index failed because the
// target wants every child present: distribution answers 400 with
// MANIFEST_BLOB_UNKNOWN (or MANIFEST_INVALID from other registries).
func refusedIncomplete(err error) bool {
	for e := err; e != nil; {
		var oe *oci.Error
		if !errors.As(e, &oe) {
			return false
		}
		if oe.Code == "MANIFEST_BLOB_UNKNOWN" || oe.Code == "MANIFEST_INVALID" {
			return true
		}
		e = oe.Err
	}
	return false
}

// Landed returns the descriptor of the manifest that holds the artifact
// planned as digest in the repository target, once Run has pushed it: the
// artifact's own, or, for an index filtered by platform that the target
// refused without its dropped children, the filtered index's. ok is false
// when the plan holds no such artifact.
func (p *Plan) Landed(target string, digest v1.Hash) (d v1.Descriptor, ok bool) {
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		if a.Target == target && a.Digest == digest {
			return a.Landed(), true
		}
	}
	return v1.Descriptor{}, false
}
