package ocireg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// LocalBlob is a blob stored with a component version: one layer of its
// manifest.
type LocalBlob struct {
	// Descriptor is the blob's digest and size; its media type is the
	// layer media type when the localBlob access names none.
	Descriptor v1.Descriptor
	// Open returns the blob's content; the caller closes it. Write calls it
	// only when the target does not hold the blob yet, and fails when it is
	// nil then, so a caller that copied the blob itself may leave it nil.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// LocalBlobs returns the local blobs of the version: the manifest's layers
// other than the descriptor layer, in manifest order and each once, each
// with an Open
// that streams it from the store the version was read from, verified
// against its descriptor (a mismatch fails the read at the end with
// oci.ErrDigestMismatch or oci.ErrSizeMismatch).
func (v *Version) LocalBlobs() []LocalBlob {
	var out []LocalBlob
	seen := map[v1.Hash]bool{v.DescriptorLayer.Digest: true}
	for _, l := range v.Layers {
		if seen[l.Digest] {
			continue
		}
		seen[l.Digest] = true
		out = append(out, LocalBlob{Descriptor: l, Open: func(ctx context.Context) (io.ReadCloser, error) {
			return v.fetchVerified(ctx, l)
		}})
	}
	return out
}

func (v *Version) fetchVerified(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	rc, err := v.store.Fetch(ctx, v.Ref.Repo(), d)
	if err != nil {
		return nil, err
	}
	vr, err := oci.VerifyReader(rc, d)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return readCloser{vr, rc}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// LocalReferenceDigests splits a localReference into the digests of its
// chunks (§2.6): one digest, or a comma-separated list of the chunks to
// concatenate in order (spaces around the commas are allowed). Anything
// else, such as the file name a component archive uses, fails with
// ErrMalformed.
func LocalReferenceDigests(ref string) ([]v1.Hash, error) {
	parts := strings.Split(ref, ",")
	out := make([]v1.Hash, 0, len(parts))
	for _, p := range parts {
		h, err := v1.NewHash(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("localReference %q: %q is not a digest: %w", ref, strings.TrimSpace(p), ErrMalformed)
		}
		out = append(out, h)
	}
	return out, nil
}

// LocalBlob streams the local blob that access names, verified while it
// streams: a layer of the manifest whose digest is the localReference, or
// the layers of a chunked localReference ("sha256:…,sha256:…") read one
// after the other, each verified against its own layer, so the reader fails
// (oci.ErrDigestMismatch, oci.ErrSizeMismatch) at the end of a chunk that
// is not what the manifest says. The caller closes the reader.
//
// The descriptor returned is the layer's for a single blob; for a chunked
// one its Size is the sum of the chunks, its MediaType the access's and its
// Digest empty, because the whole has no digest in the manifest (for a
// genericBlobDigest/v1 resource digest it is the resource digest).
//
// A reference to a layer the manifest does not have fails with
// oci.ErrNotFound; one to an artifact of an OCM v2 index (§2.5) with
// oci.ErrUnsupported: such artifacts are copied as artifacts
// (Version.Artifacts).
func (v *Version) LocalBlob(ctx context.Context, access component.LocalBlobAccess) (io.ReadCloser, v1.Descriptor, error) {
	fail := func(err error) (io.ReadCloser, v1.Descriptor, error) {
		return nil, v1.Descriptor{}, fmt.Errorf("local blob %s of %s: %w", access.LocalReference, v.name(), err)
	}
	hs, err := LocalReferenceDigests(access.LocalReference)
	if err != nil {
		return fail(err)
	}
	chunks := make([]v1.Descriptor, 0, len(hs))
	for _, h := range hs {
		d, err := v.layer(h)
		if err != nil {
			return fail(err)
		}
		chunks = append(chunks, d)
	}
	if len(chunks) == 1 {
		rc, err := v.fetchVerified(ctx, chunks[0])
		if err != nil {
			return fail(err)
		}
		return rc, chunks[0], nil
	}
	whole := v1.Descriptor{MediaType: types.MediaType(access.MediaType)}
	for _, c := range chunks {
		whole.Size += c.Size
	}
	if whole.MediaType == "" {
		whole.MediaType = chunks[0].MediaType
	}
	return &chunkReader{ctx: ctx, v: v, chunks: chunks}, whole, nil
}

// layer returns the local-blob layer with digest h.
func (v *Version) layer(h v1.Hash) (v1.Descriptor, error) {
	if h == v.DescriptorLayer.Digest {
		return v1.Descriptor{}, fmt.Errorf("%s is the descriptor layer: %w", h, ErrMalformed)
	}
	if i := slices.IndexFunc(v.Layers, func(l v1.Descriptor) bool { return l.Digest == h }); i >= 0 {
		return v.Layers[i], nil
	}
	if slices.ContainsFunc(v.Artifacts, func(a v1.Descriptor) bool { return a.Digest == h }) {
		return v1.Descriptor{}, fmt.Errorf("%s is an OCI artifact of the version's index, not a blob: %w", h, oci.ErrUnsupported)
	}
	return v1.Descriptor{}, fmt.Errorf("the manifest has no layer %s: %w", h, oci.ErrNotFound)
}

func (v *Version) name() string {
	if v.Descriptor != nil {
		return v.Descriptor.Name + ":" + v.Descriptor.Version
	}
	return v.Ref.String()
}

// chunkReader concatenates the chunks of a local blob, opening each when
// the one before it has been read to its verified end, so that one
// connection at a time is open. It keeps the context of the LocalBlob call
// for those later fetches.
type chunkReader struct {
	ctx    context.Context
	v      *Version
	chunks []v1.Descriptor
	cur    io.ReadCloser
	err    error // sticky
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.err == nil {
		if c.cur == nil {
			if len(c.chunks) == 0 {
				c.err = io.EOF
				break
			}
			rc, err := c.v.fetchVerified(c.ctx, c.chunks[0])
			if err != nil {
				c.err = fmt.Errorf("chunk %s: %w", c.chunks[0].Digest, err)
				break
			}
			c.cur = rc
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur.Close()
			c.cur, c.chunks = nil, c.chunks[1:]
			err = nil
		}
		if err != nil {
			c.err = fmt.Errorf("chunk %s: %w", c.chunks[0].Digest, err)
		}
		if n > 0 || c.err != nil {
			return n, c.err
		}
	}
	return 0, c.err
}

func (c *chunkReader) Close() error {
	c.chunks = nil
	if c.err == nil {
		c.err = errClosed
	}
	if c.cur != nil {
		err := c.cur.Close()
		c.cur = nil
		return err
	}
	return nil
}

var errClosed = errors.New("read after close")
