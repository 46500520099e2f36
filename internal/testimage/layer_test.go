package testimage

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layerSizes cross the edges of tar blocks and of stored deflate blocks.
// The last makes a tar of exactly 512 stored blocks, so the final block is
// empty.
var layerSizes = []int64{0, 1, 511, 512, 513, 65535, 65536, 200 << 10, 65535*512 - 3*512}

// TestLayerIsGzipTar reads each layer with the standard library's gunzip and
// tar reader (not with anything of this package) and checks the blob's
// digest and size, the tar's diff_id, and the one file in it.
func TestLayerIsGzipTar(t *testing.T) {
	for _, size := range layerSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			l := Layer{Seed: 42, Size: size}
			d, err := l.Descriptor()
			if err != nil {
				t.Fatal(err)
			}
			diffID, err := l.DiffID()
			if err != nil {
				t.Fatal(err)
			}
			if d.MediaType != types.OCILayer {
				t.Errorf("media type %s", d.MediaType)
			}

			rc := l.Open()
			defer rc.Close()
			blobHash := sha256.New()
			counted := &countingReader{r: io.TeeReader(rc, blobHash)}
			zr, err := gzip.NewReader(counted)
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if zr.Name != "" || !zr.ModTime.IsZero() || zr.OS != 255 {
				t.Errorf("gzip header: name %q, mtime %v, os %d", zr.Name, zr.ModTime, zr.OS)
			}
			tarHash := sha256.New()
			tr := tar.NewReader(io.TeeReader(zr, tarHash))
			hdr, err := tr.Next()
			if err != nil {
				t.Fatalf("tar: %v", err)
			}
			want := fmt.Sprintf("data/%016x-%d.bin", l.Seed, size)
			if hdr.Name != want || hdr.Typeflag != tar.TypeReg || hdr.Size != size || hdr.Mode != 0o644 ||
				hdr.Uid != 0 || hdr.Gid != 0 || !hdr.ModTime.Equal(ModTime) || hdr.Format != tar.FormatUSTAR {
				t.Errorf("tar header %+v", hdr)
			}
			n, err := io.Copy(io.Discard, tr)
			if err != nil || n != size {
				t.Fatalf("file: %d bytes, %v; want %d", n, err, size)
			}
			if _, err := tr.Next(); err != io.EOF {
				t.Fatalf("after the file: %v, want io.EOF", err)
			}
			// Drain what follows the tar trailer, then let gzip check its CRC.
			if _, err := io.Copy(tarHash, zr); err != nil {
				t.Fatalf("gzip trailer: %v", err)
			}
			if err := zr.Close(); err != nil {
				t.Fatal(err)
			}
			if rest, _ := io.Copy(io.Discard, counted); rest != 0 {
				t.Errorf("%d bytes after the gzip stream", rest)
			}

			if got := sum(tarHash); got != diffID {
				t.Errorf("diff_id %s, tar hashes to %s", diffID, got)
			}
			if got := sum(blobHash); got != d.Digest {
				t.Errorf("digest %s, blob hashes to %s", d.Digest, got)
			}
			if counted.n != d.Size || d.Size != l.CompressedSize() {
				t.Errorf("blob is %d bytes, descriptor says %d, CompressedSize %d", counted.n, d.Size, l.CompressedSize())
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestLayerDeterministic regenerates layers without the memo, with reads
// of other sizes, and checks that the bytes hash the same.
func TestLayerDeterministic(t *testing.T) {
	for _, l := range []Layer{{Seed: 1, Size: 3000}, {Seed: 1 << 63, Size: 300 << 10}} {
		d, err := l.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := l.hash()
		if err != nil {
			t.Fatal(err)
		}
		if fresh.digest != d.Digest {
			t.Errorf("layer %v: second generation hashes to %s, first to %s", l, fresh.digest, d.Digest)
		}
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"one byte": iotest.OneByteReader,
			"half":     iotest.HalfReader,
		} {
			rc := l.Open()
			h := sha256.New()
			if _, err := io.CopyBuffer(h, wrap(rc), make([]byte, 7919)); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			if got := sum(h); got != d.Digest {
				t.Errorf("layer %v read %s at a time hashes to %s, want %s", l, name, got, d.Digest)
			}
		}
	}
}

// TestLayersDiffer checks that seed and size both change the content.
func TestLayersDiffer(t *testing.T) {
	seen := map[v1.Hash]Layer{}
	for _, l := range []Layer{{1, 1000}, {2, 1000}, {1, 1001}, {2, 1001}, {0, 0}, {1, 0}} {
		d, err := l.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[d.Digest]; ok {
			t.Errorf("layers %v and %v have the same digest %s", l, other, d.Digest)
		}
		seen[d.Digest] = l
	}
}

// TestLayerIncompressible checks that the content does not shrink under
// gzip, so bench numbers measure bytes moved rather than a compressor.
func TestLayerIncompressible(t *testing.T) {
	l := Layer{Seed: 7, Size: 1 << 20}
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	rc := l.Open()
	defer rc.Close()
	if _, err := io.Copy(zw, rc); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if ratio := float64(buf.Len()) / float64(l.CompressedSize()); ratio < 0.99 {
		t.Errorf("layer compresses to %.3f of its size", ratio)
	}
}

func TestLayerSizeOutOfRange(t *testing.T) {
	for _, l := range []Layer{{Seed: 1, Size: -1}, {Seed: 1, Size: MaxLayerSize + 1}} {
		if _, err := l.Descriptor(); !errors.Is(err, errLayerSize) {
			t.Errorf("Descriptor of %v: %v, want errLayerSize", l, err)
		}
		if _, err := io.ReadAll(l.Open()); !errors.Is(err, errLayerSize) {
			t.Errorf("reading %v: %v, want errLayerSize", l, err)
		}
		im := Image{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Layers: []Layer{l}}
		if _, err := im.Manifest(); !errors.Is(err, errLayerSize) {
			t.Errorf("manifest of an image with %v: %v, want errLayerSize", l, err)
		}
	}
}

// BenchmarkLayerStream measures generation: ChaCha8, tar and stored gzip
// framing, as Open streams a layer for a push.
func BenchmarkLayerStream(b *testing.B) {
	l := Layer{Seed: 1, Size: 64 << 20}
	buf := make([]byte, 256<<10)
	b.SetBytes(l.CompressedSize())
	for b.Loop() {
		rc := l.Open()
		if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// BenchmarkLayerDescribe measures a first Descriptor: generation plus the
// two sha256 sums (blob and diff_id).
func BenchmarkLayerDescribe(b *testing.B) {
	l := Layer{Seed: 1, Size: 64 << 20}
	b.SetBytes(l.CompressedSize())
	for b.Loop() {
		if _, err := l.hash(); err != nil {
			b.Fatal(err)
		}
	}
}
