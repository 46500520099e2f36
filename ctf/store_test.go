package ctf

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/storetest"
)

func copyAll(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }

func TestStoreDirectory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (oci.Store, string) {
		a, err := Create(filepath.Join(t.TempDir(), "ctf"), FormatDirectory)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := a.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			reopenAndCheck(t, a.Path(), a)
		})
		return a, ""
	})
}

// TestStoreTar runs the suite against a tar being written: the suite reads
// back from the staging directory while it writes, and after Close the tar
// is opened for reading and must hold exactly what the suite left.
func TestStoreTar(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (oci.Store, string) {
		a, err := Create(filepath.Join(t.TempDir(), "ctf.tar"), FormatTar)
		if err != nil {
			t.Fatal(err)
		}
		var want []Entry
		t.Cleanup(func() {
			want = a.Entries()
			blobs, _ := a.Blobs()
			if err := a.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			r := reopenAndCheck(t, a.Path(), nil)
			if !slices.Equal(r.Entries(), want) {
				t.Errorf("tar index = %v, want %v", r.Entries(), want)
			}
			if got, _ := r.Blobs(); !slices.Equal(got, blobs) {
				t.Errorf("tar has %d blobs, staged %d", len(got), len(blobs))
			}
		})
		return a, ""
	})
}

// TestStoreReadOnly runs the read side of the suite against archives
// written by Create and opened again for reading: a tar (read in place), a
// directory opened with ReadOnly, and the tar gzip-compressed (extracted on
// Open, so its bytes cannot be damaged under the reader).
func TestStoreReadOnly(t *testing.T) {
	for _, f := range []Format{FormatTar, FormatDirectory, FormatTGZ} {
		t.Run(string(f), func(t *testing.T) {
			storetest.RunReadOnly(t, func(t *testing.T, c storetest.Content) storetest.Prewritten {
				path := filepath.Join(t.TempDir(), "ctf")
				made := f
				if f == FormatTGZ {
					made = FormatTar
				}
				w, err := Create(path, made)
				if err != nil {
					t.Fatal(err)
				}
				c.Write(t.Context(), t, w, "")
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if f == FormatTGZ {
					path = gzipFile(t, path)
				}
				a, err := Open(path, ReadOnly())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { a.Close() })
				pw := storetest.Prewritten{Store: a}
				if f != FormatTGZ {
					pw.Corrupt = func(d v1.Descriptor) error {
						file, off := path, int64(0)
						if f == FormatDirectory {
							file = filepath.Join(path, blobPath(d.Digest))
						} else if off, _, _ = a.BlobOffset(d.Digest); off == 0 {
							return fmt.Errorf("no blob %s", d.Digest)
						}
						return flipByte(file, off)
					}
				}
				return pw
			})
		})
	}
}

// gzipFile writes path gzip-compressed to path.tgz and returns its name.
func gzipFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tgz", z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path + ".tgz"
}

// flipByte inverts the byte at offset off of file.
func flipByte(file string, off int64) error {
	fh, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer fh.Close()
	var b [1]byte
	if _, err := fh.ReadAt(b[:], off); err != nil {
		return err
	}
	b[0] ^= 0xff
	_, err = fh.WriteAt(b[:], off)
	return err
}

// reopenAndCheck opens path read-only, checks every entry and blob, and
// (when a is not nil) that it holds a's index.
func reopenAndCheck(t *testing.T, path string, a *Archive) *Archive {
	t.Helper()
	r, err := Open(path, ReadOnly())
	if err != nil {
		t.Fatalf("reopen %s: %v", path, err)
	}
	t.Cleanup(func() { r.Close() })
	if len(r.Entries()) > 0 {
		checkArchive(t, r)
	} else if err := r.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a != nil && !slices.Equal(r.Entries(), a.Entries()) {
		t.Errorf("reopened index = %v, want %v", r.Entries(), a.Entries())
	}
	return r
}

func TestReadOnlyArchivesRefuseWrites(t *testing.T) {
	ctx := context.Background()
	b, d := storetest.Blob(10, types.OCILayer)
	for _, p := range []string{"ctf.tar", "ctf.tgz", "ctf-dir"} {
		var opts []Option
		if p == "ctf-dir" {
			opts = append(opts, ReadOnly())
		}
		a, err := Open(shared(t, "testdata", "ocm", p), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Push(ctx, "x", d, bytes.NewReader(b)); !errors.Is(err, oci.ErrUnsupported) {
			t.Errorf("%s: Push = %v, want ErrUnsupported", p, err)
		}
		e := a.Entries()[0]
		ref := oci.Ref{Repository: e.Repository, Tag: "other"}
		if err := a.Tag(ctx, ref, v1Desc(e)); !errors.Is(err, oci.ErrUnsupported) {
			t.Errorf("%s: Tag = %v, want ErrUnsupported", p, err)
		}
		a.Close()
	}
}

func v1Desc(e Entry) (d v1.Descriptor) {
	d.Digest, d.MediaType = e.Digest, e.MediaType
	return d
}

// The index keeps OCM's form: tagged entries, untagged ones only for
// manifests no tag points at, sorted; a moved tag leaves the old manifest
// untagged (as in the fixture ctf-signed).
func TestIndexAsOCMWritesIt(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ctf")
	a, err := Create(dir, FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	one, two := storetest.NewImage(1, 10), storetest.NewImage(1, 10)
	one.Push(ctx, t, a, "component-descriptors/example.com/app")
	two.Push(ctx, t, a, "component-descriptors/example.com/app")
	ref := oci.Ref{Repository: "component-descriptors/example.com/app", Tag: "1.0.0"}
	if err := a.Tag(ctx, ref, one.Desc); err != nil {
		t.Fatal(err)
	}
	if err := a.Tag(ctx, ref, two.Desc); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemaVersion":1,"artifacts":[` +
		`{"repository":"component-descriptors/example.com/app","tag":"1.0.0","digest":"` + two.Desc.Digest.String() + `","mediaType":"application/vnd.oci.image.manifest.v1+json"},` +
		`{"repository":"component-descriptors/example.com/app","digest":"` + one.Desc.Digest.String() + `","mediaType":"application/vnd.oci.image.manifest.v1+json"}]}`
	if string(got) != want {
		t.Fatalf("artifact-index.json =\n%s\nwant\n%s", got, want)
	}
}
