package ocireg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/pending"
	"github.com/ferry-oci/ferry/oci"
)

// Repository is the component versions stored under one base in a store.
// It holds no state besides the store and the base, and is safe for
// concurrent use when the store is.
type Repository struct {
	store oci.Store
	base  string
}

// New returns the repository of component versions under base in store.
// base is "host[:port]/path" for a registry ("127.0.0.1:5000/ocm"), with or
// without a path, and "" for a CTF archive, whose repositories carry no
// host.
func New(store oci.Store, base string) *Repository {
	return &Repository{store: store, base: strings.TrimRight(base, "/")}
}

// Base returns the base the repository was made with.
func (r *Repository) Base() string { return r.base }

// Store returns the store the repository reads and writes.
func (r *Repository) Store() oci.Store { return r.store }

// Ref returns the reference of a component version: its repository
// (ComponentRepo) and tag (VersionTag). It fails with an error wrapping
// oci.ErrInvalidReference when the name or version cannot be spelled as
// one.
func (r *Repository) Ref(name, version string) (oci.Ref, error) {
	if name == "" || version == "" {
		return oci.Ref{}, fmt.Errorf("component version %q:%q: name and version must be set: %w", name, version, oci.ErrInvalidReference)
	}
	ref, err := oci.ParseRef(ComponentRepo(r.base, name) + ":" + VersionTag(version))
	if err != nil {
		return oci.Ref{}, fmt.Errorf("component version %s:%s: %w", name, version, err)
	}
	return ref, nil
}

// Components lists the names of the components the store holds under the
// base, sorted. It needs a store that lists its repositories
// (oci.RepositoryLister, as a CTF archive does, or a registry Store's
// catalog, see catalogs); others fail with oci.ErrUnsupported.
func (r *Repository) Components(ctx context.Context) ([]string, error) {
	rl, ok := r.store.(oci.RepositoryLister)
	if c, isCatalogs := r.store.(catalogs); !ok && isCatalogs && r.base != "" {
		host, _, _ := strings.Cut(r.base, "/")
		rl, ok = c.Lister(host), true
	}
	if !ok {
		return nil, fmt.Errorf("listing components in %q: the store cannot list repositories: %w", r.base, oci.ErrUnsupported)
	}
	repos, err := rl.Repositories(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing components in %q: %w", r.base, err)
	}
	prefix := ComponentRepo(r.base, "")
	var out []string
	for _, repo := range repos {
		if name, ok := strings.CutPrefix(repo, prefix); ok && name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Versions lists the versions of component name in precedence order
// (CompareVersions), lowest first. Tags that stand for digests (containing
// ':', starting with '@', or sha256-<hex> referrer and signature tags) and
// tags that do not map to a version in OCM's relaxed semver are left out.
// A component that has no versions has none: the result is empty, not an
// error. The store must list tags (oci.TagLister), else the error wraps
// oci.ErrUnsupported.
func (r *Repository) Versions(ctx context.Context, name string) ([]string, error) {
	repo := ComponentRepo(r.base, name)
	tl, ok := r.store.(oci.TagLister)
	if !ok {
		return nil, fmt.Errorf("listing versions of %s in %s: the store cannot list tags: %w", name, repo, oci.ErrUnsupported)
	}
	tags, err := tl.Tags(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s in %s: %w", name, repo, err)
	}
	out := []string{}
	for _, t := range tags {
		if !versionCandidate(t) {
			continue
		}
		if v := TagVersion(t); IsVersion(v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, CompareVersions)
	return slices.Compact(out), nil
}

// Resolve returns the descriptor of what the version's tag points at: the
// image manifest, or the index of an OCM v2 version with artifacts. A
// missing version gives an error wrapping oci.ErrNotFound. It reads nothing
// else, so it is the cheap way to compare a target with Artifact.Manifest.
func (r *Repository) Resolve(ctx context.Context, name, version string) (v1.Descriptor, error) {
	ref, err := r.Ref(name, version)
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := r.store.Resolve(ctx, ref)
	if errors.Is(err, oci.ErrNotFound) {
		return v1.Descriptor{}, r.NotFound(ctx, name, version, err)
	}
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("component version %s:%s in %s: %w", name, version, ref.Repo(), err)
	}
	return d, nil
}

// Version is a component version read from a store.
type Version struct {
	// Ref is the repository and tag the version was read from, with the
	// digest of what the tag points at.
	Ref oci.Ref
	// Descriptor is the decoded descriptor.
	Descriptor *component.Descriptor
	// Raw is the descriptor as stored: the component-descriptor.yaml of a
	// tar layer, or the whole of a JSON or YAML layer.
	Raw []byte

	// Index is the OCM v2 index the tag points at, with its bytes; zero and
	// nil when the tag points at the manifest itself.
	Index      v1.Descriptor
	IndexBytes []byte
	// Artifacts are the index's other entries (OCM v2 stores OCI artifacts
	// given as local blobs this way, §2.5); nil without an index.
	Artifacts []v1.Descriptor

	// Manifest is the image manifest holding the descriptor, with its bytes.
	Manifest      v1.Descriptor
	ManifestBytes []byte
	// Annotations are the manifest's annotations (software.ocm.creator, …).
	Annotations map[string]string
	// Config is the config blob's descriptor and bytes.
	Config      v1.Descriptor
	ConfigBytes []byte
	// DescriptorLayer is the layer holding the descriptor, as the config
	// names it (with the size from the manifest when the config has none).
	DescriptorLayer v1.Descriptor
	// Layers are the manifest's layers in order, the descriptor layer
	// included.
	Layers []v1.Descriptor

	store      oci.Reader
	layerBytes []byte // the descriptor layer as stored
}

// Get reads component version name:version: it resolves the tag, reads
// the manifest (choosing the descriptor manifest when the tag names an OCM
// v2 index), checks the config media type, reads the descriptor layer the
// config names (a tar holding component-descriptor.yaml, or a plain YAML or
// JSON layer, under OCM's and the Gardener-era media types, §2.4) and
// decodes it with component.Decode. Every read is bounded: manifests and
// configs by oci.MaxManifestBytes, the descriptor by
// component.MaxDescriptorBytes.
//
// A missing component or version gives an error wrapping oci.ErrNotFound
// that names name:version and the repository; an artifact that is not a
// component version ErrNotComponent; an unreadable one ErrMalformed or the
// store's error.
func (r *Repository) Get(ctx context.Context, name, version string) (*Version, error) {
	ref, err := r.Ref(name, version)
	if err != nil {
		return nil, err
	}
	v, err := r.get(ctx, ref, name, version)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading component version %s:%s from %s: %w", name, version, ref.Repo(), err)
	}
	return v, nil
}

func (r *Repository) get(ctx context.Context, ref oci.Ref, name, version string) (*Version, error) {
	component.PrepareSchema(component.SchemeV2) // most descriptors are v2; compiled while the requests wait
	repo := ref.Repo()
	top, topBytes, err := oci.ReadManifest(ctx, r.store, ref)
	if errors.Is(err, oci.ErrNotFound) {
		return nil, r.NotFound(ctx, name, version, err)
	}
	if err != nil {
		return nil, err
	}
	ref.Digest = top.Digest
	v := &Version{Ref: ref, store: r.store}
	md := top
	if oci.IsIndex(top.MediaType) {
		v.Index, v.IndexBytes = top, topBytes
		if md, v.Artifacts, err = descriptorManifest(v.IndexBytes); err != nil {
			return nil, err
		}
	}
	if md.MediaType != types.OCIManifestSchema1 && md.MediaType != types.DockerManifestSchema2 {
		return nil, fmt.Errorf("%s %s is a %q, not an image manifest: %w", repo, md.Digest, md.MediaType, ErrNotComponent)
	}
	v.Manifest = md
	if v.Index.Digest == (v1.Hash{}) {
		v.ManifestBytes = topBytes
	} else if v.ManifestBytes, err = oci.FetchBytes(ctx, r.store, repo, md, 0); err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(v.ManifestBytes, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest %s: %v: %w", md.Digest, err, ErrMalformed)
	}
	v.Annotations, v.Layers, v.Config = m.Annotations, m.Layers, m.Config
	switch mt := string(m.Config.MediaType); {
	case mt == "":
		return nil, fmt.Errorf("manifest %s has a config without media type: %w", md.Digest, oci.ErrNotFound)
	case !configMediaTypes[mt]:
		return nil, fmt.Errorf("manifest %s has config media type %q: %w", md.Digest, mt, ErrNotComponent)
	}
	// The config names the descriptor layer, which is nearly always the
	// one layer of a descriptor media type: that one is read while the
	// config is, and read again only if the config names another.
	early := readLayerEarly(ctx, r.store, repo, m.Layers)
	defer early.stop()
	if v.ConfigBytes, err = oci.FetchBytes(ctx, r.store, repo, m.Config, 0); err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if v.DescriptorLayer, err = descriptorLayerOf(v.ConfigBytes, m.Layers); err != nil {
		return nil, err
	}
	if lr, ok, lerr := early.of(v.DescriptorLayer); ok {
		v.Raw, v.layerBytes, err = lr.raw, lr.layer, lerr
	} else {
		v.Raw, v.layerBytes, err = readDescriptorLayer(ctx, r.store, repo, v.DescriptorLayer)
	}
	if err != nil {
		return nil, err
	}
	d, err := component.Decode(v.Raw)
	if err != nil {
		return nil, fmt.Errorf("decoding descriptor layer %s: %w", v.DescriptorLayer.Digest, err)
	}
	if d.Name != name || d.Version != version {
		return nil, fmt.Errorf("the descriptor stored as %s:%s is %s:%s: %w", name, version, d.Name, d.Version, ErrMalformed)
	}
	v.Descriptor = d
	return v, nil
}

// descriptorManifest picks the descriptor manifest of an OCM v2 index
// (§2.4): the entry annotated software.ocm.descriptor: "true", else the
// first with the artifactType of a descriptor (as the OCM v2 CLI writes
// it), else the first. The other entries are returned as artifacts.
func descriptorManifest(index []byte) (v1.Descriptor, []v1.Descriptor, error) {
	var ix v1.IndexManifest
	if err := json.Unmarshal(index, &ix); err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("decoding index: %v: %w", err, ErrMalformed)
	}
	if len(ix.Manifests) == 0 {
		return v1.Descriptor{}, nil, fmt.Errorf("the index lists no manifests: %w", ErrNotComponent)
	}
	pick := -1
	for i, d := range ix.Manifests {
		if d.Annotations[AnnotationDescriptor] == "true" {
			if pick >= 0 {
				return v1.Descriptor{}, nil, fmt.Errorf("the index marks %s and %s as the descriptor: %w", ix.Manifests[pick].Digest, d.Digest, ErrMalformed)
			}
			pick = i
		}
	}
	if pick < 0 {
		pick = max(slices.IndexFunc(ix.Manifests, func(d v1.Descriptor) bool { return d.ArtifactType == ArtifactTypeDescriptor }), 0)
	}
	rest := slices.Delete(slices.Clone(ix.Manifests), pick, pick+1)
	return ix.Manifests[pick], rest, nil
}

// earlyLayer is a read of a descriptor layer started before the config
// named the layer to read.
type earlyLayer struct {
	d    v1.Descriptor
	read *pending.Call[layerRead]
}

// layerRead is what readDescriptorLayer returns.
type layerRead struct{ raw, layer []byte }

// readLayerEarly starts reading the one layer of layers whose media type is
// a descriptor's; with none or several it starts nothing and returns nil.
func readLayerEarly(ctx context.Context, s oci.Reader, repo string, layers []v1.Descriptor) *earlyLayer {
	var d v1.Descriptor
	for _, l := range layers {
		if descriptorLayerTypes[string(l.MediaType)] == layerUnknown {
			continue
		}
		if d.Digest != (v1.Hash{}) {
			return nil
		}
		d = l
	}
	if d.Digest == (v1.Hash{}) {
		return nil
	}
	return &earlyLayer{d: d, read: pending.Start(ctx, func(ctx context.Context) (layerRead, error) {
		raw, layer, err := readDescriptorLayer(ctx, s, repo, d)
		return layerRead{raw, layer}, err
	})}
}

// of returns what the early read returned when it read d (digest, media
// type and size); it reports false when it read another layer or none.
func (e *earlyLayer) of(d v1.Descriptor) (layerRead, bool, error) {
	if e == nil || e.d.Digest != d.Digest || e.d.MediaType != d.MediaType || e.d.Size != d.Size {
		return layerRead{}, false, nil
	}
	lr, err := e.read.Wait()
	return lr, true, err
}

// stop cancels the read if it is still under way and waits for it.
func (e *earlyLayer) stop() {
	if e != nil {
		e.read.Stop()
	}
}

// descriptorLayerOf reads the config and returns the descriptor layer it
// names, completed from the manifest's layer of the same digest when the
// config lacks the size.
func descriptorLayerOf(config []byte, layers []v1.Descriptor) (v1.Descriptor, error) {
	var c struct {
		Layer *struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"componentDescriptorLayer"`
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return v1.Descriptor{}, fmt.Errorf("decoding config: %v: %w", err, ErrMalformed)
	}
	if c.Layer == nil || c.Layer.Digest == "" {
		return v1.Descriptor{}, fmt.Errorf("the config names no componentDescriptorLayer digest: %w", ErrMalformed)
	}
	h, err := v1.NewHash(c.Layer.Digest)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("config: componentDescriptorLayer digest %q: %v: %w", c.Layer.Digest, err, ErrMalformed)
	}
	d := v1.Descriptor{MediaType: types.MediaType(c.Layer.MediaType), Digest: h, Size: c.Layer.Size}
	if d.Size <= 0 {
		i := slices.IndexFunc(layers, func(l v1.Descriptor) bool { return l.Digest == h })
		if i < 0 {
			return v1.Descriptor{}, fmt.Errorf("the config names descriptor layer %s without a size, and the manifest has no such layer: %w", h, ErrMalformed)
		}
		d.Size = layers[i].Size
	}
	return d, nil
}

// maxTarOverhead is what a descriptor layer tar may hold beyond the
// descriptor: headers, padding, the end blocks and a few small members.
const maxTarOverhead = 1 << 20

// readDescriptorLayer fetches the descriptor layer d (verified, bounded)
// and returns the descriptor in it, dispatching on d's media type, and the
// layer's bytes.
func readDescriptorLayer(ctx context.Context, s oci.Reader, repo string, d v1.Descriptor) (raw, layer []byte, err error) {
	kind := descriptorLayerTypes[string(d.MediaType)]
	limit := int64(component.MaxDescriptorBytes)
	switch kind {
	case layerUnknown:
		return nil, nil, fmt.Errorf("descriptor layer %s has media type %q, which is not a component descriptor: %w", d.Digest, d.MediaType, ErrMalformed)
	case layerTar:
		limit += maxTarOverhead
	}
	b, err := oci.FetchBytes(ctx, s, repo, d, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("reading descriptor layer: %w", err)
	}
	if kind == layerPlain {
		return b, b, nil
	}
	raw, err = DescriptorFromTar(b)
	if err != nil {
		return nil, nil, fmt.Errorf("descriptor layer %s: %w", d.Digest, err)
	}
	return raw, b, nil
}
