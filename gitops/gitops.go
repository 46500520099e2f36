package gitops

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
)

// Media types of the artifact.
const (
	// MediaTypeLayer is the layer of the default format: on Argo CD's
	// default allowlist, gzip as Flux requires, a plain tar for Config Sync.
	MediaTypeLayer = "application/vnd.oci.image.layer.v1.tar+gzip"
	// MediaTypeFluxConfig and MediaTypeFluxLayer are what `flux push
	// artifact` writes (Format "flux").
	MediaTypeFluxConfig = "application/vnd.cncf.flux.config.v1+json"
	MediaTypeFluxLayer  = "application/vnd.cncf.flux.content.v1.tar+gzip"
	// ArtifactType marks the default format's manifest, whose config is the
	// OCI empty descriptor (image-spec 1.1 asks for an artifactType then).
	ArtifactType = "application/vnd.ferry.gitops.v1"
)

// The annotations Build writes on the manifest.
const (
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationCreated  = "org.opencontainers.image.created"
)

// Created is the creation time written when Options.Created is zero: the
// Unix epoch, in UTC, so that the same files give the same digest.
var Created = time.Unix(0, 0).UTC()

// mtime is every tar entry's modification time.
var mtime = time.Unix(0, 0).UTC()

// Format selects the media types.
type Format string

// The formats.
const (
	// FormatOCI (the default): config application/vnd.oci.empty.v1+json
	// ("{}") with ArtifactType, one MediaTypeLayer layer. Flux's
	// OCIRepository ignores the config and takes the first tar+gzip layer,
	// Argo CD (3.1+) accepts one layer of this type without configuration,
	// Config Sync flattens the layers and ignores the config.
	FormatOCI Format = "oci"
	// FormatFlux: Flux's own config and layer media types, as `flux push
	// artifact` writes them. Argo CD needs its layer media types extended to
	// read it.
	FormatFlux Format = "flux"
)

// Options are the settings of Build. The zero value builds FormatOCI with
// no source or revision and Created as the creation time.
type Options struct {
	Source      string            // org.opencontainers.image.source; omitted when ""
	Revision    string            // org.opencontainers.image.revision ("6.3.5@sha256:…"); omitted when ""
	Created     time.Time         // org.opencontainers.image.created; zero means Created (the epoch)
	Format      Format            // "" means FormatOCI
	Annotations map[string]string // further manifest annotations
}

// Artifact is a built GitOps artifact: the manifest, its config and its one
// layer, all in memory (the layer is a tree of manifests: small).
type Artifact struct {
	Manifest []byte
	Config   []byte
	Layer    []byte
	// Descriptor is the manifest's descriptor: its digest is the artifact's.
	Descriptor       v1.Descriptor
	ConfigDescriptor v1.Descriptor
	LayerDescriptor  v1.Descriptor
}

// Build makes the artifact of the files in fsys (a directory with
// os.DirFS, or localize.Files). The layer is a gzip tar with normalised
// headers: entries sorted by path, every parent directory present, mtime
// the epoch, uid and gid 0, no user or group names, mode 0755 for
// directories and executable files and 0644 for the rest; gzip at level 9
// with no name and no time. Symbolic links and other irregular files are
// refused (ErrUnsafeArchive of package localize). The same files and options
// give the same digest on any machine, in any time zone, whatever the
// files' times.
func Build(fsys fs.FS, o Options) (*Artifact, error) {
	files, modes, err := readTree(fsys)
	if err != nil {
		return nil, err
	}
	layer, diffID, err := layerOf(files, modes)
	if err != nil {
		return nil, err
	}
	created := o.Created
	if created.IsZero() {
		created = Created
	}
	a := &Artifact{Layer: layer}
	layerMT := MediaTypeLayer
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	switch o.Format {
	case "", FormatOCI:
		a.Config = []byte("{}")
		a.ConfigDescriptor = oci.DescriptorOf(oci.MediaTypeOCIEmptyConfig, a.Config)
		m.ArtifactType = ArtifactType
	case FormatFlux:
		cfg := v1.ConfigFile{Created: v1.Time{Time: created.UTC().Truncate(time.Second)},
			RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}}}
		if a.Config, err = json.Marshal(cfg); err != nil {
			return nil, fmt.Errorf("building artifact config: %w", err)
		}
		a.ConfigDescriptor = oci.DescriptorOf(MediaTypeFluxConfig, a.Config)
		layerMT = MediaTypeFluxLayer
	default:
		return nil, fmt.Errorf("building artifact: format %q: %w", o.Format, oci.ErrUnsupported)
	}
	a.LayerDescriptor = oci.DescriptorOf(types.MediaType(layerMT), layer)
	m.Config = a.ConfigDescriptor
	m.Layers = []v1.Descriptor{a.LayerDescriptor}
	m.Annotations = map[string]string{}
	for k, v := range o.Annotations {
		m.Annotations[k] = v
	}
	m.Annotations[AnnotationCreated] = created.UTC().Format(time.RFC3339)
	if o.Source != "" {
		m.Annotations[AnnotationSource] = o.Source
	}
	if o.Revision != "" {
		m.Annotations[AnnotationRevision] = o.Revision
	}
	if a.Manifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("building artifact manifest: %w", err)
	}
	a.Descriptor = oci.DescriptorOf(types.OCIManifestSchema1, a.Manifest)
	return a, nil
}

// readTree reads fsys and notes which files are executable.
func readTree(fsys fs.FS) (localize.Files, map[string]bool, error) {
	exec := map[string]bool{}
	if f, ok := fsys.(localize.Files); ok {
		return f, exec, nil
	}
	files, err := localize.ReadFS(fsys, localize.Limits{})
	if err != nil {
		return nil, nil, fmt.Errorf("building artifact: %w", err)
	}
	for p := range files {
		if fi, err := fs.Stat(fsys, p); err == nil && fi.Mode().Perm()&0o111 != 0 {
			exec[p] = true
		}
	}
	return files, exec, nil
}

// layerOf writes the normalised tar.gz and returns it with the digest of the
// uncompressed tar (the diff ID).
func layerOf(files localize.Files, exec map[string]bool) ([]byte, v1.Hash, error) {
	entries := map[string]bool{} // path → is a directory
	for p := range files {
		entries[p] = false
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			entries[d] = true
		}
	}
	names := make([]string, 0, len(entries))
	for p := range entries {
		names = append(names, p)
	}
	sort.Strings(names)
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, p := range names {
		h := &tar.Header{Name: p, ModTime: mtime, Mode: 0o644, Typeflag: tar.TypeReg}
		if entries[p] {
			h.Name, h.Mode, h.Typeflag = p+"/", 0o755, tar.TypeDir
		} else {
			h.Size = int64(len(files[p]))
			if exec[p] {
				h.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, v1.Hash{}, fmt.Errorf("building artifact layer: %s: %w", p, err)
		}
		if !entries[p] {
			if _, err := tw.Write(files[p]); err != nil {
				return nil, v1.Hash{}, fmt.Errorf("building artifact layer: %s: %w", p, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, v1.Hash{}, fmt.Errorf("building artifact layer: %w", err)
	}
	diffID := oci.Digest(tarBuf.Bytes())
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	// The header keeps its zero values: no name, no comment, mtime 0, OS 255.
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, v1.Hash{}, fmt.Errorf("building artifact layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, v1.Hash{}, fmt.Errorf("building artifact layer: %w", err)
	}
	return gz.Bytes(), diffID, nil
}

// Push stores the artifact in store at ref: the layer and config blobs
// (skipped when present), then the manifest, then the tag when ref has one.
// It returns the manifest's descriptor.
func Push(ctx context.Context, store oci.Store, ref oci.Ref, a *Artifact) (v1.Descriptor, error) {
	repo := ref.Repo()
	for _, b := range []struct {
		d v1.Descriptor
		c []byte
	}{{a.LayerDescriptor, a.Layer}, {a.ConfigDescriptor, a.Config}, {a.Descriptor, a.Manifest}} {
		if err := oci.PushBytes(ctx, store, repo, b.d, b.c); err != nil {
			return v1.Descriptor{}, fmt.Errorf("pushing artifact to %s: %w", ref, err)
		}
	}
	if ref.Digest != (v1.Hash{}) && ref.Digest != a.Descriptor.Digest {
		return v1.Descriptor{}, fmt.Errorf("pushing artifact to %s: it is %s: %w", ref, a.Descriptor.Digest, oci.ErrDigestMismatch)
	}
	if ref.Tag != "" {
		if err := store.Tag(ctx, ref, a.Descriptor); err != nil {
			return v1.Descriptor{}, fmt.Errorf("tagging artifact %s: %w", ref, err)
		}
	}
	return a.Descriptor, nil
}

// PullOptions bound Pull. Zero fields take the defaults.
type PullOptions struct {
	// Limits bound the unpacked files (see localize.Limits).
	Limits localize.Limits
	// MaxLayerSize bounds the compressed layer; default 256 MiB.
	MaxLayerSize int64
}

// Pulled is what Pull found.
type Pulled struct {
	Descriptor  v1.Descriptor     `json:"descriptor"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Files       localize.Files    `json:"-"`
}

// ErrNotArtifact: the reference names something other than a GitOps
// artifact (an index, several layers, a layer of another media type).
var ErrNotArtifact = errors.New("not a GitOps artifact")

// Fetch reads the artifact at ref into memory: the manifest (an OCI image
// manifest with exactly one layer of MediaTypeLayer or MediaTypeFluxLayer,
// else ErrNotArtifact), then the layer, verified against its digest before
// it is unpacked, and unpacked with localize.ReadArchive's checks.
func Fetch(ctx context.Context, store oci.Reader, ref oci.Ref, o PullOptions) (*Pulled, error) {
	d, err := store.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("pulling artifact %s: %w", ref, err)
	}
	mb, err := oci.FetchBytes(ctx, store, ref.Repo(), d, oci.MaxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("pulling artifact %s: %w", ref, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("pulling artifact %s: %w: %v", ref, ErrNotArtifact, err)
	}
	if d.MediaType != types.OCIManifestSchema1 && m.MediaType != types.OCIManifestSchema1 {
		return nil, fmt.Errorf("pulling artifact %s: %w: media type %s", ref, ErrNotArtifact, firstNonEmpty(string(d.MediaType), string(m.MediaType)))
	}
	if len(m.Layers) != 1 {
		return nil, fmt.Errorf("pulling artifact %s: %w: %d layers, want 1", ref, ErrNotArtifact, len(m.Layers))
	}
	l := m.Layers[0]
	if l.MediaType != MediaTypeLayer && l.MediaType != MediaTypeFluxLayer {
		return nil, fmt.Errorf("pulling artifact %s: %w: layer media type %s", ref, ErrNotArtifact, l.MediaType)
	}
	maxLayer := o.MaxLayerSize
	if maxLayer <= 0 {
		maxLayer = 256 << 20
	}
	if l.Size < 0 || l.Size > maxLayer {
		return nil, fmt.Errorf("pulling artifact %s: layer of %d bytes: %w (limit %d)", ref, l.Size, oci.ErrTooLarge, maxLayer)
	}
	layer, err := oci.FetchBytes(ctx, store, ref.Repo(), l, maxLayer)
	if err != nil {
		return nil, fmt.Errorf("pulling artifact %s: layer %s: %w", ref, l.Digest, err)
	}
	files, err := Unpack(layer, o.Limits)
	if err != nil {
		return nil, fmt.Errorf("pulling artifact %s: %w", ref, err)
	}
	return &Pulled{Descriptor: d, Annotations: m.Annotations, Files: files}, nil
}

// Unpack reads a layer: a gzip-compressed tar, checked as
// localize.ReadArchive checks archives. An uncompressed tar is refused, as
// the layer media types say gzip.
func Unpack(layer []byte, l localize.Limits) (localize.Files, error) {
	if len(layer) < 2 || layer[0] != 0x1f || layer[1] != 0x8b {
		return nil, fmt.Errorf("unpacking layer: %w: not gzip", ErrNotArtifact)
	}
	return localize.ReadArchive(bytes.NewReader(layer), l)
}

// Pull fetches the artifact at ref (see Fetch) and writes its files below
// dir with localize.WriteFiles. Nothing is written unless the whole layer
// verified and unpacked.
func Pull(ctx context.Context, store oci.Reader, ref oci.Ref, dir string, o PullOptions) (*Pulled, error) {
	p, err := Fetch(ctx, store, ref, o)
	if err != nil {
		return nil, err
	}
	if err := localize.WriteFiles(dir, p.Files); err != nil {
		return nil, fmt.Errorf("pulling artifact %s: %w", ref, err)
	}
	return p, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
