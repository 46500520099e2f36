package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/oci"
)

// Where ferry keeps its metadata inside a bundle, and its media types.
const (
	MetadataRepository = "ferry/bundle"
	MetadataTag        = "metadata"
	// ArtifactType is the artifactType of the metadata manifest.
	ArtifactType = "application/vnd.ferry.bundle.v1+json"
	// MediaTypeMetadata is the media type of its one layer, the Metadata JSON.
	MediaTypeMetadata = "application/vnd.ferry.bundle.metadata.v1+json"
	// MaxMetadataBytes bounds the metadata layer a reader accepts.
	MaxMetadataBytes = 64 << 20
)

// emptyConfig is the OCI empty descriptor's content, the config of the
// metadata manifest (image-spec manifest.md, "Guidance for an Empty Descriptor").
var emptyConfig = []byte("{}")

const mediaTypeEmpty = "application/vnd.oci.empty.v1+json"

// ErrInvalidMetadata: the metadata artifact or its JSON is not what ferry writes.
var ErrInvalidMetadata = errors.New("invalid bundle metadata")

// Metadata is what ferry records about a bundle inside it. Every list is
// sorted, so the same content always gives the same bytes; there is no
// time stamp for the same reason.
type Metadata struct {
	MediaType string `json:"mediaType"` // MediaTypeMetadata
	Tool      string `json:"tool"`      // the ferry release that wrote it ("ferry v0.4.0")
	// Size is the length of the whole tar. Volumes are not recorded: a split
	// bundle and the file `cat` makes of it have the same bytes.
	Size       int64       `json:"size"`
	Components []Component `json:"components,omitempty"`
	Artifacts  []Artifact  `json:"artifacts,omitempty"`
	// Index is artifact-index.json without the metadata's own entry.
	Index []IndexEntry `json:"index"`
	// Blobs are every blob and manifest the tar holds besides the metadata
	// artifact's own three, sorted by digest.
	Blobs []Blob `json:"blobs"`
	// LeftOut is set for a differential bundle.
	LeftOut *LeftOut `json:"leftOut,omitempty"`
	// BOM is the bill of materials of the crossing: every component,
	// resource, image, digest and signature, and what create verified.
	BOM *bom.BOM `json:"bom,omitempty"`
	// CycloneDX is the same bill of materials as a CycloneDX 1.6 JSON
	// document (create --bom-format cyclonedx), for scanners.
	CycloneDX json.RawMessage `json:"cyclonedx,omitempty"`
}

// BlobBytes is the size of Blobs: what the content takes, each blob once.
func (m *Metadata) BlobBytes() int64 {
	var n int64
	for _, b := range m.Blobs {
		n += b.Size
	}
	return n
}

// Component is a component version a bundle carries.
type Component struct {
	Name       string  `json:"name"`
	Version    string  `json:"version"`
	Repository string  `json:"repository"` // the version's repository in the bundle (ocireg.ComponentRepo)
	Tag        string  `json:"tag"`
	Digest     v1.Hash `json:"digest"` // its manifest in the bundle
}

// Artifact is an image (or other OCI artifact) a bundle carries: the plan's
// summary of where it came from and what asked for it.
type Artifact struct {
	Repository string          `json:"repository"` // in the bundle: "stefanprodan/podinfo"
	Digest     v1.Hash         `json:"digest"`
	MediaType  types.MediaType `json:"mediaType"`
	Size       int64           `json:"size"`
	Tags       []string        `json:"tags,omitempty"`
	Platform   *v1.Platform    `json:"platform,omitempty"`
	Source     string          `json:"source,omitempty"` // the repository it was read from
	For        string          `json:"for,omitempty"`
}

// IndexEntry is one entry of artifact-index.json.
type IndexEntry struct {
	Repository string          `json:"repository"`
	Tag        string          `json:"tag,omitempty"`
	Digest     v1.Hash         `json:"digest"`
	MediaType  types.MediaType `json:"mediaType,omitempty"`
}

// Blob is one blob or manifest of a bundle.
type Blob struct {
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType,omitempty"`
	Manifest  bool            `json:"manifest,omitempty"`
}

// LeftOut is what a differential bundle does not carry because the
// inventory it was made against says the target holds it.
type LeftOut struct {
	// Base is the registry path the inventory was taken of.
	Base string `json:"base"`
	// Inventory is the sha256 of the inventory file.
	Inventory v1.Hash `json:"inventory"`
	// Blobs are the blobs and manifests left out, each with the repository
	// (relative to the base) that holds it.
	Blobs []HeldBlob `json:"blobs"`
}

// HeldBlob is a blob or manifest a repository holds.
type HeldBlob struct {
	// Repository holds it, relative to the base; empty inside an
	// Inventory, whose lists are per repository already.
	Repository string          `json:"repository,omitempty"`
	Digest     v1.Hash         `json:"digest"`
	Size       int64           `json:"size"`
	MediaType  types.MediaType `json:"mediaType,omitempty"`
	Manifest   bool            `json:"manifest,omitempty"`
}

// Descriptor returns the blob's descriptor.
func (b HeldBlob) Descriptor() v1.Descriptor {
	return v1.Descriptor{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType}
}

// normalise sorts every list but Components, which keep the plan's order
// (referenced versions first), the order an import writes them in.
func (m *Metadata) normalise() {
	slices.SortFunc(m.Artifacts, func(a, b Artifact) int {
		return cmpStrings(a.Repository+"@"+a.Digest.String(), b.Repository+"@"+b.Digest.String())
	})
	slices.SortFunc(m.Index, func(a, b IndexEntry) int {
		return cmpStrings(a.Repository+"\x00"+a.Tag+"\x00"+a.Digest.String(), b.Repository+"\x00"+b.Tag+"\x00"+b.Digest.String())
	})
	slices.SortFunc(m.Blobs, func(a, b Blob) int { return cmpStrings(a.Digest.String(), b.Digest.String()) })
	if m.LeftOut != nil {
		slices.SortFunc(m.LeftOut.Blobs, func(a, b HeldBlob) int { return cmpStrings(a.Digest.String(), b.Digest.String()) })
	}
}

func cmpStrings(a, b string) int { return strings.Compare(a, b) }

// marshal encodes m compactly, sorted.
func (m *Metadata) marshal() []byte {
	m.normalise()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // strings, numbers and hashes only
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// ParseMetadata decodes and checks the metadata layer of a bundle: its media
// type, sizes that are not negative, digests that parse, and no blob listed
// twice. Errors wrap ErrInvalidMetadata.
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > MaxMetadataBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d: %w", ErrInvalidMetadata, len(b), MaxMetadataBytes, oci.ErrTooLarge)
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	if m.MediaType != MediaTypeMetadata {
		return nil, fmt.Errorf("%w: mediaType %q, want %q", ErrInvalidMetadata, m.MediaType, MediaTypeMetadata)
	}
	if m.Size < 0 {
		return nil, fmt.Errorf("%w: size %d", ErrInvalidMetadata, m.Size)
	}
	seen := map[v1.Hash]bool{}
	for _, bl := range m.Blobs {
		if err := checkHash(bl.Digest); err != nil || bl.Size < 0 {
			return nil, fmt.Errorf("%w: blob %q of %d bytes", ErrInvalidMetadata, bl.Digest, bl.Size)
		}
		if seen[bl.Digest] {
			return nil, fmt.Errorf("%w: blob %s listed twice", ErrInvalidMetadata, bl.Digest)
		}
		seen[bl.Digest] = true
	}
	for _, c := range m.Components {
		if err := checkHash(c.Digest); err != nil || c.Name == "" || c.Repository == "" {
			return nil, fmt.Errorf("%w: component %q:%q@%q", ErrInvalidMetadata, c.Name, c.Version, c.Digest)
		}
	}
	for _, a := range m.Artifacts {
		if err := checkHash(a.Digest); err != nil || a.Repository == "" || a.Size < 0 {
			return nil, fmt.Errorf("%w: artifact %q@%q", ErrInvalidMetadata, a.Repository, a.Digest)
		}
	}
	for _, e := range m.Index {
		if err := checkHash(e.Digest); err != nil || e.Repository == "" {
			return nil, fmt.Errorf("%w: index entry %q@%q", ErrInvalidMetadata, e.Repository, e.Digest)
		}
	}
	if lo := m.LeftOut; lo != nil {
		for _, h := range lo.Blobs {
			if err := checkHash(h.Digest); err != nil || h.Size < 0 {
				return nil, fmt.Errorf("%w: left-out blob %q of %d bytes", ErrInvalidMetadata, h.Digest, h.Size)
			}
			if seen[h.Digest] {
				return nil, fmt.Errorf("%w: blob %s both carried and left out", ErrInvalidMetadata, h.Digest)
			}
			if _, err := oci.ParseRef("example.invalid/" + h.Repository + "@" + h.Digest.String()); err != nil {
				return nil, fmt.Errorf("%w: left-out blob %s: repository %q", ErrInvalidMetadata, h.Digest, h.Repository)
			}
		}
	}
	if err := m.checkBOM(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	return &m, nil
}

// checkBOM checks that the bill of materials names only what the metadata
// lists: its component versions (by manifest digest) and its images (by
// index entry or artifact). The metadata itself is checked against the tar.
func (m *Metadata) checkBOM() error {
	if m.BOM == nil {
		return nil
	}
	if err := m.BOM.Validate(); err != nil {
		return err
	}
	versions := map[string]v1.Hash{}
	for _, c := range m.Components {
		versions[c.Name+":"+c.Version] = c.Digest
	}
	for _, c := range m.BOM.Components {
		if d, ok := versions[c.Name+":"+c.Version]; !ok || d != c.Manifest {
			return fmt.Errorf("bill of materials names %s:%s@%s, which the bundle does not list", c.Name, c.Version, c.Manifest)
		}
	}
	held := map[string]bool{}
	for _, a := range m.Artifacts {
		held[a.Repository+"@"+a.Digest.String()] = true
	}
	for _, e := range m.Index {
		held[e.Repository+"@"+e.Digest.String()] = true
	}
	for _, im := range m.BOM.Images {
		if !held[im.Target+"@"+im.Digest.String()] {
			return fmt.Errorf("bill of materials names the image %s@%s, which the bundle does not list", im.Target, im.Digest)
		}
	}
	return nil
}

func checkHash(h v1.Hash) error {
	n := map[string]int{"sha256": 64, "sha512": 128}[h.Algorithm]
	if n == 0 || len(h.Hex) != n || strings.Trim(h.Hex, "0123456789abcdef") != "" {
		return fmt.Errorf("digest %q is not sha256 or sha512", h)
	}
	return nil
}

// metadataArtifact is the OCI artifact that holds the metadata: an image
// manifest with artifactType ArtifactType, the empty config and one layer.
type metadataArtifact struct {
	manifest, layer []byte
	manifestDesc    v1.Descriptor
	layerDesc       v1.Descriptor
	configDesc      v1.Descriptor
}

type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     types.MediaType `json:"mediaType"`
	ArtifactType  string          `json:"artifactType"`
	Config        descJSON        `json:"config"`
	Layers        []descJSON      `json:"layers"`
}

type descJSON struct {
	MediaType types.MediaType `json:"mediaType"`
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
}

func newMetadataArtifact(layer []byte) metadataArtifact {
	a := metadataArtifact{layer: layer}
	a.configDesc = v1.Descriptor{MediaType: mediaTypeEmpty, Size: int64(len(emptyConfig)), Digest: oci.Digest(emptyConfig)}
	a.layerDesc = v1.Descriptor{MediaType: MediaTypeMetadata, Size: int64(len(layer)), Digest: oci.Digest(layer)}
	m := ociManifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: ArtifactType,
		Config: descJSON{a.configDesc.MediaType, a.configDesc.Digest, a.configDesc.Size},
		Layers: []descJSON{{a.layerDesc.MediaType, a.layerDesc.Digest, a.layerDesc.Size}}}
	a.manifest, _ = json.Marshal(m)
	a.manifestDesc = v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(a.manifest)), Digest: oci.Digest(a.manifest)}
	return a
}

// blobs lists the artifact's three blobs with their bytes.
func (a metadataArtifact) blobs() map[v1.Hash][]byte {
	return map[v1.Hash][]byte{a.manifestDesc.Digest: a.manifest, a.configDesc.Digest: emptyConfig, a.layerDesc.Digest: a.layer}
}

// readMetadata reads ferry/bundle:metadata from s; nil, nil when s has none.
func readMetadata(ctx context.Context, s oci.Reader) (*Metadata, []v1.Hash, error) {
	ref := oci.Ref{Repository: MetadataRepository, Tag: MetadataTag}
	d, err := s.Resolve(ctx, ref)
	if errors.Is(err, oci.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the bundle metadata: %w", err)
	}
	b, err := oci.FetchBytes(ctx, s, MetadataRepository, d, oci.MaxManifestBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the bundle metadata manifest: %w", err)
	}
	var m ociManifest
	if err := json.Unmarshal(b, &m); err != nil || m.ArtifactType != ArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeMetadata {
		return nil, nil, fmt.Errorf("%w: %s:%s is not a manifest with artifactType %s and one %s layer", ErrInvalidMetadata, MetadataRepository, MetadataTag, ArtifactType, MediaTypeMetadata)
	}
	l := m.Layers[0]
	if l.Size > MaxMetadataBytes {
		return nil, nil, fmt.Errorf("%w: layer of %d bytes: %w", ErrInvalidMetadata, l.Size, oci.ErrTooLarge)
	}
	lb, err := oci.FetchBytes(ctx, s, MetadataRepository, v1.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size}, MaxMetadataBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the bundle metadata: %w", err)
	}
	md, err := ParseMetadata(lb)
	if err != nil {
		return nil, nil, err
	}
	return md, []v1.Hash{d.Digest, m.Config.Digest, l.Digest}, nil
}
