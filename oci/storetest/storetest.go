package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
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

// PlannedFactory returns a new store for one test that is told in advance
// what the test will put into it, as a bundle writer is told by its plan
// (bundle.Writer.Begin): every blob and manifest the test pushes and every
// tag it sets, under names relative to the base it returns. A test may also
// push other bytes under a planned descriptor (to see them refused), and
// content that is not in c (to see that refused too).
type PlannedFactory func(t *testing.T, c Content) (store oci.Store, base string)

// ReadOnlyFactory returns a store that already holds c, written by some
// other means (a bundle written by bundle.Writer and opened by bundle.Open,
// a CTF tar written by ctf.Create and opened again), and that refuses
// writes. Cleanup is registered on t.
type ReadOnlyFactory func(t *testing.T, c Content) Prewritten

// Prewritten is a read-only store holding a test's content.
type Prewritten struct {
	Store oci.Store
	Base  string // as for Factory
	// Corrupt, when not nil, changes the bytes the store holds for d
	// without changing their length (as a damaged disk would), so the suite
	// can check that reading d back does not pass verification.
	Corrupt func(d v1.Descriptor) error
}

// Entry is one blob or manifest a test of the suite puts into a store.
type Entry struct {
	Repo       string // relative to the store's base: "suite/image"
	Descriptor v1.Descriptor
	// Data is the content of Descriptor; nil for a descriptor nobody has the
	// bytes of (the test pushes other bytes under it and expects a refusal).
	Data     []byte
	Manifest bool     // a manifest or index (so Repo gets an entry for it)
	Tags     []string // the tags Repo gives the manifest
}

// Content is what one test puts into a store, blobs before the manifests
// that name them.
type Content []Entry

// Write pushes every entry of c that has data into s under base, then sets
// the tags: how a ReadOnlyFactory can fill the store it then reopens.
func (c Content) Write(ctx context.Context, t testing.TB, s oci.Store, base string) {
	t.Helper()
	for _, e := range c {
		if e.Data == nil && e.Descriptor.Size != 0 {
			continue
		}
		if err := s.Push(ctx, join(base, e.Repo), e.Descriptor, bytes.NewReader(e.Data)); err != nil {
			t.Fatalf("writing %s@%s: %v", e.Repo, e.Descriptor.Digest, err)
		}
	}
	for _, e := range c {
		for _, tag := range e.Tags {
			if err := s.Tag(ctx, mustRef(t, join(base, e.Repo)+":"+tag), e.Descriptor); err != nil {
				t.Fatalf("tagging %s:%s: %v", e.Repo, tag, err)
			}
		}
	}
}

func join(base, repo string) string {
	if base == "" {
		return repo
	}
	return base + "/" + repo
}

// BlobEntry is the entry of blob b, described by d, in repo.
func BlobEntry(repo string, b []byte, d v1.Descriptor) Entry {
	return Entry{Repo: repo, Descriptor: d, Data: b}
}

// mode is how a suite runs: on an empty writable store, on a store told its
// content in advance, or on a read-only store that holds it.
type mode int

const (
	writable mode = iota
	planned
	readOnly
)

// harness opens the store of one test in the suite's mode.
type harness struct {
	t       *testing.T
	mode    mode
	open    func(t *testing.T, c Content) Prewritten
	corrupt func(v1.Descriptor) error // see Prewritten.Corrupt
}

// store opens the test's store, declaring what the test puts into it (or,
// read-only, what it must already hold). It returns the store and the
// function that turns a relative repository name into the store's.
func (h *harness) store(entries ...[]Entry) (oci.Store, func(string) string) {
	var c Content
	for _, es := range entries {
		c = append(c, es...)
	}
	pw := h.open(h.t, c)
	h.corrupt = pw.Corrupt
	return pw.Store, func(name string) string { return join(pw.Base, name) }
}

type testCase struct {
	name string
	fn   func(*testing.T, *harness)
}

func run(t *testing.T, m mode, tests []testCase, open func(*testing.T, Content) Prewritten) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &harness{t: t, mode: m, open: open})
		})
	}
}

// writeTests are what a writable store promises; a planned one keeps the
// same promises for the content it was planned for.
var writeTests = []testCase{
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

// Run runs the whole suite against empty stores made by f.
func Run(t *testing.T, f Factory) {
	run(t, writable, writeTests, func(t *testing.T, _ Content) Prewritten {
		s, base := f(t)
		return Prewritten{Store: s, Base: base}
	})
}

// RunPlanned runs the suite against stores made by f, each told in advance
// what its test puts into it. Beyond the promises of Run, such a store
// refuses what it was not planned for, with an error wrapping
// oci.ErrUnsupported: content (UnplannedContentRefused) and tags, so a tag
// cannot move (RetagMovesTag checks that instead). A planned tag may
// resolve as soon as its manifest is in, before Tag is called.
func RunPlanned(t *testing.T, f PlannedFactory) {
	tests := append(writeTests[:len(writeTests):len(writeTests)], testCase{"UnplannedContentRefused", testUnplanned})
	run(t, planned, tests, func(t *testing.T, c Content) Prewritten {
		s, base := f(t, c)
		return Prewritten{Store: s, Base: base}
	})
}

// RunReadOnly runs the read side of the suite against stores made by f,
// each holding what its test reads: missing content, blobs, manifests by
// digest and tag, indexes, tags, large blobs, concurrent and cancelled
// reads, and that what is read verifies against its descriptor. Push and
// Tag must fail with an *oci.Error wrapping oci.ErrUnsupported and change
// nothing.
func RunReadOnly(t *testing.T, f ReadOnlyFactory) {
	run(t, readOnly, readTests, f)
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

// Entries lists the image in repo: its blobs, then its manifest with tags.
func (img Image) Entries(repo string, tags ...string) []Entry {
	var out []Entry
	for i, d := range img.Blobs {
		out = append(out, BlobEntry(repo, img.content(i), d))
	}
	return append(out, Entry{Repo: repo, Descriptor: img.Desc, Data: img.Manifest, Manifest: true, Tags: tags})
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

func fetchAll(ctx context.Context, t testing.TB, s oci.Reader, repo string, d v1.Descriptor) []byte {
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

func checkDesc(t testing.TB, what string, got, want v1.Descriptor) {
	t.Helper()
	if got.Digest != want.Digest || got.Size != want.Size || got.MediaType != want.MediaType {
		t.Fatalf("%s = {%s %d %s}, want {%s %d %s}", what, got.MediaType, got.Size, got.Digest,
			want.MediaType, want.Size, want.Digest)
	}
}
