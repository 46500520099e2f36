package ctf

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// TestTarLayoutIsWhatArchiveTarWrites fills a layout's parts and compares
// them with what archive/tar writes for the same entries in the same order;
// blobs of every padding, an empty one and a sha512 one (whose name needs a
// PAX header) included.
func TestTarLayoutIsWhatArchiveTarWrites(t *testing.T) {
	content := map[v1.Hash][]byte{}
	var blobs []TarBlob
	for _, n := range []int{0, 1, 511, 512, 513, 5000} {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		h := oci.Digest(b)
		content[h] = b
		blobs = append(blobs, TarBlob{Digest: h, Size: int64(n)})
	}
	big := []byte("sha512 content")
	sum := sha512.Sum512(big)
	h512 := v1.Hash{Algorithm: "sha512", Hex: hex.EncodeToString(sum[:])}
	content[h512] = big
	blobs = append(blobs, TarBlob{Digest: h512, Size: int64(len(big))})
	index := []byte(`{"schemaVersion":1,"artifacts":[]}`)

	l, err := NewTarLayout(index, blobs)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	var order []v1.Hash
	for _, p := range l.Parts {
		if int64(got.Len()) != p.Offset {
			t.Fatalf("part at %d follows %d bytes", p.Offset, got.Len())
		}
		if p.Data != nil {
			got.Write(p.Data)
			continue
		}
		order = append(order, p.Blob)
		got.Write(content[p.Blob])
	}
	if int64(got.Len()) != l.Size {
		t.Fatalf("the parts have %d bytes, the layout says %d", got.Len(), l.Size)
	}

	var want bytes.Buffer
	tw := tar.NewWriter(&want)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: IndexFile, Size: int64(len(index)), Mode: 0o644, ModTime: ModTime}))
	_, err = tw.Write(index)
	must(err)
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: BlobsDir, Mode: 0o755, ModTime: ModTime}))
	for _, h := range order {
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: BlobPath(h), Size: int64(len(content[h])), Mode: 0o644, ModTime: ModTime}))
		_, err = tw.Write(content[h])
		must(err)
	}
	must(tw.Close())
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("the layout's %d bytes differ from archive/tar's %d", got.Len(), want.Len())
	}
	for i := 1; i < len(order); i++ {
		if BlobPath(order[i-1]) >= BlobPath(order[i]) {
			t.Fatalf("blobs out of order: %s before %s", order[i-1], order[i])
		}
	}

	a, err := OpenReader(bytes.NewReader(got.Bytes()), int64(got.Len()), "layout.tar", ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for h, b := range content {
		off, n, ok := a.BlobOffset(h)
		if !ok || n != int64(len(b)) || !bytes.Equal(got.Bytes()[off:off+n], b) {
			t.Errorf("blob %s: at %d, %d bytes, %v", h, off, n, ok)
		}
	}
}

func TestTarLayoutRefusesBadBlobs(t *testing.T) {
	h := oci.Digest([]byte("x"))
	for name, blobs := range map[string][]TarBlob{
		"twice":         {{Digest: h, Size: 1}, {Digest: h, Size: 1}},
		"negative size": {{Digest: h, Size: -1}},
		"bad digest":    {{Digest: v1.Hash{Algorithm: "sha256", Hex: "../x"}, Size: 1}},
	} {
		if _, err := NewTarLayout(nil, blobs); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A blob that changes size after the layout was made fails the write.
func TestWriteTarBlobChanged(t *testing.T) {
	src := changingSource{content: []byte("abc")}
	h := oci.Digest(src.content)
	err := writeCanonicalTar(t.Context(), io.Discard, []byte("{}"), []v1.Hash{h}, &src)
	if err == nil {
		t.Fatal("a blob that grew was written")
	}
	src.gone = true
	if err := writeCanonicalTar(t.Context(), io.Discard, []byte("{}"), []v1.Hash{h}, &src); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a blob that vanished: got %v, want fs.ErrNotExist", err)
	}
}

// changingSource says a blob has 2 bytes and then serves 3, or that it is
// gone.
type changingSource struct {
	content []byte
	gone    bool
}

func (s *changingSource) open(string) (*BlobFile, error) {
	return &BlobFile{SectionReader: io.NewSectionReader(bytes.NewReader(s.content), 0, int64(len(s.content)))}, nil
}

func (s *changingSource) size(string) (int64, bool, error) { return 2, !s.gone, nil }
func (s *changingSource) blobs() ([]v1.Hash, error)        { return nil, nil }
