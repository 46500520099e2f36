package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

func testMissing(t *testing.T, h *harness) {
	ctx := t.Context()
	s, repo := h.store()
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
	for _, ref := range []string{repo("suite/missing") + ":nope", repo("suite/missing") + "@" + d.Digest.String()} {
		if _, _, err := oci.ReadManifest(ctx, s, mustRef(t, ref)); !errors.Is(err, oci.ErrNotFound) {
			t.Errorf("ReadManifest of missing %s: got %v, want ErrNotFound", ref, err)
		}
	}
}

func testBlobRoundTrip(t *testing.T, h *harness) {
	ctx := t.Context()
	b, d := Blob(4096, types.OCILayer)
	// Empty blobs are legal (the OCI empty descriptor has 2 bytes, but some
	// tools push zero-length layers).
	eb, ed := []byte{}, oci.DescriptorOf(types.OCILayer, nil)
	s, repo := h.store([]Entry{BlobEntry("suite/blob", b, d), BlobEntry("suite/blob", eb, ed)})
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
	if err := s.Push(ctx, r, ed, bytes.NewReader(eb)); err != nil {
		t.Fatalf("Push of an empty blob: %v", err)
	}
	if got := fetchAll(ctx, t, s, r, ed); len(got) != 0 {
		t.Fatalf("empty blob came back with %d bytes", len(got))
	}
}

func testPushIdempotent(t *testing.T, h *harness) {
	ctx := t.Context()
	b, d := Blob(1000, types.OCILayer)
	s, repo := h.store([]Entry{BlobEntry("suite/twice", b, d)})
	for i := range 2 {
		if err := s.Push(ctx, repo("suite/twice"), d, bytes.NewReader(b)); err != nil {
			t.Fatalf("Push #%d: %v", i+1, err)
		}
	}
	if got := fetchAll(ctx, t, s, repo("suite/twice"), d); !bytes.Equal(got, b) {
		t.Fatal("content changed after a second push")
	}
}

func testWrongDigest(t *testing.T, h *harness) {
	ctx := t.Context()
	b, d := Blob(2048, types.OCILayer)
	other := append([]byte(nil), b...)
	other[1000] ^= 0xff
	img := NewImage(1, 10)
	_, bogus := Blob(len(img.Manifest), types.OCIManifestSchema1)
	s, repo := h.store([]Entry{BlobEntry("suite/bad", b, d)}, img.Entries("suite/bad"),
		[]Entry{{Repo: "suite/bad", Descriptor: bogus, Manifest: true}})
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
	img.Push(ctx, t, s, r)
	err = s.Push(ctx, r, bogus, bytes.NewReader(img.Manifest))
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("Push of a manifest under another digest: got %v, want ErrDigestMismatch", err)
	}
	if ok, err := s.Exists(ctx, r, bogus); err != nil || ok {
		t.Fatalf("after a rejected manifest push Exists = %v, %v; want false, nil", ok, err)
	}
}

func testWrongSize(t *testing.T, h *harness) {
	ctx := t.Context()
	b, d := Blob(2048, types.OCILayer)
	s, repo := h.store([]Entry{BlobEntry("suite/short", b, d)})
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

func testManifestAndTag(t *testing.T, h *harness) {
	ctx := t.Context()
	img := NewImage(2, 512)
	s, repo := h.store(img.Entries("suite/image", "1.0.0"))
	r := repo("suite/image")
	img.Push(ctx, t, s, r)
	// An untagged manifest resolves by digest.
	got, err := s.Resolve(ctx, mustRef(t, r+"@"+img.Desc.Digest.String()))
	if err != nil {
		t.Fatalf("Resolve by digest before Tag: %v", err)
	}
	checkDesc(t, "Resolve by digest before Tag", got, img.Desc)
	tagged := mustRef(t, r+":1.0.0")
	if err := s.Tag(ctx, tagged, img.Desc); err != nil {
		t.Fatalf("Tag: %v", err)
	}
	checkImage(ctx, t, s, r, img, "1.0.0")
}

// checkImage checks that repo r of s holds img, by digest and by tag.
func checkImage(ctx context.Context, t *testing.T, s oci.Store, r string, img Image, tag string) {
	t.Helper()
	got, err := s.Resolve(ctx, mustRef(t, r+"@"+img.Desc.Digest.String()))
	if err != nil {
		t.Fatalf("Resolve by digest: %v", err)
	}
	checkDesc(t, "Resolve by digest", got, img.Desc)
	if ok, err := s.Exists(ctx, r, img.Desc); err != nil || !ok {
		t.Fatalf("Exists of the manifest = %v, %v", ok, err)
	}
	got, err = s.Resolve(ctx, mustRef(t, r+":"+tag))
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
	// ReadManifest answers as Resolve does, with the manifest's bytes (in
	// one request where the store is an oci.ManifestReader).
	for _, ref := range []string{r + ":" + tag, r + "@" + img.Desc.Digest.String()} {
		got, raw, err := oci.ReadManifest(ctx, s, mustRef(t, ref))
		if err != nil {
			t.Fatalf("ReadManifest %s: %v", ref, err)
		}
		checkDesc(t, "ReadManifest "+ref, got, img.Desc)
		if !bytes.Equal(raw, img.Manifest) {
			t.Fatalf("ReadManifest %s returned other bytes than the manifest", ref)
		}
		raw[0] = 'X' // the caller's to change: later reads are unaffected
		if b := fetchAll(ctx, t, s, r, img.Desc); !bytes.Equal(b, img.Manifest) {
			t.Fatalf("fetching the manifest after ReadManifest %s returned other bytes", ref)
		}
	}
}

// multiArch is two images and the index naming them.
type multiArch struct {
	amd, arm Image
	index    []byte
	desc     v1.Descriptor
}

func newMultiArch() multiArch {
	m := multiArch{amd: NewImage(1, 256), arm: NewImage(1, 256)}
	ad, rd := m.amd.Desc, m.arm.Desc
	ad.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	rd.Platform = &v1.Platform{OS: "linux", Architecture: "arm64"}
	m.index, _ = json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{ad, rd}})
	m.desc = oci.DescriptorOf(types.OCIImageIndex, m.index)
	return m
}

func (m multiArch) entries(repo string, tags ...string) []Entry {
	out := append(m.amd.Entries(repo), m.arm.Entries(repo)...)
	return append(out, Entry{Repo: repo, Descriptor: m.desc, Data: m.index, Manifest: true, Tags: tags})
}

// check checks that repo r of s holds the index under tag, and its children.
func (m multiArch) check(ctx context.Context, t *testing.T, s oci.Store, r, tag string) {
	t.Helper()
	got, err := s.Resolve(ctx, mustRef(t, r+":"+tag))
	if err != nil {
		t.Fatalf("Resolve index: %v", err)
	}
	checkDesc(t, "Resolve index", got, m.desc)
	b := fetchAll(ctx, t, s, r, got)
	kids, err := oci.Children(got.MediaType, b)
	if err != nil || len(kids) != 2 || kids[0].Digest != m.amd.Desc.Digest || kids[1].Digest != m.arm.Desc.Digest {
		t.Fatalf("index children = %v, %v", kids, err)
	}
	for _, k := range kids {
		if ok, err := s.Exists(ctx, r, k); err != nil || !ok {
			t.Fatalf("child %s: Exists = %v, %v", k.Digest, ok, err)
		}
	}
}

func testIndex(t *testing.T, h *harness) {
	ctx := t.Context()
	m := newMultiArch()
	s, repo := h.store(m.entries("suite/multi", "multi"))
	r := repo("suite/multi")
	m.amd.Push(ctx, t, s, r)
	m.arm.Push(ctx, t, s, r)
	if err := s.Push(ctx, r, m.desc, bytes.NewReader(m.index)); err != nil {
		t.Fatalf("Push index: %v", err)
	}
	if err := s.Tag(ctx, mustRef(t, r+":multi"), m.desc); err != nil {
		t.Fatalf("Tag index: %v", err)
	}
	m.check(ctx, t, s, r, "multi")
}

// testRetag: a tag moves to another manifest. A planned store holds the
// tags its plan names: it refuses to give the tag to another manifest, and
// the refusal does not move it.
func testRetag(t *testing.T, h *harness) {
	ctx := t.Context()
	a, b := NewImage(1, 64), NewImage(1, 64)
	s, repo := h.store(a.Entries("suite/retag"), b.Entries("suite/retag", "latest"))
	r := repo("suite/retag")
	a.Push(ctx, t, s, r)
	b.Push(ctx, t, s, r)
	ref := mustRef(t, r+":latest")
	err := s.Tag(ctx, ref, a.Desc)
	switch {
	case h.mode == planned && !errors.Is(err, oci.ErrUnsupported):
		t.Fatalf("Tag of a manifest the plan does not tag so: got %v, want ErrUnsupported", err)
	case h.mode == planned:
		// The plan may tag b already, but never a.
		if d, err := s.Resolve(ctx, ref); err == nil && d.Digest == a.Desc.Digest {
			t.Fatal("a refused Tag moved the tag")
		}
	case err != nil:
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

func testTagNeedsManifest(t *testing.T, h *harness) {
	ctx := t.Context()
	img := NewImage(1, 64)
	// A planned store is planned to hold the manifest, tagged: the test
	// never pushes it.
	s, repo := h.store(img.Entries("suite/notag", "v1"))
	err := s.Tag(ctx, mustRef(t, repo("suite/notag")+":v1"), img.Desc)
	if !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("Tag of a manifest the store does not hold: got %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, repo("suite/notag")+":v1")); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("a failed Tag left a tag behind: %v", err)
	}
}

func testListTags(t *testing.T, h *harness) {
	img := NewImage(1, 64)
	want := []string{"1.0.0", "1.0.0.build-3", "latest"}
	s, repo := h.store(img.Entries("suite/tags", want...))
	tl, ok := s.(oci.TagLister)
	if !ok {
		t.Skip("store does not list tags")
	}
	ctx := t.Context()
	r := repo("suite/tags")
	if tags, err := tl.Tags(ctx, r); err != nil || len(tags) != 0 {
		t.Fatalf("Tags of an empty repository = %v, %v; want none", tags, err)
	}
	img.Push(ctx, t, s, r)
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

func testMount(t *testing.T, h *harness) {
	b, d := Blob(3000, types.OCILayer)
	s, repo := h.store([]Entry{BlobEntry("suite/mount-from", b, d)})
	m, ok := s.(oci.Mounter)
	if !ok {
		t.Skip("store does not mount")
	}
	ctx := t.Context()
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

func testLargeBlob(t *testing.T, h *harness) {
	ctx := t.Context()
	b, d := Blob(6<<20+17, types.OCILayer)
	s, repo := h.store([]Entry{BlobEntry("suite/large", b, d)})
	r := repo("suite/large")
	if err := s.Push(ctx, r, d, bytes.NewReader(b)); err != nil {
		t.Fatalf("Push of 6 MiB: %v", err)
	}
	streamVerified(ctx, t, s, r, d)
}

// streamVerified fetches d and checks it through oci.VerifyReader.
func streamVerified(ctx context.Context, t *testing.T, s oci.Reader, r string, d v1.Descriptor) {
	t.Helper()
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

func testConcurrent(t *testing.T, h *harness) {
	ctx := t.Context()
	blobs := make([][]byte, 16)
	descs := make([]v1.Descriptor, 16)
	var c []Entry
	for i := range blobs {
		blobs[i], descs[i] = Blob(10000+i, types.OCILayer)
		if i%2 == 0 {
			c = append(c, BlobEntry("suite/concurrent", blobs[i], descs[i]))
		}
	}
	s, repo := h.store(c)
	r := repo("suite/concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
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

func testCancelled(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b, d := Blob(1000, types.OCILayer)
	s, repo := h.store([]Entry{BlobEntry("suite/cancel", b, d)})
	r := repo("suite/cancel")
	if err := s.Push(ctx, r, d, bytes.NewReader(b)); err == nil {
		t.Fatal("Push with a cancelled context succeeded")
	}
	if ok, err := s.Exists(t.Context(), r, d); err != nil || ok {
		t.Fatalf("a cancelled Push left the blob: %v, %v", ok, err)
	}
}

// testUnplanned: a planned store refuses content and tags its plan does not
// name, keeps nothing of them, and still takes what it was planned for.
func testUnplanned(t *testing.T, h *harness) {
	ctx := t.Context()
	img := NewImage(1, 100)
	s, repo := h.store(img.Entries("suite/plan", "planned"))
	r := repo("suite/plan")
	b, d := Blob(500, types.OCILayer)
	if err := s.Push(ctx, r, d, bytes.NewReader(b)); !errors.Is(err, oci.ErrUnsupported) {
		t.Fatalf("Push of unplanned content: got %v, want ErrUnsupported", err)
	}
	if ok, err := s.Exists(ctx, r, d); err != nil || ok {
		t.Fatalf("after a refused push Exists = %v, %v; want false, nil", ok, err)
	}
	img.Push(ctx, t, s, r)
	if err := s.Tag(ctx, mustRef(t, r+":unplanned"), img.Desc); !errors.Is(err, oci.ErrUnsupported) {
		t.Fatalf("Tag the plan does not name: got %v, want ErrUnsupported", err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, r+":unplanned")); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("a refused Tag left a tag behind: %v", err)
	}
	if err := s.Tag(ctx, mustRef(t, r+":planned"), img.Desc); err != nil {
		t.Fatal(err)
	}
	checkImage(ctx, t, s, r, img, "planned")
}
