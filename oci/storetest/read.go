package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// readTests are what a read-only store promises about the content it was
// made with.
var readTests = []testCase{
	{"MissingContent", testMissing},
	{"BlobRead", testBlobRead},
	{"ManifestResolveAndTag", testManifestRead},
	{"IndexWithChildren", testIndexRead},
	{"TagPointsAtItsManifest", testTagRead},
	{"ListTags", testListTagsRead},
	{"LargeBlobStreams", testLargeBlobRead},
	{"ConcurrentReads", testConcurrentReads},
	{"CancelledContext", testCancelledRead},
	{"ReadVerifies", testReadVerifies},
	{"WritesRefused", testWritesRefused},
}

func testBlobRead(t *testing.T, h *harness) {
	ctx := t.Context()
	b, d := Blob(4096, types.OCILayer)
	eb, ed := []byte{}, oci.DescriptorOf(types.OCILayer, nil)
	s, repo := h.store([]Entry{BlobEntry("suite/blob", b, d), BlobEntry("suite/blob", eb, ed)})
	r := repo("suite/blob")
	if ok, err := s.Exists(ctx, r, d); err != nil || !ok {
		t.Fatalf("Exists = %v, %v; want true", ok, err)
	}
	if got := fetchAll(ctx, t, s, r, d); !bytes.Equal(got, b) {
		t.Fatalf("Fetch returned %d bytes that differ from the %d written", len(got), len(b))
	}
	if ok, err := s.Exists(ctx, r, ed); err != nil || !ok {
		t.Fatalf("Exists of the empty blob = %v, %v; want true", ok, err)
	}
	if got := fetchAll(ctx, t, s, r, ed); len(got) != 0 {
		t.Fatalf("empty blob came back with %d bytes", len(got))
	}
	wrong := d
	wrong.Size++
	if ok, err := s.Exists(ctx, r, wrong); err != nil || ok {
		t.Fatalf("Exists of the blob's digest with another size = %v, %v; want false, nil", ok, err)
	}
}

func testManifestRead(t *testing.T, h *harness) {
	img := NewImage(2, 512)
	s, repo := h.store(img.Entries("suite/image", "1.0.0"))
	checkImage(t.Context(), t, s, repo("suite/image"), img, "1.0.0")
}

func testIndexRead(t *testing.T, h *harness) {
	m := newMultiArch()
	s, repo := h.store(m.entries("suite/multi", "multi"))
	m.check(t.Context(), t, s, repo("suite/multi"), "multi")
}

// testTagRead: a tag resolves to its manifest; an untagged manifest of the
// same repository resolves by digest only.
func testTagRead(t *testing.T, h *harness) {
	ctx := t.Context()
	a, b := NewImage(1, 64), NewImage(1, 64)
	s, repo := h.store(a.Entries("suite/retag"), b.Entries("suite/retag", "latest"))
	r := repo("suite/retag")
	got, err := s.Resolve(ctx, mustRef(t, r+":latest"))
	if err != nil {
		t.Fatal(err)
	}
	checkDesc(t, "Resolve latest", got, b.Desc)
	got, err = s.Resolve(ctx, mustRef(t, r+"@"+a.Desc.Digest.String()))
	if err != nil {
		t.Fatalf("untagged manifest: %v", err)
	}
	checkDesc(t, "Resolve of the untagged manifest", got, a.Desc)
	if _, err := s.Resolve(ctx, mustRef(t, r+":other")); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("Resolve of a tag nobody set: got %v, want ErrNotFound", err)
	}
}

func testListTagsRead(t *testing.T, h *harness) {
	img := NewImage(1, 64)
	want := []string{"1.0.0", "1.0.0.build-3", "latest"}
	s, repo := h.store(img.Entries("suite/tags", want...))
	tl, ok := s.(oci.TagLister)
	if !ok {
		t.Skip("store does not list tags")
	}
	ctx := t.Context()
	got, err := tl.Tags(ctx, repo("suite/tags"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Tags = %v, want %v", got, want)
	}
	if tags, err := tl.Tags(ctx, repo("suite/none")); err != nil || len(tags) != 0 {
		t.Fatalf("Tags of a repository the store does not have = %v, %v; want none", tags, err)
	}
}

func testLargeBlobRead(t *testing.T, h *harness) {
	b, d := Blob(6<<20+17, types.OCILayer)
	s, repo := h.store([]Entry{BlobEntry("suite/large", b, d)})
	streamVerified(t.Context(), t, s, repo("suite/large"), d)
}

func testConcurrentReads(t *testing.T, h *harness) {
	ctx := t.Context()
	img := NewImage(8, 3000)
	s, repo := h.store(img.Entries("suite/concurrent", "v1"))
	r := repo("suite/concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			k := i % len(img.Blobs)
			got, err := oci.FetchBytes(ctx, s, r, img.Blobs[k], 0)
			if err == nil && !bytes.Equal(got, img.content(k)) {
				err = errors.New("blob differs")
			}
			if err != nil {
				errs <- err
			}
			d, err := s.Resolve(ctx, mustRef(t, r+":v1"))
			if err == nil && d.Digest != img.Desc.Digest {
				err = errors.New("v1 resolves to " + d.Digest.String())
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent read: %v", err)
	}
}

func testCancelledRead(t *testing.T, h *harness) {
	img := NewImage(1, 100)
	s, repo := h.store(img.Entries("suite/cancel", "v1"))
	r := repo("suite/cancel")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Resolve(ctx, mustRef(t, r+":v1")); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a cancelled context: got %v, want context.Canceled", err)
	}
	if rc, err := s.Fetch(ctx, r, img.Blobs[1]); !errors.Is(err, context.Canceled) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Fetch with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := s.Exists(ctx, r, img.Blobs[1]); !errors.Is(err, context.Canceled) {
		t.Errorf("Exists with a cancelled context: got %v, want context.Canceled", err)
	}
}

// testReadVerifies: what the store returns verifies against its
// descriptor; a descriptor of another size, or bytes damaged in the store,
// do not pass verification.
func testReadVerifies(t *testing.T, h *harness) {
	ctx := t.Context()
	img := NewImage(2, 4000)
	s, repo := h.store(img.Entries("suite/verify", "v1"))
	r := repo("suite/verify")
	for _, d := range append(slices.Clone(img.Blobs), img.Desc) {
		streamVerified(ctx, t, s, r, d)
	}
	long := img.Blobs[1]
	long.Size++
	if err := readVerified(ctx, s, r, long); !errors.Is(err, oci.ErrSizeMismatch) && !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("reading a blob under a descriptor one byte longer: got %v, want ErrSizeMismatch (or ErrNotFound)", err)
	}
	if h.corrupt == nil {
		t.Log("the factory cannot damage the store's bytes; damage is not checked")
		return
	}
	d := img.Blobs[2]
	if err := h.corrupt(d); err != nil {
		t.Fatalf("damaging %s: %v", d.Digest, err)
	}
	if err := readVerified(ctx, s, r, d); err == nil {
		t.Error("a damaged blob passed verification")
	}
}

// readVerified fetches d and reads it through oci.VerifyReader.
func readVerified(ctx context.Context, s oci.Reader, repo string, d v1.Descriptor) error {
	rc, err := s.Fetch(ctx, repo, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	vr, err := oci.VerifyReader(rc, d)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, vr)
	return err
}

func testWritesRefused(t *testing.T, h *harness) {
	ctx := t.Context()
	img := NewImage(1, 100)
	b, d := Blob(700, types.OCILayer)
	s, repo := h.store(img.Entries("suite/readonly", "v1"))
	r := repo("suite/readonly")
	refused := func(what, op string, err error) {
		t.Helper()
		var oe *oci.Error
		if !errors.Is(err, oci.ErrUnsupported) || !errors.As(err, &oe) || oe.Op != op {
			t.Errorf("%s on a read-only store: got %v, want an *oci.Error of op %q wrapping ErrUnsupported", what, err, op)
		}
	}
	refused("Push of new content", "push", s.Push(ctx, r, d, bytes.NewReader(b)))
	refused("Push of content the store holds", "push", s.Push(ctx, r, img.Blobs[1], bytes.NewReader(img.Layers[0])))
	refused("Tag of a new tag", "tag", s.Tag(ctx, mustRef(t, r+":v2"), img.Desc))
	refused("Tag of an existing tag", "tag", s.Tag(ctx, mustRef(t, r+":v1"), img.Desc))
	if ok, err := s.Exists(ctx, r, d); err != nil || ok {
		t.Errorf("after a refused Push Exists = %v, %v; want false, nil", ok, err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, r+":v2")); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("a refused Tag left a tag behind: %v", err)
	}
	checkImage(ctx, t, s, r, img, "v1")
}
