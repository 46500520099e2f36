package ctf

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ModTime is the modification time OCM gives every entry of the archives
// it writes, and so does ferry.
var ModTime = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// writeCanonicalTar writes index and the blobs hs read from src as a
// TarLayout. Blobs are copied as they are; a blob whose size changed under
// us fails the write.
func writeCanonicalTar(ctx context.Context, w io.Writer, index []byte, hs []v1.Hash, src source) error {
	blobs := make([]TarBlob, len(hs))
	for i, h := range hs {
		n, ok, err := src.size(blobPath(h))
		if err == nil && !ok {
			err = fs.ErrNotExist
		}
		if err != nil {
			return fmt.Errorf("%s: %w", blobPath(h), err)
		}
		blobs[i] = TarBlob{Digest: h, Size: n}
	}
	l, err := NewTarLayout(index, blobs)
	if err != nil {
		return err
	}
	for _, p := range l.Parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.Data != nil {
			if _, err := w.Write(p.Data); err != nil {
				return err
			}
			continue
		}
		if err := copyBlob(ctx, w, src, p); err != nil {
			return fmt.Errorf("%s: %w", blobPath(p.Blob), err)
		}
	}
	return nil
}

// copyBlob copies the content of part p, which must have p.Size bytes.
func copyBlob(ctx context.Context, w io.Writer, src source, p TarPart) error {
	b, err := src.open(blobPath(p.Blob))
	if err != nil {
		return err
	}
	defer b.Close()
	if b.Size() != p.Size {
		return fmt.Errorf("changed while the tar was written: %d bytes, laid out for %d", b.Size(), p.Size)
	}
	cw := &countingWriter{w: w}
	if err := copyCtx(ctx, cw, b); err != nil {
		return err
	}
	if cw.n != p.Size {
		return fmt.Errorf("changed while the tar was written: read %d bytes, laid out for %d", cw.n, p.Size)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
