package bundle_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// contents is the plan of a bundle holding c.
func contents(c storetest.Content) bundle.Contents {
	out := bundle.Contents{Tool: "ferry storetest"}
	for _, e := range c {
		out.Entries = append(out.Entries, bundle.Entry{Repo: e.Repo, Descriptor: e.Descriptor, Manifest: e.Manifest, Tags: e.Tags})
	}
	return out
}

// newWriter creates a bundle writer at path laid out for c.
func newWriter(t *testing.T, path string, c storetest.Content, o bundle.CreateOptions) *bundle.Writer {
	t.Helper()
	w, err := bundle.Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(t.Context(), contents(c)); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return w
}

// TestStoreWriter runs the suite against a bundle being written, laid out
// for what each test pushes. When a test leaves the bundle complete, it is
// finished, verified and opened: it must hold every manifest and tag that
// was planned.
func TestStoreWriter(t *testing.T) {
	for _, vol := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("volume=%d", vol), func(t *testing.T) {
			storetest.RunPlanned(t, func(t *testing.T, c storetest.Content) (oci.Store, string) {
				path := filepath.Join(t.TempDir(), "suite.tar")
				w := newWriter(t, path, c, bundle.CreateOptions{VolumeSize: vol})
				t.Cleanup(func() { finish(t, w, path, c) })
				return w, ""
			})
		})
	}
}

// finish closes w when the test left it complete and checks the bundle, or
// discards it and checks that nothing is left.
func finish(t *testing.T, w *bundle.Writer, path string, c storetest.Content) {
	ctx := context.Background()
	if len(w.Missing()) > 0 {
		if err := w.Discard(); err != nil {
			t.Errorf("discard: %v", err)
		}
		if m, _ := filepath.Glob(path + "*"); len(m) > 0 {
			t.Errorf("discard left %v", m)
		}
		return
	}
	if _, err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if rep, err := bundle.Verify(ctx, path, bundle.VerifyOptions{}); err != nil {
		t.Fatalf("verify: %v (%+v)", err, rep.Problems)
	}
	b, err := bundle.Open(ctx, path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer b.Close()
	s := b.ImportStore(nil, "")
	for _, e := range c {
		if ok, err := s.Exists(ctx, e.Repo, e.Descriptor); err != nil || !ok {
			t.Errorf("the finished bundle lacks %s@%s: %v", e.Repo, e.Descriptor.Digest, err)
		}
		refs := []string{e.Repo + "@" + e.Descriptor.Digest.String()}
		for _, tag := range e.Tags {
			refs = append(refs, e.Repo+":"+tag)
		}
		for _, r := range refs {
			if !e.Manifest {
				break
			}
			ref, err := oci.ParseRef(r)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := s.Resolve(ctx, ref); err != nil || d.Digest != e.Descriptor.Digest {
				t.Errorf("the finished bundle resolves %s to %s, %v", r, d.Digest, err)
			}
		}
	}
}

// TestStoreReader runs the read side of the suite against bundles, single
// files and volumes, written by the bundle writer and opened by bundle.Open
// as the source of an import.
func TestStoreReader(t *testing.T) {
	for _, vol := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("volume=%d", vol), func(t *testing.T) {
			storetest.RunReadOnly(t, func(t *testing.T, c storetest.Content) storetest.Prewritten {
				path := filepath.Join(t.TempDir(), "suite.tar")
				w := newWriter(t, path, c, bundle.CreateOptions{VolumeSize: vol})
				c.Write(t.Context(), t, w, "")
				vols, err := w.Close()
				if err != nil {
					t.Fatalf("close: %v", err)
				}
				b, err := bundle.Open(t.Context(), path)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				t.Cleanup(func() { b.Close() })
				return storetest.Prewritten{Store: b.ImportStore(nil, ""), Corrupt: func(d v1.Descriptor) error {
					off, _, ok := b.Archive.BlobOffset(d.Digest)
					if !ok {
						return fmt.Errorf("no blob %s", d.Digest)
					}
					return flipByte(vols, off)
				}}
			})
		})
	}
}

// flipByte inverts the byte at offset off of the bundle made of vols.
func flipByte(vols []bundle.Volume, off int64) error {
	for _, v := range vols {
		if off >= v.Size {
			off -= v.Size
			continue
		}
		f, err := os.OpenFile(v.Path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		var b [1]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			return err
		}
		b[0] ^= 0xff
		_, err = f.WriteAt(b[:], off)
		return err
	}
	return fmt.Errorf("offset beyond the bundle")
}
