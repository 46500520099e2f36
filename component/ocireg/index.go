package ocireg

import (
	"encoding/json"
	"fmt"
	"mime"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// IsIndexArtifact reports whether a localBlob access of media type mt names
// an OCI-native local blob: an image manifest or index that OCM v2 stores
// as an entry of the version's index (ADR 0013, §2.5), whose
// localReference is the manifest's digest, rather than a layer of the
// descriptor manifest.
func IsIndexArtifact(mt string) bool {
	if base, _, err := mime.ParseMediaType(mt); err == nil {
		mt = base
	}
	switch types.MediaType(mt) {
	case types.OCIManifestSchema1, types.OCIImageIndex, types.DockerManifestSchema2, types.DockerManifestList:
		return true
	}
	return false
}

// IndexArtifact returns the entry of the version's index that an
// OCI-native local blob access names (IsIndexArtifact): the manifest or
// index whose digest is the localReference. A version stored without an
// index, or an index without that entry, gives an error wrapping
// oci.ErrNotFound; a localReference that is not one digest ErrMalformed.
func (v *Version) IndexArtifact(access component.LocalBlobAccess) (v1.Descriptor, error) {
	h, err := v1.NewHash(access.LocalReference)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("localReference %q of an OCI artifact is not a digest: %w", access.LocalReference, ErrMalformed)
	}
	i := slices.IndexFunc(v.Artifacts, func(a v1.Descriptor) bool { return a.Digest == h })
	if i < 0 {
		where := "the version is stored without an index"
		if v.Index.Digest != (v1.Hash{}) {
			where = "the version's index " + v.Index.Digest.String() + " has no such entry"
		}
		return v1.Descriptor{}, fmt.Errorf("OCI artifact %s of %s: %s: %w", h, v.name(), where, oci.ErrNotFound)
	}
	return v.Artifacts[i], nil
}

// Stored returns the version's OCI content as it was read, for a copy that
// keeps every digest: the descriptor layer, config and manifest with their
// bytes, the local-blob layers, and, for a version stored as an index (OCM
// v2), the index with its bytes and its other entries. Use it when the
// descriptor is carried unchanged; Manifest computes new content for a
// changed one.
func (v *Version) Stored() *Artifact {
	a := &Artifact{
		Layer: v.DescriptorLayer, LayerBytes: v.layerBytes,
		Config: v.Config, ConfigBytes: v.ConfigBytes,
		Manifest: v.Manifest, ManifestBytes: v.ManifestBytes,
	}
	seen := map[v1.Hash]bool{v.DescriptorLayer.Digest: true}
	for _, l := range v.Layers {
		if !seen[l.Digest] {
			seen[l.Digest] = true
			a.Blobs = append(a.Blobs, l)
		}
	}
	if v.Index.Digest != (v1.Hash{}) {
		a.Index, a.IndexBytes = v.Index, v.IndexBytes
		a.Artifacts = slices.Clone(v.Artifacts)
	}
	return a
}

// IsV2 reports whether the version is stored the way the OCM v2 CLI stores
// one: as an index, or with the descriptor as a plain JSON layer.
func (v *Version) IsV2() bool {
	return v.Index.Digest != (v1.Hash{}) || v.DescriptorLayer.MediaType == MediaTypeDescriptorJSON
}

// IndexAnnotations returns the annotations of the version's index; nil for
// a version stored without one.
func (v *Version) IndexAnnotations() map[string]string {
	if len(v.IndexBytes) == 0 {
		return nil
	}
	var ix v1.IndexManifest
	if err := json.Unmarshal(v.IndexBytes, &ix); err != nil {
		return nil
	}
	return ix.Annotations
}

// Rewrite returns what Write needs to store a changed descriptor of this
// version (a signature added, say) in the same store and the same form: its
// local blobs (already in the store, so without Open) and the options that
// keep its layout, its OCI-native local blobs in the index, and its
// annotations.
func (v *Version) Rewrite() ([]LocalBlob, WriteOptions) {
	var blobs []LocalBlob
	for _, b := range v.LocalBlobs() {
		blobs = append(blobs, LocalBlob{Descriptor: b.Descriptor})
	}
	o := WriteOptions{Creator: v.Annotations[AnnotationCreator]}
	if v.IsV2() {
		o.Layout, o.Artifacts = LayoutV2, slices.Clone(v.Artifacts)
		o.Annotations, o.IndexAnnotations = v.Annotations, v.IndexAnnotations()
	}
	return blobs, o
}
