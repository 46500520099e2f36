package ctf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one entry of artifact-index.json: a manifest in a repository,
// with a tag or untagged.
type Entry struct {
	Repository string          // "stefanprodan/podinfo", or a component's repository
	Tag        string          // "" for an untagged entry
	Digest     v1.Hash         // of the manifest or index
	MediaType  types.MediaType // the manifest's media type; "" when the index does not say (OCM before 2026)
}

func (e Entry) String() string {
	if e.Tag != "" {
		return e.Repository + ":" + e.Tag
	}
	return e.Repository + "@" + e.Digest.String()
}

// indexJSON is artifact-index.json with its fields in the order OCM writes
// them (INTEROP.md §3.1).
type indexJSON struct {
	SchemaVersion *int        `json:"schemaVersion"`
	Artifacts     []entryJSON `json:"artifacts"`
}

type entryJSON struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
	MediaType  string `json:"mediaType,omitempty"`
}

// ParseIndex decodes and validates artifact-index.json: schemaVersion 1,
// and in every entry a repository of the distribution grammar (without a
// host, so never a path that leaves the archive), an optional valid tag, a
// sha256 or sha512 digest and an optional media type. Unknown fields are
// ignored, as OCM v1 ignores them. A tag listed twice for different digests
// is refused. Errors wrap ErrInvalidIndex.
func ParseIndex(b []byte) ([]Entry, error) {
	var f indexJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	if f.SchemaVersion == nil {
		return nil, fmt.Errorf("%w: no schemaVersion", ErrInvalidIndex)
	}
	if *f.SchemaVersion != 1 {
		return nil, fmt.Errorf("%w: schemaVersion %d, want 1", ErrInvalidIndex, *f.SchemaVersion)
	}
	out := make([]Entry, 0, len(f.Artifacts))
	tags := map[[2]string]v1.Hash{}
	for i, a := range f.Artifacts {
		bad := func(err error) ([]Entry, error) {
			return nil, fmt.Errorf("%w: entry %d (repository %q): %v", ErrInvalidIndex, i, a.Repository, err)
		}
		if err := validRepository(a.Repository); err != nil {
			return bad(err)
		}
		if a.Tag != "" {
			if err := validTag(a.Tag); err != nil {
				return bad(err)
			}
		}
		h, err := parseDigest(a.Digest)
		if err != nil {
			return bad(err)
		}
		if len(a.MediaType) > 255 || strings.ContainsAny(a.MediaType, " \t\r\n\x00") {
			return bad(fmt.Errorf("media type %q is not a media type", a.MediaType))
		}
		if a.Tag != "" {
			k := [2]string{a.Repository, a.Tag}
			if prev, ok := tags[k]; ok && prev != h {
				return bad(fmt.Errorf("tag %q listed for both %s and %s", a.Tag, prev, h))
			}
			tags[k] = h
		}
		out = append(out, Entry{Repository: a.Repository, Tag: a.Tag, Digest: h, MediaType: types.MediaType(a.MediaType)})
	}
	return out, nil
}

// MarshalIndex encodes entries as OCM v1 writes artifact-index.json: compact
// JSON without a trailing newline, fields in OCM's order, entries sorted by
// repository and then by tag, or "@<digest>" for untagged entries (byte
// order). Identical entries are written once.
func MarshalIndex(entries []Entry) []byte {
	es := slices.Clone(entries)
	key := func(e Entry) string {
		if e.Tag != "" {
			return e.Tag
		}
		return "@" + e.Digest.String()
	}
	slices.SortStableFunc(es, func(a, b Entry) int {
		if c := strings.Compare(a.Repository, b.Repository); c != 0 {
			return c
		}
		return strings.Compare(key(a), key(b))
	})
	es = slices.Compact(es)
	f := indexJSON{SchemaVersion: new(int), Artifacts: make([]entryJSON, 0, len(es))}
	*f.SchemaVersion = 1
	for _, e := range es {
		f.Artifacts = append(f.Artifacts, entryJSON{Repository: e.Repository, Tag: e.Tag, Digest: e.Digest.String(), MediaType: string(e.MediaType)})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(f) // cannot fail: strings and ints only
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// index is artifact-index.json in memory: per repository, its tags and the
// manifests it holds. Like OCM, it writes one entry per tag and an untagged
// entry only for a manifest no tag points at (INTEROP.md §3.1), so a
// manifest whose tag moved on stays reachable by digest.
type index struct {
	repos map[string]*repoIndex
}

type repoIndex struct {
	tags      map[string]v1.Hash          // tag -> manifest
	manifests map[v1.Hash]types.MediaType // manifest -> media type ("" when unknown)
}

func newIndex(entries []Entry) *index {
	x := &index{repos: map[string]*repoIndex{}}
	for _, e := range entries {
		x.add(e.Repository, e.Digest, e.MediaType)
		if e.Tag != "" {
			x.repos[e.Repository].tags[e.Tag] = e.Digest
		}
	}
	return x
}

// add records manifest h in repo, keeping a known media type.
func (x *index) add(repo string, h v1.Hash, mt types.MediaType) {
	r := x.repos[repo]
	if r == nil {
		r = &repoIndex{tags: map[string]v1.Hash{}, manifests: map[v1.Hash]types.MediaType{}}
		x.repos[repo] = r
	}
	if old, ok := r.manifests[h]; !ok || old == "" {
		r.manifests[h] = mt
	}
}

// has reports whether repo holds manifest h, and its recorded media type.
func (x *index) has(repo string, h v1.Hash) (types.MediaType, bool) {
	r := x.repos[repo]
	if r == nil {
		return "", false
	}
	mt, ok := r.manifests[h]
	return mt, ok
}

func (x *index) tag(repo, tag string) (v1.Hash, bool) {
	r := x.repos[repo]
	if r == nil {
		return v1.Hash{}, false
	}
	h, ok := r.tags[tag]
	return h, ok
}

func (x *index) entries() []Entry {
	var out []Entry
	for repo, r := range x.repos {
		tagged := map[v1.Hash]bool{}
		for tag, h := range r.tags {
			tagged[h] = true
			out = append(out, Entry{Repository: repo, Tag: tag, Digest: h, MediaType: r.manifests[h]})
		}
		for h, mt := range r.manifests {
			if !tagged[h] {
				out = append(out, Entry{Repository: repo, Digest: h, MediaType: mt})
			}
		}
	}
	return out
}

func (x *index) marshal() []byte { return MarshalIndex(x.entries()) }
