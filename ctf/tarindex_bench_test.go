package ctf_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/testimage"
)

// benchTarCTF writes a tar CTF of images single-layer images (each with its
// own config and manifest, so 3 blobs and one index entry per image) and
// returns its bytes.
func benchTarCTF(b *testing.B, images int) []byte {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.tar")
	a, err := ctf.Create(path, ctf.FormatTar)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range images {
		im := testimage.Image{
			Platform: v1.Platform{OS: "linux", Architecture: "amd64"},
			Layers:   []testimage.Layer{{Seed: uint64(i), Size: 512}},
		}
		if _, err := testimage.Push(ctx, a, fmt.Sprintf("bench/app-%04d", i), "1.0", im); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkOpenTarIndex measures building the index of a tar CTF (reading
// every member header, checking names, parsing artifact-index.json): what
// `ferry bundle import` and `bundle verify` pay before the first blob. The
// archive holds 1,000 images, 3,001 members.
func BenchmarkOpenTarIndex(b *testing.B) {
	data := benchTarCTF(b, 1000)
	r := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := ctf.OpenReader(r, int64(len(data)), "bench.tar")
		if err != nil {
			b.Fatal(err)
		}
		if n := len(a.Entries()); n != 1000 {
			b.Fatalf("%d index entries, want 1000", n)
		}
		a.Close()
	}
}
