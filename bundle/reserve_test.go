//go:build linux

package bundle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
)

// TestBeginReservesTheBundle: Begin allocates the bundle's blocks before a
// blob arrives.
func TestBeginReservesTheBundle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.tar")
	w, err := Create(path, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Discard()
	if err := w.Begin(context.Background(), contentsOf(t, testimage.Corpus(5, 4<<20))); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + ".partial")
	if err != nil {
		t.Fatal(err)
	}
	if allocated := fi.Sys().(*syscall.Stat_t).Blocks * 512; allocated < fi.Size() {
		t.Skipf("%d of %d bytes allocated: the file system of %s has no fallocate", allocated, fi.Size(), path)
	}
}

// TestNoSpaceFailsBeforeAByte: a bundle larger than the free space of its
// disk fails at Begin, before anything is fetched, says what it needs and
// leaves no partial file behind.
func TestNoSpaceFailsBeforeAByte(t *testing.T) {
	dir := t.TempDir()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	path := filepath.Join(dir, "b.tar")
	w, err := Create(path, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	huge := v1.Descriptor{MediaType: "application/octet-stream", Digest: oci.Digest([]byte("huge")), Size: free + 1<<30}
	err = w.Begin(context.Background(), Contents{Tool: "ferry test", Entries: []Entry{{Repo: "big", Descriptor: huge}}})
	if err == nil {
		t.Skipf("a %d-byte bundle was laid out on a disk with %d bytes free: the file system of %s has no fallocate", huge.Size, free, dir)
	}
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "GiB free") {
		t.Fatalf("Begin on a full disk: %v", err)
	}
	t.Log(err)
	if m, _ := filepath.Glob(path + ".partial*"); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
}
