package ocireg

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// content is a blob or manifest to push as it is.
type content struct {
	d v1.Descriptor
	b []byte
}

func blobOf(mt string, b []byte) content {
	return content{oci.DescriptorOf(types.MediaType(mt), b), b}
}

// tarOf builds a tar of the given members (name → data) in order; a
// member whose data starts with "->" is a symbolic link to the rest.
func tarOf(t testing.TB, members ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}
		if target, ok := strings.CutPrefix(m[1], "->"); ok {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, target, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(m[1]))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// version pushes a hand-made component version into s under tag: the
// config naming layer (with size cfgSize when >= 0, else the layer's), the
// layers in order, and the manifest of manifestType. Blobs in skip are
// left out of the store.
type handMade struct {
	configType   string
	configBytes  []byte // nil: {"componentDescriptorLayer": layers[0]}
	layers       []content
	manifestType string
	artifactType string
	skip         map[v1.Hash]bool
}

func (h handMade) push(t testing.TB, s oci.Store, repo, tag string) v1.Descriptor {
	t.Helper()
	ctx := context.Background()
	cfg := h.configBytes
	if cfg == nil {
		cfg, _ = json.Marshal(componentConfig{toOCI(h.layers[0].d)})
	}
	c := blobOf(h.configType, cfg)
	m := struct {
		ociManifest
		ArtifactType string `json:"artifactType,omitempty"`
	}{ociManifest{SchemaVersion: 2, MediaType: h.manifestType, Config: toOCI(c.d)}, h.artifactType}
	for i, l := range append([]content{c}, h.layers...) {
		if i > 0 {
			m.Layers = append(m.Layers, toOCI(l.d))
		}
		if h.skip[l.d.Digest] {
			continue
		}
		if err := oci.PushBytes(ctx, s, repo, l.d, l.b); err != nil {
			t.Fatal(err)
		}
	}
	mb, _ := json.Marshal(m)
	md := blobOf(h.manifestType, mb)
	if err := s.Push(ctx, repo, md.d, bytes.NewReader(mb)); err != nil {
		t.Fatal(err)
	}
	if tag != "" {
		ref, _ := oci.ParseRef(repo + ":" + tag)
		if err := s.Tag(ctx, ref, md.d); err != nil {
			t.Fatal(err)
		}
	}
	return md.d
}

const podinfoRepo = "component-descriptors/example.com/podinfo"

// TestReadingRules reads component versions in every form §2.4 and §2.5
// accept.
func TestReadingRules(t *testing.T) {
	dmp, cd, _ := podinfo(t)
	js, err := component.EncodeJSON(cd, "")
	if err != nil {
		t.Fatal(err)
	}
	readme := [2]string{"README", "not the descriptor"}
	other, _ := cd.Clone()
	other.Version = "6.3.6"
	otherRaw, _ := component.Encode(other, "") // a decoy: the only layer of a descriptor media type
	tests := []struct {
		name string
		h    handMade
		raw  []byte
	}{
		{"ocm v1 tar", handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorTar, dmp.layer)}, manifestType: oci.MediaTypeOCIManifest}, dmp.yaml},
		{"ocm v2 json", handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorJSON, js)}, manifestType: oci.MediaTypeOCIManifest, artifactType: ArtifactTypeDescriptor}, js},
		{"plain yaml", handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorYAML, dmp.yaml)}, manifestType: oci.MediaTypeOCIManifest}, dmp.yaml},
		{"gardener tar", handMade{configType: "application/vnd.gardener.cloud.cnudie.component.config.v1+json",
			layers: []content{blobOf("application/vnd.gardener.cloud.cnudie.component-descriptor.v2+yaml+tar", tarOf(t, readme, [2]string{"/component-descriptor.yaml", string(dmp.yaml)}))}, manifestType: oci.MediaTypeOCIManifest}, dmp.yaml},
		{"gardener metadata config", handMade{configType: "application/vnd.oci.gardener.cloud.cnudie.component-descriptor-metadata.config.v2+json",
			layers: []content{blobOf("application/vnd.oci.gardener.cloud.cnudie.component-descriptor.config.v2+yaml+tar", dmp.layer)}, manifestType: oci.MediaTypeOCIManifest}, dmp.yaml},
		{"config names a layer of another media type in the manifest", handMade{configType: MediaTypeConfig,
			configBytes: []byte(`{"componentDescriptorLayer":{"mediaType":"` + MediaTypeDescriptorYAML + `","digest":"` + oci.Digest(dmp.yaml).String() + `","size":` + strconv.Itoa(len(dmp.yaml)) + `}}`),
			layers:      []content{blobOf(MediaTypeDescriptorYAML, otherRaw), blobOf("application/octet-stream", dmp.yaml)}, manifestType: oci.MediaTypeOCIManifest}, dmp.yaml},
		{"docker manifest, config without size", handMade{configType: MediaTypeConfig,
			configBytes: []byte(`{"componentDescriptorLayer":{"mediaType":"` + MediaTypeDescriptorTar + `","digest":"` + oci.Digest(dmp.layer).String() + `"}}`),
			layers:      []content{blobOf(MediaTypeDescriptorTar, dmp.layer)}, manifestType: oci.MediaTypeDockerManifest}, dmp.yaml},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCTF(t)
			md := tc.h.push(t, s, podinfoRepo, "6.3.5")
			v, err := New(s, "").Get(context.Background(), "example.com/podinfo", "6.3.5")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(v.Raw, tc.raw) || v.Manifest.Digest != md.Digest || v.Descriptor.Name != "example.com/podinfo" {
				t.Errorf("read %s %s", v.Manifest.Digest, firstLine(string(v.Raw)))
			}
		})
	}
}

// TestReadIndex reads an OCM v2 version stored as an index whose other
// entry is an OCI image given as a local blob.
func TestReadIndex(t *testing.T) {
	ctx := context.Background()
	dmp, _, _ := podinfo(t)
	for _, marked := range []bool{true, false} {
		s := newCTF(t)
		img := handMade{configType: "application/vnd.oci.image.config.v1+json", configBytes: []byte("{}"),
			layers: []content{blobOf("application/vnd.oci.image.layer.v1.tar", tarOf(t, [2]string{"hello.txt", "hi"}))}, manifestType: oci.MediaTypeOCIManifest}
		imgD := img.push(t, s, podinfoRepo, "")
		cv := handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorTar, dmp.layer)}, manifestType: oci.MediaTypeOCIManifest}
		cvD := cv.push(t, s, podinfoRepo, "")
		entries := []v1.Descriptor{cvD, imgD}
		if marked {
			cvD.Annotations = map[string]string{AnnotationDescriptor: "true"}
			entries = []v1.Descriptor{imgD, cvD} // the marked one wins wherever it is
		}
		ib, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: entries})
		ix := blobOf(oci.MediaTypeOCIIndex, ib)
		if err := s.Push(ctx, podinfoRepo, ix.d, bytes.NewReader(ib)); err != nil {
			t.Fatal(err)
		}
		ref, _ := oci.ParseRef(podinfoRepo + ":6.3.5")
		if err := s.Tag(ctx, ref, ix.d); err != nil {
			t.Fatal(err)
		}
		v, err := New(s, "").Get(ctx, "example.com/podinfo", "6.3.5")
		if err != nil {
			t.Fatal(err)
		}
		if v.Index.Digest != ix.d.Digest || v.Manifest.Digest != cvD.Digest || len(v.Artifacts) != 1 || v.Artifacts[0].Digest != imgD.Digest {
			t.Errorf("marked=%v: index %s manifest %s artifacts %v", marked, v.Index.Digest, v.Manifest.Digest, v.Artifacts)
		}
		_, _, err = v.LocalBlob(ctx, component.LocalBlobAccess{LocalReference: imgD.Digest.String(), MediaType: oci.MediaTypeOCIManifest})
		if !errors.Is(err, oci.ErrUnsupported) {
			t.Errorf("local blob naming an index entry: %v", err)
		}
	}
}

// TestChunkedLocalBlob writes a resource whose localReference lists two
// chunks, reads the whole back, and sees a damaged chunk fail the read.
func TestChunkedLocalBlob(t *testing.T) {
	ctx := context.Background()
	_, cd, _ := podinfo(t)
	a := bytes.Repeat([]byte("first chunk "), 100)
	b := []byte("second chunk")
	ca, cb := bytesBlob("text/plain", a), bytesBlob("text/plain", b)
	acc, err := component.NewAccess(component.LocalBlobAccess{Type: component.AccessLocalBlob,
		LocalReference: ca.Descriptor.Digest.String() + ", " + cb.Descriptor.Digest.String(), MediaType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := cd.Clone()
	d.Resources = d.Resources[:1]
	d.Resources[0].Access = acc
	d.Resources[0].Digest = nil
	s := newCTF(t)
	r := New(s, "")
	if _, err := r.Write(ctx, d, []LocalBlob{cb, ca}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := r.Get(ctx, d.Name, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Layers) != 3 || v.Layers[1].Digest != ca.Descriptor.Digest || v.Layers[2].Digest != cb.Descriptor.Digest {
		t.Fatalf("layers %v", v.Layers)
	}
	for _, l := range v.Layers[1:] {
		if l.Annotations[AnnotationArtifact] != `[{"kind":"resource","identity":{"name":"config"}}]` || l.MediaType != "text/plain" {
			t.Errorf("layer %s: %s %v", l.Digest, l.MediaType, l.Annotations)
		}
	}
	lb, _ := v.Descriptor.Resources[0].Access.LocalBlob()
	rc, whole, err := v.LocalBlob(ctx, lb)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, rc); !bytes.Equal(got, append(append([]byte(nil), a...), b...)) {
		t.Errorf("read %q", got)
	}
	if whole.Size != int64(len(a)+len(b)) || whole.MediaType != "text/plain" || whole.Digest != (v1.Hash{}) {
		t.Errorf("descriptor %+v", whole)
	}

	// Damage the second chunk on disk, keeping its size.
	p := filepath.Join(s.Path(), "blobs", "sha256."+cb.Descriptor.Digest.Hex)
	if err := os.WriteFile(p, []byte("SECOND CHUNK"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, _, err = v.LocalBlob(ctx, lb)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, oci.ErrDigestMismatch) || !strings.Contains(err.Error(), cb.Descriptor.Digest.String()) {
		t.Errorf("damaged chunk: %v", err)
	}
	if !bytes.HasPrefix(got, a) {
		t.Errorf("the first chunk did not come through before the failure")
	}

	// A blob the access names but Write was not given.
	if _, err := r.Write(ctx, d, []LocalBlob{ca}, WriteOptions{}); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("write without a chunk: %v", err)
	}
}

// TestBadVersions reads broken component versions: each fails with a
// clear error and no panic.
func TestBadVersions(t *testing.T) {
	dmp, cd, _ := podinfo(t)
	other, _ := cd.Clone()
	other.Version = "6.3.6"
	otherRaw, _ := component.Encode(other, "")
	tarLayer := func(b []byte) []content { return []content{blobOf(MediaTypeDescriptorTar, b)} }
	big := handMade{configType: MediaTypeConfig,
		configBytes: []byte(`{"componentDescriptorLayer":{"mediaType":"` + MediaTypeDescriptorYAML + `","digest":"` + oci.Digest(dmp.yaml).String() + `","size":17000000}}`),
		layers:      []content{blobOf(MediaTypeDescriptorYAML, dmp.yaml)}, manifestType: oci.MediaTypeOCIManifest}
	missing := handMade{configType: MediaTypeConfig, layers: tarLayer(dmp.layer), manifestType: oci.MediaTypeOCIManifest,
		skip: map[v1.Hash]bool{oci.Digest(dmp.layer): true}}
	tests := []struct {
		name string
		h    handMade
		want []error
	}{
		{"member ../x", handMade{configType: MediaTypeConfig, layers: tarLayer(tarOf(t, [2]string{"../x", "boo"}, [2]string{DescriptorFile, string(dmp.yaml)})), manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed, errUnsafeName}},
		{"member a/../../x after the descriptor", handMade{configType: MediaTypeConfig, layers: tarLayer(tarOf(t, [2]string{DescriptorFile, string(dmp.yaml)}, [2]string{"a/../../x", "boo"})), manifestType: oci.MediaTypeOCIManifest}, []error{errUnsafeName}},
		{"descriptor is a symlink", handMade{configType: MediaTypeConfig, layers: tarLayer(tarOf(t, [2]string{DescriptorFile, "->/etc/passwd"})), manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"no descriptor in tar", handMade{configType: MediaTypeConfig, layers: tarLayer(tarOf(t, [2]string{"other.yaml", string(dmp.yaml)})), manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"not a tar", handMade{configType: MediaTypeConfig, layers: tarLayer([]byte("plain text, not a tar archive")), manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"descriptor layer missing", missing, []error{oci.ErrNotFound}},
		{"oversized descriptor", big, []error{oci.ErrTooLarge}},
		{"other config media type", handMade{configType: "application/vnd.oci.image.config.v1+json", layers: tarLayer(dmp.layer), manifestType: oci.MediaTypeOCIManifest}, []error{ErrNotComponent}},
		{"config without media type", handMade{configType: "", layers: tarLayer(dmp.layer), manifestType: oci.MediaTypeOCIManifest}, []error{oci.ErrNotFound}},
		{"config not json", handMade{configType: MediaTypeConfig, configBytes: []byte("{"), layers: tarLayer(dmp.layer), manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"config without layer", handMade{configType: MediaTypeConfig, configBytes: []byte("{}"), layers: tarLayer(dmp.layer), manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"unknown layer media type", handMade{configType: MediaTypeConfig, layers: []content{blobOf("application/x-tar", dmp.layer)}, manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"another version inside", handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorYAML, otherRaw)}, manifestType: oci.MediaTypeOCIManifest}, []error{ErrMalformed}},
		{"invalid descriptor", handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorYAML, []byte("meta: {schemaVersion: v2}\ncomponent: {name: 7}\n"))}, manifestType: oci.MediaTypeOCIManifest}, []error{component.ErrInvalid}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCTF(t)
			tc.h.push(t, s, podinfoRepo, "6.3.5")
			_, err := New(s, "").Get(context.Background(), "example.com/podinfo", "6.3.5")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q is not %v", err, w)
				}
			}
			if !strings.Contains(err.Error(), "example.com/podinfo:6.3.5") {
				t.Errorf("error %q does not name the version", err)
			}
		})
	}
}

// TestLocalBlobMissing: an access naming no layer, and a layer whose blob
// is not in the store.
func TestLocalBlobMissing(t *testing.T) {
	ctx := context.Background()
	dmp, _, blobs := podinfo(t)
	s := newCTF(t)
	h := handMade{configType: MediaTypeConfig, layers: []content{blobOf(MediaTypeDescriptorTar, dmp.layer)}, manifestType: oci.MediaTypeOCIManifest}
	for _, b := range blobs {
		h.layers = append(h.layers, content{d: b.Descriptor})
		if h.skip == nil {
			h.skip = map[v1.Hash]bool{}
		}
		h.skip[b.Descriptor.Digest] = true
	}
	h.push(t, s, podinfoRepo, "6.3.5")
	v, err := New(s, "").Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := v.Descriptor.Resources[0].Access.LocalBlob()
	if _, _, err := v.LocalBlob(ctx, lb); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("blob not in store: %v", err)
	}
	for _, ref := range []string{"sha256:" + strings.Repeat("0", 64), "sha256.01be29a8", v.DescriptorLayer.Digest.String()} {
		_, _, err := v.LocalBlob(ctx, component.LocalBlobAccess{LocalReference: ref})
		if err == nil || !strings.Contains(err.Error(), "example.com/podinfo:6.3.5") {
			t.Errorf("localReference %q: %v", ref, err)
		}
	}
}
