package resource_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/resource"
)

// openOCM2 opens a CTF the OCM v2 CLI wrote (testdata/ocm2 at the module
// root) and reads example.com/shop 2.1.0 from it.
func openOCM2(t *testing.T, name string) (*ctf.Archive, *ocireg.Version) {
	t.Helper()
	a, err := ctf.Open(filepath.Join("..", "testdata", "ocm2", name), ctf.ReadOnly(), ctf.TempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	cv, err := ocireg.New(a, "").Get(t.Context(), "example.com/shop", "2.1.0")
	if err != nil {
		t.Fatal(err)
	}
	return a, cv
}

// TestOCMv2IndexArtifacts reads the resources OCM v2 stores in the
// version's index (images after --copy-resources, the Helm chart): their
// genericBlobDigest/v1 is the manifest digest, the chart's archive comes
// out of its OCI manifest, and a cluster pulls them from the version's
// repository by digest.
func TestOCMv2IndexArtifacts(t *testing.T) {
	a, cv := openOCM2(t, "ctf-copied")
	src := &resource.Content{Version: cv, Store: a}
	for i := range cv.Descriptor.Resources {
		r := &cv.Descriptor.Resources[i]
		got, err := src.Digest(t.Context(), r, r.Digest)
		if err != nil {
			t.Fatalf("%s: %v", src.Name(r), err)
		}
		if *got != *r.Digest {
			t.Errorf("%s: content digest %s, descriptor %s", src.Name(r), got, r.Digest)
		}
		if resource.IsIndexArtifact(r) != (r.Name == "web" || r.Name == "worker" || r.Name == "chart") {
			t.Errorf("%s: IsIndexArtifact %v", src.Name(r), resource.IsIndexArtifact(r))
		}
		if ref, _, ok := resource.PullReference(cv, r); ok && ref != "component-descriptors/example.com/shop@sha256:"+r.Digest.Value {
			t.Errorf("%s: pulled as %s", src.Name(r), ref)
		}
	}
	chart := &cv.Descriptor.Resources[cv.Descriptor.ResourceIndex(component.Identity{"name": "chart"})]
	rc, d, err := src.Chart(t.Context(), chart)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	sum := sha256.Sum256(b)
	if err != nil || hex.EncodeToString(sum[:]) != "6c762e3fb483abaa4b76d99d3470e3d62870e7b5c646a9ac62c474ddc483a625" || d.MediaType != resource.MediaTypeHelmChart {
		t.Errorf("chart archive: %x %s %v", sum, d.MediaType, err)
	}
	web := &cv.Descriptor.Resources[0]
	if _, _, err := src.Chart(t.Context(), web); !errors.Is(err, resource.ErrNotChart) {
		t.Errorf("an image read as a chart: %v", err)
	}
	// A hash the manifest digest was not made with is not recomputed.
	if _, err := src.Digest(t.Context(), web, &component.DigestSpec{HashAlgorithm: "SHA-512", NormalisationAlgorithm: component.GenericBlobDigestV1}); !errors.Is(err, component.ErrUnsupportedAlgorithm) {
		t.Errorf("SHA-512 over a sha256 manifest: %v", err)
	}
}

// TestOCMv2GlobalAccess: a LocalBlob/v1 whose manifest is not in the
// version's index is read through its globalAccess.
func TestOCMv2GlobalAccess(t *testing.T) {
	a, cv := openOCM2(t, "ctf-dir")
	src := &resource.Content{Version: cv, Store: a}
	chart := cv.Descriptor.Resources[len(cv.Descriptor.Resources)-1]
	global, err := component.NewAccess(component.RelativeOCIReferenceAccess{Type: component.AccessRelativeOCIReference,
		Reference: "component-descriptors/example.com/shop@sha256:" + chart.Digest.Value})
	if err != nil {
		t.Fatal(err)
	}
	missing := "sha256:" + hex.EncodeToString(make([]byte, 32))
	chart.Access, err = component.NewAccess(component.LocalBlobAccess{Type: "LocalBlob/v1", LocalReference: missing,
		MediaType: "application/vnd.oci.image.manifest.v1+json", GlobalAccess: &global})
	if err != nil {
		t.Fatal(err)
	}
	art, err := src.Artifact(t.Context(), &chart)
	if err != nil {
		t.Fatal(err)
	}
	art.Close()
	if art.Descriptor.Digest.Hex != chart.Digest.Value {
		t.Errorf("through globalAccess: %s", art.Descriptor.Digest)
	}
	chart.Access, _ = component.NewAccess(component.LocalBlobAccess{Type: "LocalBlob/v1", LocalReference: missing, MediaType: "application/vnd.oci.image.manifest.v1+json"})
	if _, err := src.Artifact(t.Context(), &chart); err == nil {
		t.Error("a manifest the index lacks, without globalAccess, was found")
	}
}
