package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NewHasher returns a hash for the digest algorithm alg ("sha256", "sha512").
func NewHasher(alg string) (hash.Hash, error) {
	switch alg {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("digest algorithm %q: %w", alg, ErrUnsupported)
}

// VerifyReader returns a reader that yields the bytes of r and checks them
// against d while they stream. It fails with an error wrapping
// ErrSizeMismatch as soon as r yields more than d.Size bytes, and at the end
// of r with ErrSizeMismatch or ErrDigestMismatch instead of io.EOF when the
// content is not d. A reader for content that verified returns io.EOF as
// usual. A descriptor with a negative size is checked for its digest only.
//
// Verification composes: when r is already a reader VerifyReader returned
// for the same descriptor, r itself is returned, so content that a copy
// verifies on the way out of one store is not hashed a second time on the
// way into another.
func VerifyReader(r io.Reader, d v1.Descriptor) (io.Reader, error) {
	if v, ok := r.(*verifyingReader); ok && v.want.Digest == d.Digest && v.want.Size == d.Size {
		return v, nil
	}
	h, err := NewHasher(d.Digest.Algorithm)
	if err != nil {
		return nil, err
	}
	return &verifyingReader{r: r, h: h, want: d}, nil
}

type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want v1.Descriptor
	n    int64
	err  error // sticky
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.want.Size >= 0 && v.n > v.want.Size {
		v.err = &mismatchError{ErrSizeMismatch, sizeString(v.want.Size), "more"}
		return n, v.err
	}
	if err == io.EOF {
		if v.want.Size >= 0 && v.n != v.want.Size {
			v.err = &mismatchError{ErrSizeMismatch, sizeString(v.want.Size), sizeString(v.n)}
			return n, v.err
		}
		got := v.want.Digest.Algorithm + ":" + hex.EncodeToString(v.h.Sum(nil))
		if got != v.want.Digest.String() {
			v.err = &mismatchError{ErrDigestMismatch, v.want.Digest.String(), got}
			return n, v.err
		}
		v.err = io.EOF
	}
	return n, err
}

func sizeString(n int64) string { return strconv.FormatInt(n, 10) + " bytes" }

// Digest returns the sha256 digest of b.
func Digest(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// DescriptorOf returns the descriptor of the bytes b with media type mt.
func DescriptorOf(mt types.MediaType, b []byte) v1.Descriptor {
	return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: Digest(b)}
}

// FetchBytes reads the manifest or small blob d from repo into memory,
// verified against d and bounded by limit bytes (MaxManifestBytes when
// limit <= 0). Larger content fails with ErrTooLarge: blobs of unknown size
// are streamed with Fetch instead.
func FetchBytes(ctx context.Context, s Reader, repo string, d v1.Descriptor, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxManifestBytes
	}
	if d.Size > limit {
		return nil, &Error{Op: "fetch", Ref: repo, Digest: d.Digest,
			Err: fmt.Errorf("%d bytes, more than the %d this reader accepts: %w", d.Size, limit, ErrTooLarge)}
	}
	rc, err := s.Fetch(ctx, repo, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	vr, err := VerifyReader(io.LimitReader(rc, limit+1), d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if d.Size > 0 {
		buf.Grow(int(d.Size))
	}
	if _, err := io.Copy(&buf, vr); err != nil {
		return nil, &Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: err}
	}
	return buf.Bytes(), nil
}

// PushBytes pushes b as the content of d to repo, skipping the push when the
// store already holds it.
func PushBytes(ctx context.Context, s Writer, repo string, d v1.Descriptor, b []byte) error {
	ok, err := s.Exists(ctx, repo, d)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	return s.Push(ctx, repo, d, bytes.NewReader(b))
}
