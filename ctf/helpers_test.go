package ctf

import (
	"context"
	"github.com/ferry-oci/ferry/internal/fixture"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// shared returns ../shared beside the module root joined with elem.
func shared(t testing.TB, elem ...string) string { t.Helper(); return fixture.Shared(t, elem...) }

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
