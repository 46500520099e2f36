package resource_test

import (
	"errors"
	"io"
	"testing"

	"github.com/ferry-oci/ferry/internal/fixture"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
)

func openFixture(t *testing.T, name string) *ctf.Archive {
	t.Helper()
	a, err := ctf.Open(fixture.OCM(t, name), ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestDigestsMatchDescriptors recomputes every resource digest the OCM CLI
// recorded, from the content in its CTFs: local blobs, and images stored
// by value as artifact sets.
func TestDigestsMatchDescriptors(t *testing.T) {
	for _, name := range []string{"ctf-dir", "ctf-copied", "ctf-signed", "ctf.tar", "ctf.tgz"} {
		a := openFixture(t, name)
		repo := ocireg.New(a, "")
		for _, v := range []string{"6.3.5", "6.3.6"} {
			cv, err := repo.Get(t.Context(), "example.com/podinfo", v)
			if err != nil {
				t.Fatal(err)
			}
			src := &resource.Content{Version: cv, Store: a}
			for i := range cv.Descriptor.Resources {
				r := &cv.Descriptor.Resources[i]
				if r.Access.Kind() == component.AccessOCIArtifact {
					// The image is in a registry that no longer runs; without
					// registry access that must be a clear error, not a guess.
					if _, err := src.Digest(t.Context(), r, r.Digest); !errors.Is(err, resource.ErrNoContent) {
						t.Errorf("%s %s: got %v, want ErrNoContent", name, src.Name(r), err)
					}
					continue
				}
				got, err := src.Digest(t.Context(), r, r.Digest)
				if err != nil {
					t.Fatalf("%s %s: %v", name, src.Name(r), err)
				}
				if *got != *r.Digest {
					t.Errorf("%s %s: content digest %s, descriptor %s", name, src.Name(r), got, r.Digest)
				}
			}
		}
	}
}

// TestArtifactSetIsAnArtifact reads the image stored by value in
// ctf-copied as an OCI artifact: main manifest, hint and tags as OCM
// recorded them, content verified.
func TestArtifactSetIsAnArtifact(t *testing.T) {
	a := openFixture(t, "ctf-copied")
	cv, err := ocireg.New(a, "").Get(t.Context(), "example.com/podinfo", "6.3.6")
	if err != nil {
		t.Fatal(err)
	}
	src := &resource.Content{Version: cv, Store: a}
	r := &cv.Descriptor.Resources[cv.Descriptor.ResourceIndex(component.Identity{"name": "image"})]
	if !resource.IsArtifact(r) {
		t.Fatal("the image resource is not an artifact")
	}
	art, err := src.Artifact(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	defer art.Close()
	name, tag, err := resource.ReferenceHint(r, "")
	if err != nil || art.Descriptor.Digest.Hex != "925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a" || name+":"+tag != "stefanprodan/podinfo:6.3.6" {
		t.Fatalf("artifact %s with hint %s:%s (%v)", art.Descriptor.Digest, name, tag, err)
	}
	b, err := oci.FetchBytes(t.Context(), art.Reader, art.Ref.Repo(), art.Descriptor, 0)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := oci.Children(art.Descriptor.MediaType, b)
	if err != nil || len(kids) != 2 {
		t.Fatalf("index children: %v, %v", kids, err)
	}
	for _, k := range kids {
		if _, err := oci.FetchBytes(t.Context(), art.Reader, art.Ref.Repo(), k, 0); err != nil {
			t.Fatalf("child %s: %v", k.Digest, err)
		}
	}
}

// TestOpenStreamsLocalBlobsVerified reads a local blob resource.
func TestOpenStreamsLocalBlobsVerified(t *testing.T) {
	a := openFixture(t, "ctf-dir")
	cv, err := ocireg.New(a, "").Get(t.Context(), "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	src := &resource.Content{Version: cv, Store: a}
	r := &cv.Descriptor.Resources[cv.Descriptor.ResourceIndex(component.Identity{"name": "config"})]
	rc, d, err := src.Open(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || int64(len(b)) != d.Size {
		t.Fatalf("read %d of %d bytes: %v", len(b), d.Size, err)
	}
	if _, _, err := src.Open(t.Context(), &cv.Descriptor.Resources[2]); !errors.Is(err, resource.ErrNoContent) {
		t.Fatalf("Open of an image resource: got %v, want ErrNoContent", err)
	}
}
