package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
)

// checkSidecarFile compares FILE.sha256 with the sha256 of each volume, read
// back from disk.
func checkSidecarFile(t *testing.T, path string, vols []Volume) {
	t.Helper()
	lines, err := readSidecar(path + ".sha256")
	if err != nil || len(lines) != len(vols) {
		t.Fatalf("sidecar: %v lines, %v", len(lines), err)
	}
	for i, v := range vols {
		b, err := os.ReadFile(v.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); lines[i].Sum != got || lines[i].Name != filepath.Base(v.Path) {
			t.Errorf("sidecar line %d = %s %s, the volume hashes to %s", i, lines[i].Sum, lines[i].Name, got)
		}
	}
}

// TestSidecarHashedWhileWriting: the sidecar, hashed while the blobs arrive
// in an order other than the layout's, across volumes, lists what the
// files hold, also after a resume.
func TestSidecarHashedWhileWriting(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	set := testimage.Corpus(5, 1<<20)
	o := CreateOptions{VolumeSize: 150_000}
	c := contentsOf(t, set)

	path := filepath.Join(dir, "reversed.tar")
	w, err := Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, c); err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(set)
	slices.Reverse(rev)
	if _, err := rev.Push(ctx, w, ""); err != nil {
		t.Fatal(err)
	}
	vols, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(vols) < 3 {
		t.Fatalf("%d volumes, want several", len(vols))
	}
	checkSidecarFile(t, path, vols)

	// Interrupted half-way (Abort stops the hasher), then resumed.
	path = filepath.Join(dir, "resumed.tar")
	w, err = Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := set[len(set)/2:].Push(ctx, w, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	o.Resume = true
	w, err = Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, c); err != nil {
		t.Fatal(err)
	}
	if w.Resumed().Blobs == 0 {
		t.Fatal("nothing resumed")
	}
	if _, err := set.Push(ctx, w, ""); err != nil {
		t.Fatal(err)
	}
	vols, err = w.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkSidecarFile(t, path, vols)
}

// TestKnownContentWrittenAtBegin: manifests whose bytes the plan carries
// (Entry.Data) are in place once Begin returns, so the sidecar hasher gets to
// the end of the bundle as soon as the last blob arrives, before a manifest
// is pushed; they still count as missing until pushed, and the bundle's
// bytes are those of one written without them. Data that is not what the
// layout holds is not written, and a push of wrong bytes for content in
// place does not overwrite it.
func TestKnownContentWrittenAtBegin(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	set := testimage.Corpus(5, 1<<20)
	want := readAll(t, write(t, filepath.Join(dir, "plain.tar"), set, CreateOptions{}))

	c := contentsOf(t, set)
	raw := map[v1.Hash][]byte{}
	for _, n := range set {
		for _, a := range append([]testimage.Artifact{n.Artifact}, imagesOf(n.Artifact)...) {
			b, err := a.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			raw[oci.Digest(b)] = b
		}
	}
	var bad v1.Hash // one manifest gets bytes of its size that are not its own
	for i := range c.Entries {
		e := &c.Entries[i]
		if !e.Manifest {
			continue
		}
		e.Data = raw[e.Descriptor.Digest]
		if bad == (v1.Hash{}) {
			bad = e.Descriptor.Digest
			e.Data = bytes.Repeat([]byte{'x'}, len(e.Data))
		}
	}

	path := filepath.Join(dir, "known.tar")
	w, err := Create(path, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A push of other bytes for content in place fails and leaves it as it is.
	for _, e := range c.Entries {
		if !e.Manifest || e.Descriptor.Digest == bad {
			continue
		}
		wrong := bytes.Repeat([]byte{'y'}, len(e.Data))
		if err := w.Push(ctx, "", e.Descriptor, bytes.NewReader(wrong)); !errors.Is(err, oci.ErrDigestMismatch) {
			t.Fatalf("push of wrong bytes over a manifest in place: %v, want a digest mismatch", err)
		}
		got := make([]byte, len(e.Data))
		if _, err := w.vols.ReadAt(got, w.lay.slots[e.Descriptor.Digest].off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, e.Data) {
			t.Fatal("a failed push overwrote a manifest written at Begin")
		}
		break
	}
	blobs := &blobsOnly{Writer: w}
	if _, err := set.Push(ctx, blobs, ""); err != nil {
		t.Fatal(err)
	}
	for _, d := range blobs.manifests {
		if ok, err := w.Exists(ctx, "", d); ok || err != nil {
			t.Fatalf("manifest %s exists (%v, %v) before it was pushed", d.Digest, ok, err)
		}
	}
	select {
	case <-w.side.finish:
		t.Fatal("the sidecar hasher finished although a manifest with wrong Data was left to push")
	case <-time.After(50 * time.Millisecond):
	}
	bd := slices.IndexFunc(blobs.manifests, func(d v1.Descriptor) bool { return d.Digest == bad })
	if bd < 0 {
		t.Fatal("the bad manifest was not among those pushed")
	}
	if err := w.Push(ctx, "", blobs.manifests[bd], bytes.NewReader(raw[bad])); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.side.finish:
	case <-time.After(10 * time.Second):
		t.Fatal("the sidecar hasher still waits with every blob written and the manifests in place")
	}
	vols := pushAndClose(t, w, set)
	if !bytes.Equal(readAll(t, vols), want) {
		t.Error("the bundle differs from one written without known content")
	}
	checkSidecarFile(t, path, vols)
}

func imagesOf(a testimage.Artifact) []testimage.Artifact {
	if _, ok := a.(testimage.Index); !ok {
		return nil
	}
	var out []testimage.Artifact
	for _, im := range a.Images() {
		out = append(out, im)
	}
	return out
}

// blobsOnly passes blobs to the Writer and keeps manifests back.
type blobsOnly struct {
	*Writer
	manifests []v1.Descriptor
}

func (b *blobsOnly) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	if oci.IsManifest(d.MediaType) {
		b.manifests = append(b.manifests, d)
		return nil
	}
	return b.Writer.Push(ctx, repo, d, r)
}

func (b *blobsOnly) Tag(context.Context, oci.Ref, v1.Descriptor) error { return nil }

// TestSidecarFollowsAFailedPush: the hasher hashes a blob as it is written,
// so it has hashed part of a push that then fails its digest check; it goes
// back to the blob's start, across volumes, and the sidecar lists what the
// files hold once the blob is pushed again.
func TestSidecarFollowsAFailedPush(t *testing.T) {
	ctx := t.Context()
	set := testimage.Corpus(3, 16<<20)
	path := filepath.Join(t.TempDir(), "retried.tar")
	w, err := Create(path, CreateOptions{VolumeSize: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(ctx, contentsOf(t, set)); err != nil {
		t.Fatal(err)
	}
	var s *slot // the first blob of more than two copy steps; those before it are pushed
	for _, c := range w.side.slots {
		if c.desc.Size > 2*bufSize {
			s = c
			break
		}
	}
	if s == nil {
		t.Fatal("no blob of more than two copy steps")
	}
	if first, _ := w.vols.locate(s.off); first == len(w.vols.files)-1 {
		t.Fatal("the blob does not span volumes")
	}
	if _, err := set.Push(ctx, &slotsBefore{Writer: w, off: s.off}, ""); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Repeat([]byte{0xa5}, int(s.desc.Size))
	hashed := func() bool {
		w.side.mu.Lock()
		defer w.side.mu.Unlock()
		return w.side.hashedTo > s.off
	}
	// The first step of wrong bytes is written; the rest comes once the
	// hasher has hashed some of it.
	r := io.MultiReader(bytes.NewReader(bad[:bufSize]), readerFunc(func(p []byte) (int, error) {
		for deadline := time.Now().Add(10 * time.Second); !hashed(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Error("the hasher did not hash the blob's first bytes while the push went on")
				break
			}
		}
		return 0, io.EOF
	}), bytes.NewReader(bad[bufSize:]))
	if err := w.Push(ctx, "", s.desc, r); !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("push of wrong bytes: %v, want a digest mismatch", err)
	}
	vols := pushAndClose(t, w, set)
	checkSidecarFile(t, path, vols)
}

// slotsBefore pushes only what the layout puts before off.
type slotsBefore struct {
	*Writer
	off int64
}

func (b *slotsBefore) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	if b.lay.slots[d.Digest].off >= b.off {
		return nil
	}
	return b.Writer.Push(ctx, repo, d, r)
}

func (b *slotsBefore) Tag(context.Context, oci.Ref, v1.Descriptor) error { return nil }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestPushesWaitForTheHasher: a push that runs more than lagLimit ahead of a
// hasher with bytes to hash waits for it; a hasher that itself waits for a
// push holds nothing back, so blobs pushed one at a time in reverse order
// finish.
func TestPushesWaitForTheHasher(t *testing.T) {
	h := &sidecarHasher{}
	h.moved.L = &h.mu
	returned := make(chan struct{})
	go func() {
		h.await(lagLimit + 100)
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("a push more than lagLimit ahead of a busy hasher did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	h.set(func() { h.hashedTo = 100 })
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the push still waits with the hasher within lagLimit")
	}
	h.set(func() { h.idle = true })
	h.await(10 * lagLimit) // returns: the hasher waits for a push

	defer func(l int64) { lagLimit = l }(lagLimit)
	lagLimit = 4 << 10
	set := testimage.Corpus(4, 1<<20)
	path := filepath.Join(t.TempDir(), "reversed.tar")
	w, err := Create(path, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(t.Context(), contentsOf(t, set)); err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(set)
	slices.Reverse(rev)
	done := make(chan error, 1)
	go func() {
		_, err := rev.Push(t.Context(), w, "")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pushes in reverse order wait for a hasher that waits for them")
	}
	vols, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkSidecarFile(t, path, vols)
}
