package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ferry-oci/ferry/internal/testimage"
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
