package ctf

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// shared returns /work/shared (the directory ../shared next to the module
// root) joined with elem, skipping the test when it is not there.
func shared(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s not available: %v", p, err)
	}
	return p
}

// checkArchive resolves every index entry of a, reads every manifest and
// the blobs it points at, and verifies every blob of the archive.
func checkArchive(t *testing.T, a *Archive) {
	t.Helper()
	ctx := context.Background()
	entries := a.Entries()
	if len(entries) == 0 {
		t.Fatalf("%s: no index entries", a.Path())
	}
	for _, e := range entries {
		ref := oci.Ref{Repository: e.Repository, Tag: e.Tag}
		if e.Tag == "" {
			ref.Digest = e.Digest
		}
		d, err := a.Resolve(ctx, ref)
		if err != nil {
			t.Fatalf("%s: resolve %s: %v", a.Path(), e, err)
		}
		if d.Digest != e.Digest || !oci.IsManifest(d.MediaType) {
			t.Fatalf("%s: resolve %s = %+v", a.Path(), e, d)
		}
		walk(t, a, e.Repository, d)
	}
	if err := a.Verify(ctx); err != nil {
		t.Fatalf("%s: verify: %v", a.Path(), err)
	}
}

// walk fetches manifest d verified and every descriptor below it.
func walk(t *testing.T, r oci.Reader, repo string, d v1.Descriptor) {
	t.Helper()
	ctx := context.Background()
	b, err := oci.FetchBytes(ctx, r, repo, d, 0)
	if err != nil {
		t.Fatalf("fetch manifest %s: %v", d.Digest, err)
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		t.Fatalf("children of %s: %v", d.Digest, err)
	}
	for _, k := range kids {
		if oci.IsManifest(k.MediaType) {
			walk(t, r, repo, k)
			continue
		}
		rc, err := r.Fetch(ctx, repo, k)
		if err != nil {
			t.Fatalf("fetch blob %s of %s: %v", k.Digest, d.Digest, err)
		}
		vr, err := oci.VerifyReader(rc, k)
		if err == nil {
			_, err = copyAll(vr)
		}
		rc.Close()
		if err != nil {
			t.Fatalf("blob %s of %s: %v", k.Digest, d.Digest, err)
		}
	}
}
