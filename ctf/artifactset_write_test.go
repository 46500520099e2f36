package ctf

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// openSetFile opens the artifact set in file path.
func openSetFile(t *testing.T, path string) *ArtifactSet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenArtifactSet(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Regenerating the artifact sets `ocm transfer --copy-resources` wrote
// from the images inside them gives the very same bytes: a Docker v2
// manifest (6.3.5), an OCI index of two platforms (6.3.6), both by OCM
// 0.50, and an OCI manifest by OCM 0.20.
func TestWriteArtifactSetReproducesOCM(t *testing.T) {
	tests := []struct{ dir, blob string }{
		{shared(t, "testdata", "ocm", "ctf-copied"), "sha256.c42524bee43aeb899bd9ca4626e99e2d32df034a3386716d8535e2f997038474"},
		{shared(t, "testdata", "ocm", "ctf-copied"), "sha256.745988e9393e1adf310866465b3b3a61c5e6a504d4df409ba612208cc9f60383"},
		{shared(t, "spec", "ocm", "fixtures", "ctf", "ocm-0.20.0-compat-02", "with-resource"), "sha256.e40e3a2f1ab1a98328dfd14539a79d27aff5c4d5c34cd16a85f0288bfa76490b"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.blob[7:15], func(t *testing.T) {
			path := filepath.Join(tc.dir, "blobs", tc.blob)
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("sha256.%x", sha256.Sum256(want)); got != tc.blob {
				t.Fatalf("fixture %s hashes to %s", tc.blob, got)
			}
			s := openSetFile(t, path)
			var out bytes.Buffer
			d, err := WriteArtifactSet(ctx, &out, s, "stefanprodan/podinfo", s.Main(), s.Tags())
			if err != nil {
				t.Fatal(err)
			}
			if "sha256."+d.Digest.Hex != tc.blob || d.Size != int64(len(want)) {
				t.Errorf("descriptor %+v, want digest %s size %d", d, tc.blob, len(want))
			}
			if string(d.MediaType) != ArtifactSetMediaType(string(s.Main().MediaType)) {
				t.Errorf("media type %s for a %s", d.MediaType, s.Main().MediaType)
			}
			if !bytes.Equal(out.Bytes(), want) {
				// Say where: the tar (content and headers) or only the gzip stream.
				gotTar, wantTar := untgzBytes(t, out.Bytes()), untgzBytes(t, want)
				t.Fatalf("set differs from OCM's (tar identical: %v; %d vs %d bytes)", bytes.Equal(gotTar, wantTar), out.Len(), len(want))
			}
		})
	}
}

func untgzBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A set written from a store reads back through OpenArtifactSet with the
// same main artifact, tags and blobs, and writing it twice gives the same
// bytes.
func TestWriteArtifactSetRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, err := Open(shared(t, "testdata", "ocm", "ctf-copied"), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	src := openSetFile(t, filepath.Join(shared(t, "testdata", "ocm", "ctf-copied"), "blobs", "sha256.745988e9393e1adf310866465b3b3a61c5e6a504d4df409ba612208cc9f60383"))
	main := src.Main()
	var first []byte
	for i, tags := range [][]string{{"1.0", "latest"}, {"1.0", "latest"}} {
		var out bytes.Buffer
		d, err := WriteArtifactSet(ctx, &out, src, "x", main, tags)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = out.Bytes()
			s, err := OpenArtifactSet(bytes.NewReader(first), int64(len(first)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !sameDesc(s.Main(), main) {
				t.Fatalf("Main = %+v, want %+v", s.Main(), main)
			}
			if got := s.Tags(); strings.Join(got, ",") != "1.0,latest" {
				t.Fatalf("Tags = %v", got)
			}
			if got := s.Index().Manifests[len(s.Index().Manifests)-1].Annotations[AnnotationRefName]; got != "1.0" {
				t.Errorf("ref name %q, want the first tag", got)
			}
			walk(t, s, "any", main)
			if d.Digest != oci.Digest(first) {
				t.Errorf("descriptor digest %s, bytes %s", d.Digest, oci.Digest(first))
			}
			continue
		}
		if !bytes.Equal(out.Bytes(), first) {
			t.Fatal("second write differs from the first")
		}
	}
	// Without tags the main entry carries no annotations; the index still names main.
	var out bytes.Buffer
	if _, err := WriteArtifactSet(ctx, &out, src, "x", main, nil); err != nil {
		t.Fatal(err)
	}
	s, err := OpenArtifactSet(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !sameDesc(s.Main(), main) || len(s.Tags()) != 0 || s.Index().Annotations[AnnotationMain] != main.Digest.String() {
		t.Fatalf("untagged set: main %+v tags %v index %+v", s.Main(), s.Tags(), s.Index())
	}
}

// Sets bigger than pgzip's block (several deflate blocks, each primed with
// the tail of the one before, and an input that ends on a block boundary)
// read back byte for byte.
func TestPgzipWriterBlocks(t *testing.T) {
	for _, n := range []int{0, 1, pgzipTailSize, pgzipBlockSize, pgzipBlockSize + 1, 3*pgzipBlockSize + 12345} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			in := make([]byte, n)
			for i := range in {
				in[i] = byte(i*7/3 + i>>12) // compressible, not trivially
			}
			var out bytes.Buffer
			z := newPgzipWriter(&out)
			// Odd write sizes: block boundaries must not depend on them.
			for p := in; len(p) > 0; {
				k := min(len(p), 70001)
				if _, err := z.Write(p[:k]); err != nil {
					t.Fatal(err)
				}
				p = p[k:]
			}
			if err := z.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := z.Write([]byte("x")); err == nil {
				t.Error("write after close succeeded")
			}
			got := untgzBytes(t, out.Bytes())
			if !bytes.Equal(got, in) {
				t.Fatalf("round trip gave %d bytes, want %d", len(got), n)
			}
			var once bytes.Buffer
			z = newPgzipWriter(&once)
			z.Write(in)
			z.Close()
			if !bytes.Equal(once.Bytes(), out.Bytes()) {
				t.Fatal("output depends on write sizes")
			}
		})
	}
}

// What the source serves is verified: a blob that differs from its
// descriptor fails the write.
func TestWriteArtifactSetVerifies(t *testing.T) {
	ctx := context.Background()
	src := openSetFile(t, filepath.Join(shared(t, "testdata", "ocm", "ctf-copied"), "blobs", "sha256.c42524bee43aeb899bd9ca4626e99e2d32df034a3386716d8535e2f997038474"))
	main := src.Main()
	layer, _ := v1.NewHash("sha256:46655ae7217bbf84abf11f8bc3b2bb08ed1fe0702b3aad34f3bc1a1d6b7df2c8")
	bad := &corrupting{Reader: src, digest: layer}
	_, err := WriteArtifactSet(ctx, io.Discard, bad, "x", main, []string{"6.3.5"})
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("corrupted layer: %v, want ErrDigestMismatch", err)
	}
	bad = &corrupting{Reader: src, digest: main.Digest}
	_, err = WriteArtifactSet(ctx, io.Discard, bad, "x", main, []string{"6.3.5"})
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("corrupted manifest: %v, want ErrDigestMismatch", err)
	}
	if _, err := WriteArtifactSet(ctx, io.Discard, src, "x", main, []string{"bad tag!"}); err == nil {
		t.Fatal("invalid tag accepted")
	}
	cfg := v1.Descriptor{MediaType: types.DockerConfigJSON, Digest: main.Digest, Size: main.Size}
	if _, err := WriteArtifactSet(ctx, io.Discard, src, "x", cfg, nil); !errors.Is(err, oci.ErrUnsupported) {
		t.Fatalf("non-manifest main: %v, want ErrUnsupported", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := WriteArtifactSet(cctx, io.Discard, src, "x", main, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// corrupting flips the first byte of one blob.
type corrupting struct {
	oci.Reader
	digest v1.Hash
}

func (c *corrupting) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	rc, err := c.Reader.Fetch(ctx, repo, d)
	if err != nil || d.Digest != c.digest {
		return rc, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	b[0] ^= 0xff
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestArtifactSetMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"application/vnd.oci.image.manifest.v1+json":                "application/vnd.oci.image.manifest.v1+tar+gzip",
		"application/vnd.oci.image.index.v1+json":                   "application/vnd.oci.image.index.v1+tar+gzip",
		"application/vnd.docker.distribution.manifest.v2+json":      "application/vnd.docker.distribution.manifest.v2+tar+gzip",
		"application/vnd.docker.distribution.manifest.list.v2+json": "application/vnd.docker.distribution.manifest.list.v2+tar+gzip",
	} {
		if got := ArtifactSetMediaType(in); got != want || !IsArtifactSet(got) {
			t.Errorf("ArtifactSetMediaType(%s) = %s, want %s", in, got, want)
		}
	}
}

func sameDesc(a, b v1.Descriptor) bool {
	return a.Digest == b.Digest && a.Size == b.Size && a.MediaType == b.MediaType
}
