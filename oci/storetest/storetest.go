package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Factory returns a new, empty store for one test, and the base that
// repository names in it start with: "127.0.0.1:5000" for a registry (whose
// repositories carry the host), "" for a CTF archive (whose do not).
// Cleanup is registered on t.
type Factory func(t *testing.T) (store oci.Store, base string)

// Run runs the whole suite against stores made by f.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, oci.Store, func(string) string)
	}{
		{"MissingContent", testMissing},
		{"BlobRoundTrip", testBlobRoundTrip},
		{"PushIsIdempotent", testPushIdempotent},
		{"PushRejectsWrongDigest", testWrongDigest},
		{"PushRejectsWrongSize", testWrongSize},
		{"ManifestResolveAndTag", testManifestAndTag},
		{"IndexWithChildren", testIndex},
		{"RetagMovesTag", testRetag},
		{"TagNeedsManifest", testTagNeedsManifest},
		{"ListTags", testListTags},
		{"Mount", testMount},
		{"LargeBlobStreams", testLargeBlob},
		{"ConcurrentPushes", testConcurrent},
		{"CancelledContext", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, base := f(t)
			repo := func(name string) string {
				if base == "" {
					return name
				}
				return base + "/" + name
			}
			tc.fn(t, s, repo)
		})
	}
}

// Blob returns random content of n bytes and its descriptor.
func Blob(n int, mt types.MediaType) ([]byte, v1.Descriptor) {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b, oci.DescriptorOf(mt, b)
}

// Image is a small image: a config, layers and the manifest naming them.
type Image struct {
	Config   []byte
	Layers   [][]byte
	Manifest []byte
	Desc     v1.Descriptor   // of the manifest
	Blobs    []v1.Descriptor // config first, then layers
}

// NewImage returns an OCI image with the given number of random layers of
// size bytes each.
func NewImage(layers, size int) Image {
	var img Image
	img.Config = []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"nonce":%q}`, randHex()))
	cd := oci.DescriptorOf(types.OCIConfigJSON, img.Config)
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cd}
	img.Blobs = append(img.Blobs, cd)
	for range layers {
		b, d := Blob(size, types.OCILayer)
		img.Layers = append(img.Layers, b)
		img.Blobs = append(img.Blobs, d)
		m.Layers = append(m.Layers, d)
	}
	img.Manifest, _ = json.Marshal(m)
	img.Desc = oci.DescriptorOf(types.OCIManifestSchema1, img.Manifest)
	return img
}

func (img Image) content(i int) []byte {
	if i == 0 {
		return img.Config
	}
	return img.Layers[i-1]
}

// Push pushes the image's blobs and then its manifest (untagged) into repo.
func (img Image) Push(ctx context.Context, t testing.TB, s oci.Store, repo string) {
	t.Helper()
	for i, d := range img.Blobs {
		if err := s.Push(ctx, repo, d, bytes.NewReader(img.content(i))); err != nil {
			t.Fatalf("push blob %s: %v", d.Digest, err)
		}
	}
	if err := s.Push(ctx, repo, img.Desc, bytes.NewReader(img.Manifest)); err != nil {
		t.Fatalf("push manifest %s: %v", img.Desc.Digest, err)
	}
}

func randHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func mustRef(t testing.TB, s string) oci.Ref {
	t.Helper()
	r, err := oci.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fetchAll(ctx context.Context, t testing.TB, s oci.Store, repo string, d v1.Descriptor) []byte {
	t.Helper()
	rc, err := s.Fetch(ctx, repo, d)
	if err != nil {
		t.Fatalf("fetch %s: %v", d.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", d.Digest, err)
	}
	return b
}

func testMissing(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	_, d := Blob(100, types.OCILayer)
	if _, err := s.Fetch(ctx, repo("suite/missing"), d); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Fetch of a missing blob: got %v, want ErrNotFound", err)
	}
	ok, err := s.Exists(ctx, repo("suite/missing"), d)
	if err != nil || ok {
		t.Errorf("Exists of a missing blob = %v, %v; want false, nil", ok, err)
	}
	md := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: d.Digest, Size: d.Size}
	if ok, err := s.Exists(ctx, repo("suite/missing"), md); err != nil || ok {
		t.Errorf("Exists of a missing manifest = %v, %v; want false, nil", ok, err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, repo("suite/missing")+":nope")); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Resolve of a missing tag: got %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, repo("suite/missing")+"@"+d.Digest.String())); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Resolve of a missing digest: got %v, want ErrNotFound", err)
	}
}

func testBlobRoundTrip(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	b, d := Blob(4096, types.OCILayer)
	r := repo("suite/blob")
	if err := s.Push(ctx, r, d, bytes.NewReader(b)); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if ok, err := s.Exists(ctx, r, d); err != nil || !ok {
		t.Fatalf("Exists after Push = %v, %v; want true", ok, err)
	}
	if got := fetchAll(ctx, t, s, r, d); !bytes.Equal(got, b) {
		t.Fatalf("Fetch returned %d bytes that differ from the %d pushed", len(got), len(b))
	}
	// Empty blobs are legal (the OCI empty descriptor has 2 bytes, but some
	// tools push zero-length layers).
	eb, ed := []byte{}, oci.DescriptorOf(types.OCILayer, nil)
	if err := s.Push(ctx, r, ed, bytes.NewReader(eb)); err != nil {
		t.Fatalf("Push of an empty blob: %v", err)
	}
	if got := fetchAll(ctx, t, s, r, ed); len(got) != 0 {
		t.Fatalf("empty blob came back with %d bytes", len(got))
	}
}

func testPushIdempotent(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	b, d := Blob(1000, types.OCILayer)
	for i := range 2 {
		if err := s.Push(ctx, repo("suite/twice"), d, bytes.NewReader(b)); err != nil {
			t.Fatalf("Push #%d: %v", i+1, err)
		}
	}
	if got := fetchAll(ctx, t, s, repo("suite/twice"), d); !bytes.Equal(got, b) {
		t.Fatal("content changed after a second push")
	}
}

func testWrongDigest(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	b, d := Blob(2048, types.OCILayer)
	other := append([]byte(nil), b...)
	other[1000] ^= 0xff
	r := repo("suite/bad")
	err := s.Push(ctx, r, d, bytes.NewReader(other))
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("Push of altered bytes: got %v, want ErrDigestMismatch", err)
	}
	if ok, err := s.Exists(ctx, r, d); err != nil || ok {
		t.Fatalf("after a rejected push Exists = %v, %v; want false, nil", ok, err)
	}
	// Nothing may be kept under the digest of the bytes that were sent either.
	od := oci.DescriptorOf(types.OCILayer, other)
	if ok, err := s.Exists(ctx, r, od); err != nil || ok {
		t.Fatalf("after a rejected push the sent bytes exist under their own digest: %v, %v", ok, err)
	}
	// The same mismatch on a manifest.
	img := NewImage(1, 10)
	img.Push(ctx, t, s, r)
	_, bogus := Blob(len(img.Manifest), types.OCIManifestSchema1)
	err = s.Push(ctx, r, bogus, bytes.NewReader(img.Manifest))
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("Push of a manifest under another digest: got %v, want ErrDigestMismatch", err)
	}
	if ok, err := s.Exists(ctx, r, bogus); err != nil || ok {
		t.Fatalf("after a rejected manifest push Exists = %v, %v; want false, nil", ok, err)
	}
}

func testWrongSize(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	b, d := Blob(2048, types.OCILayer)
	r := repo("suite/short")
	if err := s.Push(ctx, r, d, bytes.NewReader(b[:1024])); !errors.Is(err, oci.ErrSizeMismatch) {
		t.Fatalf("Push of a truncated blob: got %v, want ErrSizeMismatch", err)
	}
	if err := s.Push(ctx, r, d, io.MultiReader(bytes.NewReader(b), strings.NewReader("tail"))); !errors.Is(err, oci.ErrSizeMismatch) {
		t.Fatalf("Push of a blob with extra bytes: got %v, want ErrSizeMismatch", err)
	}
	if ok, err := s.Exists(ctx, r, d); err != nil || ok {
		t.Fatalf("after rejected pushes Exists = %v, %v; want false, nil", ok, err)
	}
}

func testManifestAndTag(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	r := repo("suite/image")
	img := NewImage(2, 512)
	img.Push(ctx, t, s, r)
	byDigest := mustRef(t, r+"@"+img.Desc.Digest.String())
	got, err := s.Resolve(ctx, byDigest)
	if err != nil {
		t.Fatalf("Resolve by digest: %v", err)
	}
	checkDesc(t, "Resolve by digest", got, img.Desc)
	if ok, err := s.Exists(ctx, r, img.Desc); err != nil || !ok {
		t.Fatalf("Exists of the manifest = %v, %v", ok, err)
	}
	tagged := mustRef(t, r+":1.0.0")
	if err := s.Tag(ctx, tagged, img.Desc); err != nil {
		t.Fatalf("Tag: %v", err)
	}
	got, err = s.Resolve(ctx, tagged)
	if err != nil {
		t.Fatalf("Resolve by tag: %v", err)
	}
	checkDesc(t, "Resolve by tag", got, img.Desc)
	if b := fetchAll(ctx, t, s, r, got); !bytes.Equal(b, img.Manifest) {
		t.Fatalf("manifest bytes changed: got %s", b)
	}
	for i, d := range img.Blobs {
		if b := fetchAll(ctx, t, s, r, d); !bytes.Equal(b, img.content(i)) {
			t.Fatalf("blob %d changed", i)
		}
	}
}

func checkDesc(t testing.TB, what string, got, want v1.Descriptor) {
	t.Helper()
	if got.Digest != want.Digest || got.Size != want.Size || got.MediaType != want.MediaType {
		t.Fatalf("%s = {%s %d %s}, want {%s %d %s}", what, got.MediaType, got.Size, got.Digest,
			want.MediaType, want.Size, want.Digest)
	}
}

func testIndex(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	r := repo("suite/multi")
	amd, arm := NewImage(1, 256), NewImage(1, 256)
	amd.Push(ctx, t, s, r)
	arm.Push(ctx, t, s, r)
	ad, rd := amd.Desc, arm.Desc
	ad.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	rd.Platform = &v1.Platform{OS: "linux", Architecture: "arm64"}
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{ad, rd}})
	id := oci.DescriptorOf(types.OCIImageIndex, idx)
	if err := s.Push(ctx, r, id, bytes.NewReader(idx)); err != nil {
		t.Fatalf("Push index: %v", err)
	}
	ref := mustRef(t, r+":multi")
	if err := s.Tag(ctx, ref, id); err != nil {
		t.Fatalf("Tag index: %v", err)
	}
	got, err := s.Resolve(ctx, ref)
	if err != nil {
		t.Fatalf("Resolve index: %v", err)
	}
	checkDesc(t, "Resolve index", got, id)
	b := fetchAll(ctx, t, s, r, got)
	kids, err := oci.Children(got.MediaType, b)
	if err != nil || len(kids) != 2 || kids[0].Digest != amd.Desc.Digest || kids[1].Digest != arm.Desc.Digest {
		t.Fatalf("index children = %v, %v", kids, err)
	}
	for _, k := range kids {
		if ok, err := s.Exists(ctx, r, k); err != nil || !ok {
			t.Fatalf("child %s: Exists = %v, %v", k.Digest, ok, err)
		}
	}
}

func testRetag(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	r := repo("suite/retag")
	a, b := NewImage(1, 64), NewImage(1, 64)
	a.Push(ctx, t, s, r)
	b.Push(ctx, t, s, r)
	ref := mustRef(t, r+":latest")
	if err := s.Tag(ctx, ref, a.Desc); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, ref, b.Desc); err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	checkDesc(t, "Resolve after retag", got, b.Desc)
	// The first manifest is still there by digest.
	if _, err := s.Resolve(ctx, mustRef(t, r+"@"+a.Desc.Digest.String())); err != nil {
		t.Fatalf("untagged manifest lost: %v", err)
	}
}

func testTagNeedsManifest(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	img := NewImage(1, 64)
	err := s.Tag(ctx, mustRef(t, repo("suite/notag")+":v1"), img.Desc)
	if !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("Tag of a manifest the store does not hold: got %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, repo("suite/notag")+":v1")); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("a failed Tag left a tag behind: %v", err)
	}
}

func testListTags(t *testing.T, s oci.Store, repo func(string) string) {
	tl, ok := s.(oci.TagLister)
	if !ok {
		t.Skip("store does not list tags")
	}
	ctx := t.Context()
	r := repo("suite/tags")
	if tags, err := tl.Tags(ctx, r); err != nil || len(tags) != 0 {
		t.Fatalf("Tags of an empty repository = %v, %v; want none", tags, err)
	}
	img := NewImage(1, 64)
	img.Push(ctx, t, s, r)
	want := []string{"1.0.0", "1.0.0.build-3", "latest"}
	for _, tag := range want {
		if err := s.Tag(ctx, mustRef(t, r+":"+tag), img.Desc); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tl.Tags(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Tags = %v, want %v", got, want)
	}
}

func testMount(t *testing.T, s oci.Store, repo func(string) string) {
	m, ok := s.(oci.Mounter)
	if !ok {
		t.Skip("store does not mount")
	}
	ctx := t.Context()
	b, d := Blob(3000, types.OCILayer)
	from, to := repo("suite/mount-from"), repo("suite/mount-to")
	if err := s.Push(ctx, from, d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if err := m.Mount(ctx, from, to, d); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	if got := fetchAll(ctx, t, s, to, d); !bytes.Equal(got, b) {
		t.Fatal("mounted blob differs")
	}
	_, missing := Blob(10, types.OCILayer)
	if err := m.Mount(ctx, from, to, missing); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("Mount of a blob the source repository lacks: got %v, want ErrNotFound", err)
	}
}

func testLargeBlob(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	b, d := Blob(6<<20+17, types.OCILayer)
	r := repo("suite/large")
	if err := s.Push(ctx, r, d, bytes.NewReader(b)); err != nil {
		t.Fatalf("Push of 6 MiB: %v", err)
	}
	rc, err := s.Fetch(ctx, r, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	vr, err := oci.VerifyReader(rc, d)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, vr)
	if err != nil || n != d.Size {
		t.Fatalf("streamed %d of %d bytes: %v", n, d.Size, err)
	}
}

func testConcurrent(t *testing.T, s oci.Store, repo func(string) string) {
	ctx := t.Context()
	r := repo("suite/concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	blobs := make([][]byte, 16)
	descs := make([]v1.Descriptor, 16)
	for i := range blobs {
		blobs[i], descs[i] = Blob(10000+i, types.OCILayer)
	}
	for i := range blobs {
		wg.Go(func() {
			// Half the goroutines push the same blob, to exercise races on one digest.
			j := i
			if i%2 == 1 {
				j = 0
			}
			if err := s.Push(ctx, r, descs[j], bytes.NewReader(blobs[j])); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Push: %v", err)
	}
	for i := 0; i < len(blobs); i += 2 {
		if got := fetchAll(ctx, t, s, r, descs[i]); !bytes.Equal(got, blobs[i]) {
			t.Fatalf("blob %d differs after concurrent pushes", i)
		}
	}
}

func testCancelled(t *testing.T, s oci.Store, repo func(string) string) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b, d := Blob(1000, types.OCILayer)
	r := repo("suite/cancel")
	if err := s.Push(ctx, r, d, bytes.NewReader(b)); err == nil {
		t.Fatal("Push with a cancelled context succeeded")
	}
	if ok, err := s.Exists(t.Context(), r, d); err != nil || ok {
		t.Fatalf("a cancelled Push left the blob: %v, %v", ok, err)
	}
}
