package testimage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Artifact is an Image or an Index: something Push can write to a Store.
type Artifact interface {
	// Manifest returns the artifact's manifest (or index) bytes.
	Manifest() ([]byte, error)
	// Descriptor returns the descriptor of the manifest, as a registry
	// resolves it (no platform).
	Descriptor() (v1.Descriptor, error)
	// Images returns the image manifests the artifact is or holds: the
	// image itself, or an index's children, in order.
	Images() []Image

	// contents returns what Push writes, in order: the blobs (deduplicated),
	// then the manifests, children first, the artifact's own last.
	contents() (contents, error)
}

// contents is an artifact's closure in push order.
type contents struct {
	blobs     []blob
	manifests []rawManifest // children first; the last is the artifact's
}

type blob struct {
	desc  v1.Descriptor
	layer *Layer // streamed when set
	data  []byte // otherwise these bytes (a config)
}

func (b blob) open() io.ReadCloser {
	if b.layer != nil {
		return b.layer.Open()
	}
	return io.NopCloser(bytes.NewReader(b.data))
}

type rawManifest struct {
	desc v1.Descriptor
	data []byte
}

// Config is the runtime part of an image config (the "config" object of the
// OCI image config). Empty fields are left out.
type Config struct {
	User       string            `json:"User,omitempty"`
	Env        []string          `json:"Env,omitempty"`
	Entrypoint []string          `json:"Entrypoint,omitempty"`
	Cmd        []string          `json:"Cmd,omitempty"`
	WorkingDir string            `json:"WorkingDir,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
}

// Image is a single-platform container image: a config naming Platform and
// the layers' diff_ids, and a manifest naming the config and Layers.
//
// By default it has OCI media types (application/vnd.oci.image.manifest.v1+json,
// …config.v1+json, …layer.v1.tar+gzip); with Docker set, Docker's schema 2
// types (application/vnd.docker.distribution.manifest.v2+json, …). The
// layers' bytes, and so their digests, are the same either way.
type Image struct {
	Platform    v1.Platform // OS and Architecture are required
	Layers      []Layer
	Config      Config
	Annotations map[string]string // manifest annotations; not allowed with Docker
	Docker      bool
}

// imageConfig is the image config file, with the fields in the order the OCI
// image spec lists them.
type imageConfig struct {
	Created      string    `json:"created"`
	Architecture string    `json:"architecture"`
	Variant      string    `json:"variant,omitempty"`
	OS           string    `json:"os"`
	Config       Config    `json:"config"`
	RootFS       rootFS    `json:"rootfs"`
	History      []history `json:"history"`
	OSVersion    string    `json:"os.version,omitempty"`
	OSFeatures   []string  `json:"os.features,omitempty"`
}

type rootFS struct {
	Type    string    `json:"type"`
	DiffIDs []v1.Hash `json:"diff_ids"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

func (im Image) check() error {
	if im.Platform.OS == "" || im.Platform.Architecture == "" {
		return errors.New("image has no platform: OS and Architecture are required")
	}
	if im.Docker && len(im.Annotations) > 0 {
		return errors.New("image has annotations, which Docker schema 2 manifests do not carry")
	}
	return nil
}

func (im Image) mediaTypes() (manifest, config, layer types.MediaType) {
	if im.Docker {
		return types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer
	}
	return types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer
}

// ConfigFile returns the image's config file bytes.
func (im Image) ConfigFile() ([]byte, error) {
	if err := im.check(); err != nil {
		return nil, err
	}
	created := ModTime.Format("2006-01-02T15:04:05Z")
	c := imageConfig{
		Created:      created,
		Architecture: im.Platform.Architecture,
		Variant:      im.Platform.Variant,
		OS:           im.Platform.OS,
		OSVersion:    im.Platform.OSVersion,
		OSFeatures:   im.Platform.OSFeatures,
		Config:       im.Config,
		RootFS:       rootFS{Type: "layers", DiffIDs: []v1.Hash{}},
		History:      []history{},
	}
	for _, l := range im.Layers {
		d, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, d)
		c.History = append(c.History, history{Created: created,
			CreatedBy: fmt.Sprintf("testimage: layer %016x of %d bytes", l.Seed, l.Size)})
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding image config: %w", err)
	}
	return b, nil
}

// Manifest returns the image manifest bytes.
func (im Image) Manifest() ([]byte, error) {
	b, _, err := im.manifest()
	return b, err
}

func (im Image) manifest() (manifest []byte, config []byte, err error) {
	config, err = im.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	mt, cmt, lmt := im.mediaTypes()
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     mt,
		Config:        oci.DescriptorOf(cmt, config),
		Layers:        []v1.Descriptor{},
		Annotations:   im.Annotations,
	}
	for _, l := range im.Layers {
		d, err := l.Descriptor()
		if err != nil {
			return nil, nil, err
		}
		d.MediaType = lmt
		m.Layers = append(m.Layers, d)
	}
	manifest, err = json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding image manifest: %w", err)
	}
	return manifest, config, nil
}

// Descriptor returns the descriptor of the image manifest.
func (im Image) Descriptor() (v1.Descriptor, error) {
	b, err := im.Manifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, _, _ := im.mediaTypes()
	return oci.DescriptorOf(mt, b), nil
}

// Images returns the image itself.
func (im Image) Images() []Image { return []Image{im} }

func (im Image) contents() (contents, error) {
	var c contents
	seen := map[v1.Hash]bool{}
	if err := im.addTo(&c, seen); err != nil {
		return contents{}, err
	}
	return c, nil
}

// addTo appends the image's blobs not yet seen, and its manifest, to c.
func (im Image) addTo(c *contents, seen map[v1.Hash]bool) error {
	m, config, err := im.manifest()
	if err != nil {
		return err
	}
	mt, cmt, lmt := im.mediaTypes()
	cd := oci.DescriptorOf(cmt, config)
	if !seen[cd.Digest] {
		seen[cd.Digest] = true
		c.blobs = append(c.blobs, blob{desc: cd, data: config})
	}
	for i := range im.Layers {
		d, err := im.Layers[i].Descriptor()
		if err != nil {
			return err
		}
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		d.MediaType = lmt
		c.blobs = append(c.blobs, blob{desc: d, layer: &im.Layers[i]})
	}
	c.manifests = append(c.manifests, rawManifest{desc: oci.DescriptorOf(mt, m), data: m})
	return nil
}

// Index is a multi-platform image: an OCI image index (or, with Docker set,
// a Docker manifest list) of Manifests, each listed with its Platform. The
// index's Docker setting applies to its children: they are written with the
// same family of media types.
type Index struct {
	Manifests   []Image
	Annotations map[string]string // index annotations; not allowed with Docker
	Docker      bool
}

func (ix Index) mediaType() types.MediaType {
	if ix.Docker {
		return types.DockerManifestList
	}
	return types.OCIImageIndex
}

// Images returns the index's children, with the index's Docker setting.
func (ix Index) Images() []Image {
	out := make([]Image, len(ix.Manifests))
	for i, im := range ix.Manifests {
		im.Docker = ix.Docker
		out[i] = im
	}
	return out
}

// Manifest returns the index bytes.
func (ix Index) Manifest() ([]byte, error) {
	if ix.Docker && len(ix.Annotations) > 0 {
		return nil, errors.New("index has annotations, which Docker manifest lists do not carry")
	}
	m := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     ix.mediaType(),
		Manifests:     []v1.Descriptor{},
		Annotations:   ix.Annotations,
	}
	for i, im := range ix.Images() {
		d, err := im.Descriptor()
		if err != nil {
			return nil, fmt.Errorf("index manifest %d: %w", i, err)
		}
		p := im.Platform
		d.Platform = &p
		m.Manifests = append(m.Manifests, d)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding image index: %w", err)
	}
	return b, nil
}

// Descriptor returns the descriptor of the index.
func (ix Index) Descriptor() (v1.Descriptor, error) {
	b, err := ix.Manifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return oci.DescriptorOf(ix.mediaType(), b), nil
}

func (ix Index) contents() (contents, error) {
	var c contents
	seen := map[v1.Hash]bool{}
	for i, im := range ix.Images() {
		if err := im.addTo(&c, seen); err != nil {
			return contents{}, fmt.Errorf("index manifest %d: %w", i, err)
		}
	}
	b, err := ix.Manifest()
	if err != nil {
		return contents{}, err
	}
	c.manifests = append(c.manifests, rawManifest{desc: oci.DescriptorOf(ix.mediaType(), b), data: b})
	return c, nil
}
