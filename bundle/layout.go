package bundle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
)

// Entry is one blob or manifest a transfer into the bundle pushes (what
// ocmtransfer.Plan.Writes lists), with the tags a manifest gets.
type Entry struct {
	Repo       string // repository inside the bundle ("stefanprodan/podinfo")
	Descriptor v1.Descriptor
	Manifest   bool     // a manifest or index (it gets an index entry in Repo)
	Tags       []string // tags set on the manifest in Repo
	// Data is the content when it is known before the transfer starts
	// (manifests read while planning, component descriptor layers, configs
	// and manifests). Begin writes it in place at once, so that the sidecar
	// hasher need not wait for it; the entry still counts as missing until
	// it is pushed.
	Data []byte
}

// Contents is everything a bundle will hold, known before the first byte is
// written: the entries the transfer pushes and the summary kept in the
// metadata.
type Contents struct {
	Entries    []Entry
	Components []Component
	Artifacts  []Artifact
	Tool       string // "ferry v0.4.0"
	BOM        *bom.BOM
	// CycloneDX is the BOM as a CycloneDX JSON document (bom.BOM.CycloneDX), when asked for.
	CycloneDX json.RawMessage
}

// slot is where one blob's bytes go in the tar.
type slot struct {
	off  int64
	desc v1.Descriptor
	data []byte // set for content the layout writes itself (the metadata artifact)
}

// chunk is bytes the layout writes itself: tar headers, padding,
// artifact-index.json, the end-of-archive blocks.
type chunk struct {
	off  int64
	data []byte
}

// layout is the whole tar, computed in advance: OCM's canonical form,
// ctf.TarLayout, with ferry's metadata artifact in it.
type layout struct {
	size    int64
	slots   map[v1.Hash]*slot
	order   []v1.Hash // slots by offset
	chunks  []chunk
	index   []ctf.Entry
	tags    map[string]v1.Hash // "repo:tag" -> manifest
	repos   map[string]map[v1.Hash]types.MediaType
	meta    *Metadata
	metaArt metadataArtifact
	hash    v1.Hash // identifies the layout (and so the plan) for resuming
}

func blobName(h v1.Hash) string { return ctf.BlobPath(h) }

// indexEntries computes artifact-index.json as ctf writes it: one entry per
// tag, and an untagged entry for each manifest no tag of its repository
// points at.
func indexEntries(repos map[string]map[v1.Hash]types.MediaType, tags map[string]v1.Hash) []ctf.Entry {
	var out []ctf.Entry
	tagged := map[string]map[v1.Hash]bool{}
	for rt, h := range tags {
		i := strings.LastIndex(rt, ":")
		repo, tag := rt[:i], rt[i+1:]
		if tagged[repo] == nil {
			tagged[repo] = map[v1.Hash]bool{}
		}
		tagged[repo][h] = true
		out = append(out, ctf.Entry{Repository: repo, Tag: tag, Digest: h, MediaType: repos[repo][h]})
	}
	for repo, ms := range repos {
		for h, mt := range ms {
			if !tagged[repo][h] {
				out = append(out, ctf.Entry{Repository: repo, Digest: h, MediaType: mt})
			}
		}
	}
	b := ctf.MarshalIndex(out)
	sorted, _ := ctf.ParseIndex(b)
	return sorted
}

// newLayout lays out c, leaving out what leftOut holds. volume is the
// volume size (0: one file); it is part of the layout's identity only.
func newLayout(c Contents, leftOut map[v1.Hash]HeldBlob, lo *LeftOut, volume int64) (*layout, error) {
	l := &layout{slots: map[v1.Hash]*slot{}, tags: map[string]v1.Hash{}, repos: map[string]map[v1.Hash]types.MediaType{}}
	addManifest := func(repo string, d v1.Descriptor, tags []string) error {
		if l.repos[repo] == nil {
			l.repos[repo] = map[v1.Hash]types.MediaType{}
		}
		if mt := l.repos[repo][d.Digest]; mt == "" {
			l.repos[repo][d.Digest] = d.MediaType
		}
		for _, t := range tags {
			k := repo + ":" + t
			if prev, ok := l.tags[k]; ok && prev != d.Digest {
				return fmt.Errorf("laying out the bundle: %s is planned for both %s and %s", k, prev, d.Digest)
			}
			l.tags[k] = d.Digest
		}
		return nil
	}
	for _, e := range c.Entries {
		d := e.Descriptor
		if err := checkHash(d.Digest); err != nil || d.Size < 0 {
			return nil, fmt.Errorf("laying out the bundle: %s in %s: bad descriptor (%d bytes)", d.Digest, e.Repo, d.Size)
		}
		if _, out := leftOut[d.Digest]; out {
			continue
		}
		if s, ok := l.slots[d.Digest]; ok {
			if s.desc.Size != d.Size {
				return nil, fmt.Errorf("laying out the bundle: %s planned with sizes %d and %d", d.Digest, s.desc.Size, d.Size)
			}
			if s.desc.MediaType == "" {
				s.desc.MediaType = d.MediaType
			}
		} else {
			l.slots[d.Digest] = &slot{desc: v1.Descriptor{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType}}
		}
		if e.Manifest {
			if err := addManifest(e.Repo, d, e.Tags); err != nil {
				return nil, err
			}
		}
	}
	md := &Metadata{MediaType: MediaTypeMetadata, Tool: c.Tool, Components: slices.Clone(c.Components),
		Artifacts: slices.Clone(c.Artifacts), LeftOut: lo, BOM: c.BOM, CycloneDX: c.CycloneDX}
	for _, e := range indexEntries(l.repos, l.tags) {
		md.Index = append(md.Index, IndexEntry{Repository: e.Repository, Tag: e.Tag, Digest: e.Digest, MediaType: e.MediaType})
	}
	for h, s := range l.slots {
		md.Blobs = append(md.Blobs, Blob{Digest: h, Size: s.desc.Size, MediaType: s.desc.MediaType, Manifest: isManifestIn(l.repos, h)})
	}
	// The metadata records the tar's size, which depends on the metadata's
	// own length: iterate until it no longer changes (two or three rounds).
	for range 8 {
		art := newMetadataArtifact(md.marshal())
		if err := l.place(art); err != nil {
			return nil, err
		}
		if l.size == md.Size {
			l.meta, l.metaArt = md, art
			l.hash = l.identity(volume)
			return l, nil
		}
		md.Size = l.size
	}
	return nil, fmt.Errorf("laying out the bundle: the size recorded in the metadata does not settle")
}

func isManifestIn(repos map[string]map[v1.Hash]types.MediaType, h v1.Hash) bool {
	for _, ms := range repos {
		if _, ok := ms[h]; ok {
			return true
		}
	}
	return false
}

// place computes every offset for the slots plus the metadata artifact art.
func (l *layout) place(art metadataArtifact) error {
	for h, s := range l.slots {
		if s.data != nil {
			delete(l.slots, h) // the previous round's metadata
		}
	}
	for h, b := range art.blobs() {
		if _, ok := l.slots[h]; !ok { // the empty config may be planned content too
			l.slots[h] = &slot{desc: v1.Descriptor{Digest: h, Size: int64(len(b))}, data: b}
		}
	}
	repos := maps2(l.repos)
	repos[MetadataRepository] = map[v1.Hash]types.MediaType{art.manifestDesc.Digest: art.manifestDesc.MediaType}
	tags := maps1(l.tags)
	tags[MetadataRepository+":"+MetadataTag] = art.manifestDesc.Digest
	l.index = indexEntries(repos, tags)
	index := ctf.MarshalIndex(l.index)

	blobs := make([]ctf.TarBlob, 0, len(l.slots))
	for h, s := range l.slots {
		blobs = append(blobs, ctf.TarBlob{Digest: h, Size: s.desc.Size})
	}
	tl, err := ctf.NewTarLayout(index, blobs)
	if err != nil {
		return fmt.Errorf("laying out the bundle: %w", err)
	}

	// The chunks are the layout's own bytes and the metadata artifact's,
	// merged where they follow one another; the planned blobs' content
	// falls between them.
	l.chunks, l.order = nil, nil
	var off int64
	var pending []byte // bytes not yet placed
	pendingOff := int64(0)
	flush := func() {
		if len(pending) > 0 {
			l.chunks = append(l.chunks, chunk{off: pendingOff, data: pending})
		}
		pending = nil
	}
	emit := func(b []byte) {
		if pending == nil {
			pendingOff = off
		}
		pending = append(pending, b...)
		off += int64(len(b))
	}
	for _, p := range tl.Parts {
		if p.Data != nil {
			emit(p.Data)
			continue
		}
		s := l.slots[p.Blob]
		l.order = append(l.order, p.Blob)
		s.off = p.Offset
		if s.data != nil {
			emit(s.data)
		} else {
			flush()
			off += s.desc.Size
		}
	}
	flush()
	if off != tl.Size {
		return fmt.Errorf("laying out the bundle: placed %d bytes of a %d-byte tar", off, tl.Size)
	}
	l.size = tl.Size
	return nil
}

func maps1(m map[string]v1.Hash) map[string]v1.Hash {
	out := make(map[string]v1.Hash, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func maps2(m map[string]map[v1.Hash]types.MediaType) map[string]map[v1.Hash]types.MediaType {
	out := make(map[string]map[v1.Hash]types.MediaType, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// identity hashes everything the layout decides: every byte it writes
// itself, every slot's place, and the volume size.
func (l *layout) identity(volume int64) v1.Hash {
	h := sha256.New()
	var n [8]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	h.Write([]byte("ferry bundle layout v1\n"))
	num(l.size)
	num(volume)
	for _, c := range l.chunks {
		num(c.off)
		num(int64(len(c.data)))
		h.Write(c.data)
	}
	for _, d := range l.order {
		s := l.slots[d]
		num(s.off)
		num(s.desc.Size)
		h.Write([]byte(d.String()))
	}
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

// planned reports whether the layout pushes d (content the transfer writes,
// not the layout itself).
func (l *layout) planned(d v1.Hash) bool {
	s, ok := l.slots[d]
	return ok && s.data == nil
}

// keepsDescriptors: the parts of a component version a reader needs from the
// bundle itself, never left out.
func keepsDescriptors(mt types.MediaType) bool {
	return mt == ocireg.MediaTypeConfig || mt == ocireg.MediaTypeDescriptorTar ||
		mt == ocireg.MediaTypeDescriptorJSON || mt == ocireg.MediaTypeDescriptorYAML
}
