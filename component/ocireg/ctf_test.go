package ocireg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/ctf"
)

// ctfFixtures lists every CTF in the shared fixtures: the ones written for
// ferry (directories, tar, tgz) and the OCM 0.18/0.20 ones of the spec.
func ctfFixtures(t *testing.T) []string {
	t.Helper()
	var out []string
	td := shared(t, "testdata", "ocm")
	for _, n := range []string{"ctf-dir", "ctf-copied", "ctf-from-registry", "ctf-signed", "ctf-v3alpha1", "ctf.tar", "ctf.tgz"} {
		out = append(out, filepath.Join(td, n))
	}
	sp := shared(t, "spec", "ocm", "fixtures", "ctf")
	for _, n := range []string{
		"ocm-0.18.0-multi-layer",
		"ocm-0.20.0-compat-01/transport-archive", "ocm-0.20.0-compat-01/transport-archive.tar", "ocm-0.20.0-compat-01/transport-archive.tar.gz",
		"ocm-0.20.0-compat-02/with-resource", "ocm-0.20.0-compat-02/without-resource",
	} {
		out = append(out, filepath.Join(sp, n))
	}
	return out
}

// TestCTFFixtures reads every component version of every fixture CTF,
// streams and verifies each local blob, checks that each localBlob access
// resolves and matches a genericBlobDigest/v1 resource digest, and
// recomputes the manifest from the descriptor: with OCM's creator it is
// the very manifest OCM wrote.
func TestCTFFixtures(t *testing.T) {
	ctx := context.Background()
	for _, path := range ctfFixtures(t) {
		t.Run(strings.TrimPrefix(path, filepath.Dir(filepath.Dir(path))+"/"), func(t *testing.T) {
			a, err := ctf.Open(path, ctf.ReadOnly(), ctf.TempDir(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			r := New(a, "")
			names, err := r.Components(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) == 0 {
				t.Fatal("no components")
			}
			for _, name := range names {
				versions, err := r.Versions(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if len(versions) == 0 {
					t.Errorf("%s: no versions", name)
				}
				for _, version := range versions {
					checkVersion(t, r, name, version)
				}
			}
		})
	}
}

func checkVersion(t *testing.T, r *Repository, name, version string) {
	t.Helper()
	ctx := context.Background()
	v, err := r.Get(ctx, name, version)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", name, version, err)
	}
	if v.Descriptor.Name != name || v.Descriptor.Version != version {
		t.Errorf("read %s:%s as %s:%s", name, version, v.Descriptor.Name, v.Descriptor.Version)
	}
	for _, b := range v.LocalBlobs() {
		rc, err := b.Open(ctx)
		if err != nil {
			t.Fatalf("%s:%s: opening local blob %s: %v", name, version, b.Descriptor.Digest, err)
		}
		if n, err := io.Copy(io.Discard, rc); err != nil || n != b.Descriptor.Size {
			t.Errorf("%s:%s: local blob %s: %d bytes, %v", name, version, b.Descriptor.Digest, n, err)
		}
		rc.Close()
	}
	for i, res := range v.Descriptor.Resources {
		if res.Access.Kind() != component.AccessLocalBlob {
			continue
		}
		lb, err := res.Access.LocalBlob()
		if err != nil {
			t.Fatal(err)
		}
		rc, _, err := v.LocalBlob(ctx, lb)
		if err != nil {
			t.Fatalf("%s:%s resource %d: %v", name, version, i, err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Errorf("%s:%s resource %d: %v", name, version, i, err)
		}
		rc.Close()
		if dg := res.Digest; dg != nil && dg.NormalisationAlgorithm == "genericBlobDigest/v1" && dg.HashAlgorithm == "SHA-256" {
			if got := hex.EncodeToString(h.Sum(nil)); got != dg.Value {
				t.Errorf("%s:%s resource %s: blob sha256 %s, resource digest %s", name, version, res.Name, got, dg.Value)
			}
		}
	}
	var blobs []v1.Descriptor
	for _, b := range v.LocalBlobs() {
		blobs = append(blobs, b.Descriptor)
	}
	a, err := Manifest(v.Descriptor, blobs, WriteOptions{Creator: v.Annotations[AnnotationCreator]})
	if err != nil {
		t.Fatalf("%s:%s: Manifest: %v", name, version, err)
	}
	if a.Manifest.Digest != v.Manifest.Digest {
		t.Errorf("%s:%s: recomputed manifest %s, OCM wrote %s:\n got %s\nwant %s", name, version, a.Manifest.Digest, v.Manifest.Digest, a.ManifestBytes, v.ManifestBytes)
	}
}
