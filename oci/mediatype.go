package oci

import (
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxManifestBytes bounds what ferry reads into memory as a manifest or
// index: 4 MiB, the limit registries such as distribution apply themselves.
const MaxManifestBytes = 4 << 20

// Media types ferry itself names.
const (
	MediaTypeOCIManifest    = string(types.OCIManifestSchema1)
	MediaTypeOCIIndex       = string(types.OCIImageIndex)
	MediaTypeDockerManifest = string(types.DockerManifestSchema2)
	MediaTypeDockerIndex    = string(types.DockerManifestList)
	MediaTypeOCIEmptyConfig = "application/vnd.oci.empty.v1+json"
)

// IsIndex reports whether mt is an OCI image index or a Docker manifest list.
func IsIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

// IsManifest reports whether content of media type mt is a manifest (image
// manifest or index) rather than a blob. Stores keep manifests apart from
// blobs, as registries do.
func IsManifest(mt types.MediaType) bool {
	switch mt {
	case types.OCIManifestSchema1, types.DockerManifestSchema2, types.OCIImageIndex, types.DockerManifestList,
		types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return true
	}
	return false
}

// IsNonDistributable reports whether d is a layer that must not be copied
// (Docker's foreign layers, OCI's non-distributable ones): it stays where
// its URLs say.
func IsNonDistributable(d v1.Descriptor) bool {
	return d.MediaType == types.DockerForeignLayer || d.MediaType == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
		d.MediaType == "application/vnd.oci.image.layer.nondistributable.v1.tar"
}

// manifestShape holds the fields of an image manifest and an index that
// point at other content; decoding into it works for both.
type manifestShape struct {
	MediaType types.MediaType `json:"mediaType,omitempty"`
	Config    *v1.Descriptor  `json:"config,omitempty"`
	Layers    []v1.Descriptor `json:"layers,omitempty"`
	Manifests []v1.Descriptor `json:"manifests,omitempty"`
	Subject   *v1.Descriptor  `json:"subject,omitempty"`
}

// Children returns the descriptors a manifest or index of media type mt
// points at: the config and layers of an image manifest, the manifests of
// an index, in document order. The subject of an OCI 1.1 referrer is not a
// child (it exists before the referrer), so it is not returned; see Subject.
func Children(mt types.MediaType, manifest []byte) ([]v1.Descriptor, error) {
	var m manifestShape
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", mt, err)
	}
	if IsIndex(mt) {
		return m.Manifests, nil
	}
	var out []v1.Descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	return append(out, m.Layers...), nil
}

// Subject returns the subject of an OCI 1.1 manifest (the artifact it refers
// to), or nil when it has none.
func Subject(manifest []byte) (*v1.Descriptor, error) {
	var m manifestShape
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, err
	}
	return m.Subject, nil
}

// MediaTypeOf returns the mediaType field of a manifest, or "" when it has none
// (Docker schema 1 and some early OCI manifests).
func MediaTypeOf(manifest []byte) types.MediaType {
	var m manifestShape
	if json.Unmarshal(manifest, &m) != nil {
		return ""
	}
	return m.MediaType
}
