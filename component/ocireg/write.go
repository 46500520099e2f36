package ocireg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// WriteOptions are the per-call settings of Manifest and Write. The zero
// value writes as documented.
type WriteOptions struct {
	// Creator is the software.ocm.creator annotation; "" means
	// DefaultCreator. A transfer that wants a byte-identical copy of a
	// version OCM wrote passes the source's value
	// (Version.Annotations[AnnotationCreator]).
	Creator string
	// Artifacts describe the OCI-native local blobs (IsIndexArtifact): the
	// manifests and indexes that localBlob accesses of d name by digest.
	// With any, the version is written as OCM v2 writes it (ADR 0013): an
	// index whose first entry is the descriptor manifest and whose further
	// entries are these artifacts, each annotated with the elements that
	// use it; the tag names the index. The artifacts themselves (and
	// everything below them) must be in the repository before the index.
	Artifacts []v1.Descriptor
	// Layout chooses the descriptor manifest's form; the zero value is
	// LayoutV1 unless Artifacts are given, which need LayoutV2.
	Layout Layout
	// Annotations are further annotations of the descriptor manifest, and
	// IndexAnnotations those of the index (LayoutV2), such as the ones the
	// OCM v2 CLI writes (org.opencontainers.image.*): a transfer passes the
	// source's, so that a version re-encoded in OCM v2's layout keeps them.
	// software.ocm.componentversion and software.ocm.creator are always
	// ferry's (Creator).
	Annotations, IndexAnnotations map[string]string
}

// Layout is how a component version's descriptor manifest is written.
type Layout string

const (
	// LayoutV1 is OCM v1's form, which both OCM CLIs read: the descriptor
	// as component-descriptor.yaml in a tar layer.
	LayoutV1 Layout = "v1"
	// LayoutV2 is OCM v2's form: the descriptor as a JSON layer, the
	// manifest with the descriptor artifactType, and an index above it
	// when the version has OCI-native local blobs.
	LayoutV2 Layout = "v2"
)

// Artifact is a component version as OCI content: what Write pushes, in
// the order it pushes it.
type Artifact struct {
	// Blobs are the local-blob layers (manifest layers 1..n) in order,
	// with their software.ocm.artifact annotations.
	Blobs []v1.Descriptor
	// Layer is the descriptor layer (a tar, DescriptorTar) and its bytes.
	Layer      v1.Descriptor
	LayerBytes []byte
	// Config is the config blob and its bytes.
	Config      v1.Descriptor
	ConfigBytes []byte
	// Manifest is the image manifest and its bytes; Write tags it unless
	// there is an Index.
	Manifest      v1.Descriptor
	ManifestBytes []byte
	// Index (LayoutV2 with artifacts) is the index listing Manifest and
	// Artifacts, with its bytes; Write tags it. Zero without artifacts.
	Index      v1.Descriptor
	IndexBytes []byte
	// Artifacts are the index's entries after the descriptor manifest,
	// with their software.ocm.artifact annotations.
	Artifacts []v1.Descriptor
}

// Top is what the version's tag names: the index, else the manifest.
func (a *Artifact) Top() v1.Descriptor {
	if a.Index.Digest != (v1.Hash{}) {
		return a.Index
	}
	return a.Manifest
}

// Parts are the documents of the version in the order they are pushed
// after the local blobs and artifacts: descriptor layer, config, manifest,
// then the index when there is one.
func (a *Artifact) Parts() []Part {
	ps := []Part{{a.Layer, a.LayerBytes}, {a.Config, a.ConfigBytes}, {a.Manifest, a.ManifestBytes}}
	if a.Index.Digest != (v1.Hash{}) {
		ps = append(ps, Part{a.Index, a.IndexBytes})
	}
	return ps
}

// Part is one document of an Artifact and its bytes.
type Part struct {
	Descriptor v1.Descriptor
	Bytes      []byte
}

// ociDescriptor is a descriptor with the members in the order of the OCI
// image-spec Go types OCM marshals (ggcr's v1.Descriptor puts size before
// digest, which would change the bytes).
type ociDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        ociDescriptor     `json:"config"`
	Layers        []ociDescriptor   `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type ociIndex struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Manifests     []ociDescriptor   `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type componentConfig struct {
	ComponentDescriptorLayer ociDescriptor `json:"componentDescriptorLayer"`
}

// artifactRef is one entry of the software.ocm.artifact annotation.
type artifactRef struct {
	Kind     string             `json:"kind"`
	Identity component.Identity `json:"identity"`
}

// artifactRefV2 is the same entry as the OCM v2 CLI writes it: members
// sorted, and the identity with the version and the extra identity.
type artifactRefV2 struct {
	Identity component.Identity `json:"identity"`
	Kind     string             `json:"kind"`
}

// identityV2 is an element's identity as the OCM v2 CLI writes it in
// software.ocm.artifact: name, version when set, and the extra identity.
func identityV2(m component.ElementMeta) component.Identity {
	id := component.Identity{"name": m.Name}
	if m.Version != "" {
		id["version"] = m.Version
	}
	for k, v := range m.ExtraIdentity {
		id[k] = v
	}
	return id
}

func toOCI(d v1.Descriptor) ociDescriptor {
	return ociDescriptor{MediaType: string(d.MediaType), Digest: d.Digest.String(), Size: d.Size, Annotations: d.Annotations, ArtifactType: d.ArtifactType}
}

// Manifest computes the OCI content of component version d as OCM v1 writes
// it (§2.3), without touching a store: the descriptor encoded in d's scheme
// (component.Encode) in a tar layer (DescriptorTar), the config
// {"componentDescriptorLayer":…}, and the manifest whose layers are the
// descriptor layer and then one layer per distinct blob that a localBlob
// access of d names, in the order of first use by the resources and then
// the sources. Each blob layer carries the software.ocm.artifact annotation
// listing every element that uses it (resources, then sources, in order;
// identities as component.Descriptor.ResourceIdentity computes them); its
// media type is the access's mediaType, else blobs' media type, else
// application/octet-stream. The manifest carries the annotations
// software.ocm.componentversion = "<name>:<version>" and
// software.ocm.creator (WriteOptions.Creator).
//
// blobs must describe every digest the localBlob accesses name (a chunked
// localReference names several), except OCI-native local blobs given in
// WriteOptions.Artifacts; blobs and artifacts no access names are left
// out, as OCM drops them. With artifacts, or with LayoutV2, the version
// takes OCM v2's form (see WriteOptions.Artifacts and LayoutV2). The same
// d, blobs and options always give the same bytes.
func Manifest(d *component.Descriptor, blobs []v1.Descriptor, o WriteOptions) (*Artifact, error) {
	fail := func(err error) (*Artifact, error) {
		return nil, fmt.Errorf("encoding component version %s:%s: %w", d.Name, d.Version, err)
	}
	if d.Name == "" || d.Version == "" {
		return fail(fmt.Errorf("name and version must be set: %w", ErrMalformed))
	}
	layout := o.Layout
	switch {
	case layout == "" && len(o.Artifacts) > 0:
		layout = LayoutV2
	case layout == "":
		layout = LayoutV1
	case layout != LayoutV1 && layout != LayoutV2:
		return fail(fmt.Errorf("layout %q: %w", layout, ErrMalformed))
	}
	layers, arts, err := blobLayers(d, blobs, o.Artifacts, layout == LayoutV2)
	if err != nil {
		return fail(err)
	}
	if len(arts) > 0 && layout != LayoutV2 {
		return fail(fmt.Errorf("OCI artifacts in the version's index need layout %s: %w", LayoutV2, ErrMalformed))
	}
	a := &Artifact{Blobs: layers}
	if layout == LayoutV2 {
		enc := component.EncodeJSONOCMv2
		if d.SchemeOrDefault() != component.SchemeV2 {
			// OCM v2 writes scheme v2 only; another scheme is kept as JSON in it.
			enc = func(d *component.Descriptor) ([]byte, error) { return component.EncodeJSON(d, "") }
		}
		if a.LayerBytes, err = enc(d); err != nil {
			return fail(err)
		}
		a.Layer = oci.DescriptorOf(MediaTypeDescriptorJSON, a.LayerBytes)
	} else {
		raw, err := component.Encode(d, "")
		if err != nil {
			return fail(err)
		}
		if a.LayerBytes, err = DescriptorTar(raw); err != nil {
			return fail(err)
		}
		a.Layer = oci.DescriptorOf(MediaTypeDescriptorTar, a.LayerBytes)
	}
	a.ConfigBytes, err = json.Marshal(componentConfig{ComponentDescriptorLayer: toOCI(a.Layer)})
	if err != nil {
		return fail(err)
	}
	a.Config = oci.DescriptorOf(MediaTypeConfig, a.ConfigBytes)
	m := ociManifest{
		SchemaVersion: 2,
		MediaType:     oci.MediaTypeOCIManifest,
		Config:        toOCI(a.Config),
		Layers:        []ociDescriptor{toOCI(a.Layer)},
		Annotations: withAnnotations(o.Annotations, map[string]string{
			AnnotationComponentVersion: d.Name + ":" + d.Version,
			AnnotationCreator:          o.creator(),
		}),
	}
	if layout == LayoutV2 {
		m.ArtifactType = ArtifactTypeDescriptor
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, toOCI(l))
	}
	if a.ManifestBytes, err = json.Marshal(m); err != nil {
		return fail(err)
	}
	a.Manifest = oci.DescriptorOf(types.OCIManifestSchema1, a.ManifestBytes)
	if len(arts) == 0 {
		return a, nil
	}
	entry := toOCI(a.Manifest)
	entry.Annotations, entry.ArtifactType = m.Annotations, ArtifactTypeDescriptor
	ix := ociIndex{SchemaVersion: 2, MediaType: oci.MediaTypeOCIIndex, Manifests: []ociDescriptor{entry},
		Annotations: withAnnotations(o.IndexAnnotations, map[string]string{
			AnnotationComponentVersion: d.Name + ":" + d.Version,
			AnnotationCreator:          o.creator(),
		})}
	for _, e := range arts {
		ix.Manifests = append(ix.Manifests, toOCI(e))
	}
	if a.IndexBytes, err = json.Marshal(ix); err != nil {
		return fail(err)
	}
	a.Index = oci.DescriptorOf(types.OCIImageIndex, a.IndexBytes)
	a.Artifacts = arts
	return a, nil
}

// withAnnotations returns extra with own set over it.
func withAnnotations(extra, own map[string]string) map[string]string {
	out := make(map[string]string, len(extra)+len(own))
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

func (o WriteOptions) creator() string {
	if o.Creator == "" {
		return DefaultCreator
	}
	return o.Creator
}

// blobLayers returns the local-blob layers of d and the index entries of
// its OCI-native local blobs.
func blobLayers(d *component.Descriptor, blobs, artifacts []v1.Descriptor, v2 bool) ([]v1.Descriptor, []v1.Descriptor, error) {
	given := map[v1.Hash]v1.Descriptor{}
	for _, b := range blobs {
		given[b.Digest] = b
	}
	givenArt := map[v1.Hash]v1.Descriptor{}
	for _, b := range artifacts {
		givenArt[b.Digest] = b
	}
	var order, artOrder []v1.Hash
	layers := map[v1.Hash]*v1.Descriptor{}
	arts := map[v1.Hash]*v1.Descriptor{}
	users := map[v1.Hash][]artifactRef{}
	usersV2 := map[v1.Hash][]artifactRefV2{}
	use := func(kind string, id component.Identity, m component.ElementMeta, a component.Access) error {
		if a.Kind() != component.AccessLocalBlob {
			return nil
		}
		lb, err := a.LocalBlob()
		if err != nil {
			return fmt.Errorf("%s %s: %w", kind, id, err)
		}
		hs, err := LocalReferenceDigests(lb.LocalReference)
		if err != nil {
			return fmt.Errorf("%s %s: %w", kind, id, err)
		}
		for _, h := range hs {
			if !slices.ContainsFunc(usersV2[h], func(u artifactRefV2) bool { return u.Kind == kind && u.Identity.Equal(identityV2(m)) }) {
				usersV2[h] = append(usersV2[h], artifactRefV2{Kind: kind, Identity: identityV2(m)})
			}
		}
		if art, ok := givenArt[hs[0]]; ok && len(hs) == 1 && IsIndexArtifact(lb.MediaType) {
			h := hs[0]
			if arts[h] == nil {
				e := v1.Descriptor{MediaType: art.MediaType, Digest: h, Size: art.Size}
				arts[h] = &e
				artOrder = append(artOrder, h)
			}
			return nil
		}
		for _, h := range hs {
			if !slices.ContainsFunc(users[h], func(u artifactRef) bool { return u.Kind == kind && u.Identity.Equal(id) }) {
				users[h] = append(users[h], artifactRef{Kind: kind, Identity: id})
			}
			if layers[h] != nil {
				continue
			}
			b, ok := given[h]
			if !ok {
				return fmt.Errorf("%s %s: local blob %s was not given: %w", kind, id, h, oci.ErrNotFound)
			}
			l := v1.Descriptor{MediaType: types.MediaType(lb.MediaType), Digest: h, Size: b.Size}
			if l.MediaType == "" {
				l.MediaType = b.MediaType
			}
			if l.MediaType == "" {
				l.MediaType = MediaTypeOctetStream
			}
			layers[h] = &l
			order = append(order, h)
		}
		return nil
	}
	resIDs, srcIDs := d.ResourceIdentities(), d.SourceIdentities()
	for i, r := range d.Resources {
		if err := use("resource", resIDs[i], r.ElementMeta, r.Access); err != nil {
			return nil, nil, err
		}
	}
	for i, s := range d.Sources {
		if err := use("source", srcIDs[i], s.ElementMeta, s.Access); err != nil {
			return nil, nil, err
		}
	}
	annotate := func(order []v1.Hash, m map[v1.Hash]*v1.Descriptor) ([]v1.Descriptor, error) {
		out := make([]v1.Descriptor, 0, len(order))
		for _, h := range order {
			var ann []byte
			var err error
			if v2 {
				ann, err = json.Marshal(usersV2[h])
			} else {
				ann, err = json.Marshal(users[h])
			}
			if err != nil {
				return nil, err
			}
			l := *m[h]
			l.Annotations = map[string]string{AnnotationArtifact: string(ann)}
			out = append(out, l)
		}
		return out, nil
	}
	ls, err := annotate(order, layers)
	if err != nil {
		return nil, nil, err
	}
	as, err := annotate(artOrder, arts)
	if err != nil {
		return nil, nil, err
	}
	if len(as) == 0 {
		as = nil
	}
	return ls, as, nil
}

// Write stores component version d with its local blobs and returns the
// manifest's descriptor. It pushes, in this order, so that the tag never
// names incomplete content: the local blobs the store does not hold yet
// (each streamed from LocalBlob.Open and verified by the store's Push), the
// descriptor layer, the config, the manifest (and the index of a version
// with WriteOptions.Artifacts, which must be in the repository already), and
// last the tag (VersionTag(d.Version)). The content is Manifest(d, blobs, o): writing
// the same version twice gives the same manifest digest, and a second write
// pushes nothing but the tag.
//
// Write does not look at what the tag pointed at before: a caller that
// must not replace a different version compares Resolve with
// Manifest(…).Manifest first.
func (r *Repository) Write(ctx context.Context, d *component.Descriptor, blobs []LocalBlob, o WriteOptions) (v1.Descriptor, error) {
	ref, err := r.Ref(d.Name, d.Version)
	if err != nil {
		return v1.Descriptor{}, err
	}
	repo := ref.Repo()
	fail := func(err error) (v1.Descriptor, error) {
		return v1.Descriptor{}, fmt.Errorf("writing component version %s:%s to %s: %w", d.Name, d.Version, repo, err)
	}
	descs := make([]v1.Descriptor, len(blobs))
	open := map[v1.Hash]LocalBlob{}
	for i, b := range blobs {
		descs[i] = b.Descriptor
		open[b.Descriptor.Digest] = b
	}
	a, err := Manifest(d, descs, o)
	if err != nil {
		return v1.Descriptor{}, err
	}
	for _, l := range a.Blobs {
		if err := r.pushBlob(ctx, repo, l, open[l.Digest]); err != nil {
			return fail(err)
		}
	}
	for _, art := range a.Artifacts {
		ok, err := r.store.Exists(ctx, repo, v1.Descriptor{MediaType: art.MediaType, Digest: art.Digest, Size: art.Size})
		if err != nil {
			return fail(err)
		}
		if !ok {
			return fail(fmt.Errorf("OCI artifact %s is not in %s; copy it (and what it names) first: %w", art.Digest, repo, oci.ErrNotFound))
		}
	}
	for _, c := range a.Parts() {
		if err := oci.PushBytes(ctx, r.store, repo, c.Descriptor, c.Bytes); err != nil {
			return fail(err)
		}
	}
	if err := r.store.Tag(ctx, ref, a.Top()); err != nil {
		return fail(err)
	}
	return a.Top(), nil
}

func (r *Repository) pushBlob(ctx context.Context, repo string, l v1.Descriptor, b LocalBlob) error {
	// Push and Exists take the descriptor without annotations.
	d := v1.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size}
	ok, err := r.store.Exists(ctx, repo, d)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if b.Open == nil {
		return fmt.Errorf("local blob %s is not in %s and cannot be opened: %w", l.Digest, repo, oci.ErrNotFound)
	}
	rc, err := b.Open(ctx)
	if err != nil {
		return fmt.Errorf("opening local blob %s: %w", l.Digest, err)
	}
	defer rc.Close()
	if err := r.store.Push(ctx, repo, d, rc); err != nil {
		return fmt.Errorf("pushing local blob %s: %w", l.Digest, err)
	}
	return nil
}
