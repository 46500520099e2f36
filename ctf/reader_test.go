package ctf

import (
	"bytes"
	"io"
	"os"
	"slices"
	"testing"
)

func TestOpenReaderMatchesOpen(t *testing.T) {
	path := shared(t, "testdata", "ocm", "ctf.tar")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	got, err := OpenReader(bytes.NewReader(b), int64(len(b)), "in-memory.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Path() != "in-memory.tar" || got.Format() != FormatTar || got.Writable() {
		t.Errorf("path %q, format %s, writable %v", got.Path(), got.Format(), got.Writable())
	}
	if !slices.Equal(got.Entries(), want.Entries()) {
		t.Errorf("entries differ:\n%v\n%v", got.Entries(), want.Entries())
	}
	checkArchive(t, got)
	hs, err := got.Blobs()
	if err != nil || len(hs) == 0 {
		t.Fatalf("blobs: %v, %v", hs, err)
	}
	for _, h := range hs {
		off, size, ok := got.BlobOffset(h)
		if !ok {
			t.Fatalf("no offset for %s", h)
		}
		f, err := got.OpenBlob(h)
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(f)
		f.Close()
		if int64(len(content)) != size || !bytes.Equal(b[off:off+size], content) {
			t.Errorf("%s: offset %d size %d does not hold the blob", h, off, size)
		}
	}
	// A truncated tar is refused as Open refuses it.
	if _, err := OpenReader(bytes.NewReader(b[:len(b)/2]), int64(len(b)/2), "half.tar"); err == nil {
		t.Error("a tar cut in half opened")
	}
	// Directories have no offsets.
	dir, err := Open(shared(t, "testdata", "ocm", "ctf-dir"), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if _, _, ok := dir.BlobOffset(hs[0]); ok {
		t.Error("a directory CTF reported a tar offset")
	}
}
