package bundle

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/internal/testimage"
)

func sampleBundle(t testing.TB) ([]byte, *Metadata) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.tar")
	vols := write(t, path, testimage.Sample()[:2], CreateOptions{})
	b, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return readAll(t, vols), b.Metadata
}

// FuzzParseMetadata: any input is an error or metadata that encodes and
// parses back to the same.
func FuzzParseMetadata(f *testing.F) {
	_, md := sampleBundle(f)
	f.Add(md.marshal())
	f.Add([]byte(`{"mediaType":"application/vnd.ferry.bundle.metadata.v1+json","size":-1}`))
	f.Add([]byte(`{"mediaType":"application/vnd.ferry.bundle.metadata.v1+json","blobs":[{"digest":"sha256:00","size":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			return
		}
		m2, err := ParseMetadata(m.marshal())
		if err != nil {
			t.Fatalf("re-encoded metadata does not parse: %v", err)
		}
		if !bytes.Equal(m2.marshal(), m.marshal()) {
			t.Fatal("metadata changed on a round trip")
		}
	})
}

// FuzzOpenVolumes: a bundle cut at any points into volumes, with any bytes
// changed, opens or fails with an error; never a panic. Unchanged, it
// opens.
func FuzzOpenVolumes(f *testing.F) {
	whole, _ := sampleBundle(f)
	f.Add(uint16(4096), uint32(0), byte(0))
	f.Add(uint16(700), uint32(1200), byte(0x55))
	f.Add(uint16(0), uint32(3), byte(1))
	f.Fuzz(func(t *testing.T, cut uint16, at uint32, flip byte) {
		b := bytes.Clone(whole)
		if len(b) > 0 {
			b[int(at)%len(b)] ^= flip
		}
		size := int(cut)
		if size < 512 {
			size = len(b)
		}
		dir := t.TempDir()
		for i := 0; i*size < len(b); i++ {
			p := filepath.Join(dir, fmt.Sprintf("f.%03d", i))
			if err := os.WriteFile(p, b[i*size:min(len(b), (i+1)*size)], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		bd, err := Open(context.Background(), filepath.Join(dir, "f.000"))
		if err != nil {
			if flip == 0 {
				t.Fatalf("an intact bundle in volumes of %d bytes does not open: %v", size, err)
			}
			return
		}
		bd.Close()
	})
}
