package ocireg_test

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
)

// TestOCMv2Layout reads the component versions the OCM v2 CLI wrote
// (testdata/ocm2 at the module root): an index-shaped version whose index
// holds OCI-native local blobs, and a plain manifest, each with a JSON
// descriptor layer. Re-encoding each descriptor in layout v2 gives the bytes
// ocm stored, and Stored gives back every digest.
func TestOCMv2Layout(t *testing.T) {
	for _, src := range []string{"ctf-dir", "ctf-signed", "ctf-copied", "ctf.tar"} {
		a, err := ctf.Open(filepath.Join("..", "..", "testdata", "ocm2", src), ctf.ReadOnly(), ctf.TempDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		repo := ocireg.New(a, "")
		for _, name := range []string{"example.com/shop", "example.com/shop-lite"} {
			v, err := repo.Get(t.Context(), name, "2.1.0")
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if !v.IsV2() || v.DescriptorLayer.MediaType != ocireg.MediaTypeDescriptorJSON {
				t.Errorf("%s %s: not recognised as OCM v2's layout (%s)", src, name, v.DescriptorLayer.MediaType)
			}
			enc, err := component.EncodeJSONOCMv2(v.Descriptor)
			if err != nil {
				t.Fatal(err)
			}
			if string(enc) != string(v.Raw) {
				t.Errorf("%s %s: re-encoded descriptor differs from ocm's:\n%s\n%s", src, name, enc, v.Raw)
			}
			st := v.Stored()
			if st.Top().Digest != v.Ref.Digest || st.Manifest.Digest != v.Manifest.Digest || st.Layer.Digest != v.DescriptorLayer.Digest {
				t.Errorf("%s %s: Stored names %s, the tag %s", src, name, st.Top().Digest, v.Ref.Digest)
			}
			for _, r := range v.Descriptor.Resources {
				lb, err := r.Access.LocalBlob()
				if err != nil || !ocireg.IsIndexArtifact(lb.MediaType) {
					continue
				}
				d, err := v.IndexArtifact(lb)
				if err != nil {
					t.Errorf("%s %s resource %s: %v", src, name, r.Name, err)
				} else if d.Digest.Hex != r.Digest.Value {
					t.Errorf("%s %s resource %s: index entry %s, digest %s", src, name, r.Name, d.Digest, r.Digest)
				}
			}
			// The same descriptor and blobs in layout v2, with ocm's annotations, give ocm's manifest.
			blobs := st.Blobs
			m, err := ocireg.Manifest(v.Descriptor, blobs, ocireg.WriteOptions{Creator: v.Annotations[ocireg.AnnotationCreator],
				Layout: ocireg.LayoutV2, Artifacts: st.Artifacts, Annotations: v.Annotations, IndexAnnotations: v.IndexAnnotations()})
			if err != nil {
				t.Fatal(err)
			}
			if m.Manifest.Digest != v.Manifest.Digest || m.Top().Digest != v.Ref.Digest {
				t.Errorf("%s %s: ferry's layout v2 gives %s (manifest %s), ocm wrote %s (manifest %s)\n%s\n%s", src, name,
					m.Top().Digest, m.Manifest.Digest, v.Ref.Digest, v.Manifest.Digest, m.ManifestBytes, v.ManifestBytes)
			}
		}
	}
}

// TestLayoutV2Schemes writes descriptors of both schemes in layout v2 and
// reads them back: scheme v2 as OCM v2's JSON, v3alpha1 kept as JSON too.
func TestLayoutV2Schemes(t *testing.T) {
	a, err := ctf.Create(filepath.Join(t.TempDir(), "ctf"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	repo := ocireg.New(a, "")
	for _, scheme := range []component.Scheme{component.SchemeV2, component.SchemeV3Alpha1} {
		d := &component.Descriptor{Scheme: scheme, Name: "example.com/s", Version: "1.0.0-" + strings.ReplaceAll(string(scheme), "/", "."), Provider: component.Provider{Name: "example.com"}}
		if _, err := repo.Write(t.Context(), d, nil, ocireg.WriteOptions{Layout: ocireg.LayoutV2}); err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		v, err := repo.Get(t.Context(), d.Name, d.Version)
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		if !v.IsV2() || v.Descriptor.SchemeOrDefault() != scheme || v.Index.Digest != (v1.Hash{}) {
			t.Errorf("%s: read back as %s, v2 layout %v, index %s", scheme, v.Descriptor.SchemeOrDefault(), v.IsV2(), v.Index.Digest)
		}
	}
}
