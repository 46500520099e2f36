package oci

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BenchmarkVerifyReader measures digest and size verification while a
// 64 MiB blob streams through VerifyReader, as every Fetch and Push does,
// next to a bare sha256 of the same bytes: the difference is the cost of
// the wrapper itself.
func BenchmarkVerifyReader(b *testing.B) {
	data := make([]byte, 64<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	d := v1.Descriptor{
		MediaType: types.OCILayer,
		Size:      int64(len(data)),
		Digest:    Digest(data),
	}
	buf := make([]byte, 32<<10) // io.Copy's buffer size
	// Hide io.Discard's ReadFrom, which would read in 8 KiB pieces.
	discard := struct{ io.Writer }{io.Discard}
	b.Run("verify", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			vr, err := VerifyReader(bytes.NewReader(data), d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(discard, vr, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sha256-only", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			h := sha256.New()
			if _, err := io.CopyBuffer(struct{ io.Writer }{h}, bytes.NewReader(data), buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
