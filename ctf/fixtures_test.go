package ctf

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Every CTF the real ocm CLI wrote opens in every form, every index entry
// resolves, and every manifest, config, layer and blob verifies.
func TestFixtures(t *testing.T) {
	paths := []string{
		shared(t, "testdata", "ocm", "ctf-dir"),
		shared(t, "testdata", "ocm", "ctf.tar"),
		shared(t, "testdata", "ocm", "ctf.tgz"),
		shared(t, "testdata", "ocm", "ctf-copied"),
		shared(t, "testdata", "ocm", "ctf-signed"),
		shared(t, "testdata", "ocm", "ctf-v3alpha1"),
		shared(t, "testdata", "ocm", "ctf-from-registry"),
	}
	fx := shared(t, "spec", "ocm", "fixtures", "ctf")
	for _, p := range []string{
		"ocm-0.18.0-multi-layer",
		"ocm-0.20.0-compat-01/transport-archive",
		"ocm-0.20.0-compat-01/transport-archive.tar",
		"ocm-0.20.0-compat-01/transport-archive.tar.gz",
		"ocm-0.20.0-compat-02/with-resource",
		"ocm-0.20.0-compat-02/without-resource",
	} {
		paths = append(paths, filepath.Join(fx, p))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			a, err := Open(p, ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			checkArchive(t, a)
		})
	}
}

// The three forms of the same CTF list the same entries and blobs.
func TestFixtureFormsAgree(t *testing.T) {
	var first *Archive
	for _, p := range []string{"ctf-dir", "ctf.tar", "ctf.tgz"} {
		a, err := Open(shared(t, "testdata", "ocm", p), ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		want := map[Format]Format{"ctf-dir": FormatDirectory, "ctf.tar": FormatTar, "ctf.tgz": FormatTGZ}[Format(p)]
		if a.Format() != want {
			t.Errorf("%s: format %s, want %s", p, a.Format(), want)
		}
		if first == nil {
			first = a
			continue
		}
		if got, want := MarshalIndex(a.Entries()), MarshalIndex(first.Entries()); !bytes.Equal(got, want) {
			t.Errorf("%s: index %s, want %s", p, got, want)
		}
		gb, _ := a.Blobs()
		wb, _ := first.Blobs()
		if len(gb) != len(wb) {
			t.Errorf("%s: %d blobs, want %d", p, len(gb), len(wb))
		}
	}
}

// MarshalIndex gives back the exact bytes ocm wrote for every fixture index.
func TestIndexBytesAsOCM(t *testing.T) {
	for _, p := range []string{"ctf-dir", "ctf-copied", "ctf-signed", "ctf-v3alpha1", "ctf-from-registry"} {
		b, err := os.ReadFile(shared(t, "testdata", "ocm", p, IndexFile))
		if err != nil {
			t.Fatal(err)
		}
		es, err := ParseIndex(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := MarshalIndex(es); !bytes.Equal(got, b) {
			t.Errorf("%s: MarshalIndex =\n%s\nwant\n%s", p, got, b)
		}
	}
}

// ocm's ctf.tar is reproduced byte for byte from ctf-dir, by WriteTar and
// by a tar written through the Store (push every blob, tag every entry).
func TestTarReproducesOCM(t *testing.T) {
	ctx := context.Background()
	want, err := os.ReadFile(shared(t, "testdata", "ocm", "ctf.tar"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := Open(shared(t, "testdata", "ocm", "ctf-dir"), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	if err := src.WriteTar(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteTar of ctf-dir: %d bytes differ from ocm's ctf.tar (%d bytes)", buf.Len(), len(want))
	}

	out := filepath.Join(t.TempDir(), "copy.tar")
	copyThroughStore(t, src, out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("tar written through the Store: %d bytes differ from ocm's ctf.tar", len(got))
	}
}

// The same content gives the same tar every time, whatever order it was
// pushed in.
func TestTarDeterministic(t *testing.T) {
	src, err := Open(shared(t, "testdata", "ocm", "ctf-signed"), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	var tars [][]byte
	for i := range 3 {
		out := filepath.Join(dir, "t"+string(rune('0'+i))+".tar")
		copyThroughStore(t, src, out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		tars = append(tars, b)
	}
	for i := 1; i < len(tars); i++ {
		if !bytes.Equal(tars[i], tars[0]) {
			t.Fatalf("tar %d differs from tar 0", i)
		}
	}
	r, err := Open(filepath.Join(dir, "t0.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := MarshalIndex(r.Entries()), MarshalIndex(src.Entries()); !bytes.Equal(got, want) {
		t.Fatalf("index %s, want %s", got, want)
	}
}

// copyThroughStore writes src as a new tar at out with Push and Tag only:
// every blob (in reverse order, so that order cannot matter), then the
// untagged manifests again as manifests, then the tags.
func copyThroughStore(t *testing.T, src *Archive, out string) {
	t.Helper()
	ctx := context.Background()
	dst, err := Create(out, FormatTar)
	if err != nil {
		t.Fatal(err)
	}
	push := func(repo string, h v1.Hash, mt types.MediaType) {
		b, err := src.OpenBlob(h)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := dst.Push(ctx, repo, v1.Descriptor{MediaType: mt, Digest: h, Size: b.Size()}, b); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := src.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(hs) - 1; i >= 0; i-- {
		push("any", hs[i], types.OCILayer)
	}
	for _, e := range src.Entries() {
		if e.Tag == "" {
			push(e.Repository, e.Digest, e.MediaType)
		}
	}
	for _, e := range src.Entries() {
		if e.Tag != "" {
			d := v1.Descriptor{MediaType: e.MediaType, Digest: e.Digest}
			if err := dst.Tag(ctx, oci.Ref{Repository: e.Repository, Tag: e.Tag}, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
