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
}

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
	// Manifest is the image manifest and its bytes; Write tags it.
	Manifest      v1.Descriptor
	ManifestBytes []byte
}

// ociDescriptor is a descriptor with the members in the order of the OCI
// image-spec Go types OCM marshals (ggcr's v1.Descriptor puts size before
// digest, which would change the bytes).
type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        ociDescriptor     `json:"config"`
	Layers        []ociDescriptor   `json:"layers"`
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

func toOCI(d v1.Descriptor) ociDescriptor {
	return ociDescriptor{MediaType: string(d.MediaType), Digest: d.Digest.String(), Size: d.Size, Annotations: d.Annotations}
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
// localReference names several); blobs no access names are left out, as
// OCM drops them. The same d, blobs and options always give the same bytes.
func Manifest(d *component.Descriptor, blobs []v1.Descriptor, o WriteOptions) (*Artifact, error) {
	fail := func(err error) (*Artifact, error) {
		return nil, fmt.Errorf("encoding component version %s:%s: %w", d.Name, d.Version, err)
	}
	if d.Name == "" || d.Version == "" {
		return fail(fmt.Errorf("name and version must be set: %w", ErrMalformed))
	}
	layers, err := blobLayers(d, blobs)
	if err != nil {
		return fail(err)
	}
	raw, err := component.Encode(d, "")
	if err != nil {
		return fail(err)
	}
	a := &Artifact{Blobs: layers}
	if a.LayerBytes, err = DescriptorTar(raw); err != nil {
		return fail(err)
	}
	a.Layer = oci.DescriptorOf(MediaTypeDescriptorTar, a.LayerBytes)
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
		Annotations: map[string]string{
			AnnotationComponentVersion: d.Name + ":" + d.Version,
			AnnotationCreator:          o.creator(),
		},
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, toOCI(l))
	}
	if a.ManifestBytes, err = json.Marshal(m); err != nil {
		return fail(err)
	}
	a.Manifest = oci.DescriptorOf(types.OCIManifestSchema1, a.ManifestBytes)
	return a, nil
}

func (o WriteOptions) creator() string {
	if o.Creator == "" {
		return DefaultCreator
	}
	return o.Creator
}

// blobLayers returns the local-blob layers of d.
func blobLayers(d *component.Descriptor, blobs []v1.Descriptor) ([]v1.Descriptor, error) {
	given := map[v1.Hash]v1.Descriptor{}
	for _, b := range blobs {
		given[b.Digest] = b
	}
	var order []v1.Hash
	layers := map[v1.Hash]*v1.Descriptor{}
	users := map[v1.Hash][]artifactRef{}
	use := func(kind string, id component.Identity, a component.Access) error {
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
	for i, r := range d.Resources {
		if err := use("resource", d.ResourceIdentity(i), r.Access); err != nil {
			return nil, err
		}
	}
	for i, s := range d.Sources {
		if err := use("source", d.SourceIdentity(i), s.Access); err != nil {
			return nil, err
		}
	}
	out := make([]v1.Descriptor, 0, len(order))
	for _, h := range order {
		ann, err := json.Marshal(users[h])
		if err != nil {
			return nil, err
		}
		l := *layers[h]
		l.Annotations = map[string]string{AnnotationArtifact: string(ann)}
		out = append(out, l)
	}
	return out, nil
}

// Write stores component version d with its local blobs and returns the
// manifest's descriptor. It pushes, in this order, so that the tag never
// names incomplete content: the local blobs the store does not hold yet
// (each streamed from LocalBlob.Open and verified by the store's Push), the
// descriptor layer, the config, the manifest, and last the tag
// (VersionTag(d.Version)). The content is Manifest(d, blobs, o): writing
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
	for _, c := range []struct {
		d v1.Descriptor
		b []byte
	}{{a.Layer, a.LayerBytes}, {a.Config, a.ConfigBytes}, {a.Manifest, a.ManifestBytes}} {
		if err := oci.PushBytes(ctx, r.store, repo, c.d, c.b); err != nil {
			return fail(err)
		}
	}
	if err := r.store.Tag(ctx, ref, a.Manifest); err != nil {
		return fail(err)
	}
	return a.Manifest, nil
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
