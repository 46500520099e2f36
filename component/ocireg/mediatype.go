package ocireg

import (
	"errors"
)

// Media types of a component version (§2.3, §2.4, §2.5).
const (
	// MediaTypeConfig is the config of a component version as OCM writes it.
	MediaTypeConfig = "application/vnd.ocm.software.component.config.v1+json"
	// MediaTypeDescriptorTar is the descriptor layer OCM v1 writes: a tar
	// holding component-descriptor.yaml (also when the YAML is v3alpha1).
	MediaTypeDescriptorTar = "application/vnd.ocm.software.component-descriptor.v2+yaml+tar"
	// MediaTypeDescriptorJSON is the descriptor layer OCM v2 writes: the
	// descriptor itself, as JSON.
	MediaTypeDescriptorJSON = "application/vnd.ocm.software.component-descriptor.v2+json"
	// MediaTypeDescriptorYAML is a descriptor layer holding the YAML itself.
	MediaTypeDescriptorYAML = "application/vnd.ocm.software.component-descriptor.v2+yaml"
	// ArtifactTypeDescriptor is the artifactType of an OCM v2 manifest.
	ArtifactTypeDescriptor = "application/vnd.ocm.software.component-descriptor.v2"
	// MediaTypeOctetStream is the layer media type of a local blob whose
	// access names none.
	MediaTypeOctetStream = "application/octet-stream"
)

// Annotations OCM reads and writes.
const (
	// AnnotationComponentVersion on the manifest is "<name>:<version>".
	AnnotationComponentVersion = "software.ocm.componentversion"
	// AnnotationCreator on the manifest names the writing software.
	AnnotationCreator = "software.ocm.creator"
	// AnnotationArtifact on a local-blob layer lists, as compact JSON, the
	// elements whose localBlob is that layer:
	// [{"kind":"resource","identity":{"name":"config"}}].
	AnnotationArtifact = "software.ocm.artifact"
	// AnnotationDescriptor marks the descriptor manifest in an OCM v2 index.
	AnnotationDescriptor = "software.ocm.descriptor"
)

// DefaultCreator is the software.ocm.creator value ferry writes unless told
// otherwise (WriteOptions.Creator). It carries no version on purpose: the
// same descriptor and blobs give the same manifest digest whichever ferry
// release writes them, so a re-run finds the version identical and skips it.
// OCM writes "OCM Go Library <version>" and reads the value nowhere.
const DefaultCreator = "ferry"

// DescriptorFile is the name of the descriptor inside a tar layer.
const DescriptorFile = "component-descriptor.yaml"

// configMediaTypes are the config media types of a component version,
// OCM's and the Gardener-era ones (§2.4).
var configMediaTypes = map[string]bool{
	MediaTypeConfig: true,
	"application/vnd.gardener.cloud.cnudie.component.config.v1+json":                         true,
	"application/vnd.oci.gardener.cloud.cnudie.component-descriptor-metadata.config.v2+json": true,
}

// descriptorLayerKind tells how a descriptor layer media type is read.
type descriptorLayerKind int

const (
	layerUnknown descriptorLayerKind = iota
	layerPlain                       // the blob is the YAML or JSON descriptor
	layerTar                         // a tar holding component-descriptor.yaml
)

var descriptorLayerTypes = map[string]descriptorLayerKind{
	MediaTypeDescriptorJSON: layerPlain,
	"application/vnd.gardener.cloud.cnudie.component-descriptor.v2+json": layerPlain,
	MediaTypeDescriptorYAML: layerPlain,
	"application/vnd.gardener.cloud.cnudie.component-descriptor.v2+yaml": layerPlain,
	MediaTypeDescriptorTar: layerTar,
	"application/vnd.gardener.cloud.cnudie.component-descriptor.v2+yaml+tar":            layerTar,
	"application/vnd.oci.gardener.cloud.cnudie.component-descriptor.config.v2+yaml+tar": layerTar,
}

// Errors of this package; the store's own errors (oci.ErrNotFound, …) are
// wrapped as they come.
var (
	// ErrNotComponent: the tag names an artifact that is not a component
	// version (its config has another media type).
	ErrNotComponent = errors.New("not a component version")
	// ErrMalformed: a component version whose config, descriptor layer or
	// local blob references cannot be read (bad JSON, a tar without
	// component-descriptor.yaml or with unsafe member names, a descriptor
	// that names another version, …).
	ErrMalformed = errors.New("malformed component version")
)
