package ctf

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ModTime is the modification time OCM gives every entry of the archives
// it writes, and so does ferry.
var ModTime = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// writeCanonicalTar writes index and the blobs hs (sorted by file name) read
// from src, in OCM's order and with OCM's headers. Blobs are copied as
// they are; a blob whose size changed under us fails the write.
func writeCanonicalTar(ctx context.Context, w io.Writer, index []byte, hs []v1.Hash, src source) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: IndexFile, Size: int64(len(index)), Mode: 0o644, ModTime: ModTime}); err != nil {
		return err
	}
	if _, err := tw.Write(index); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: BlobsDir, Mode: 0o755, ModTime: ModTime}); err != nil {
		return err
	}
	for _, h := range hs {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := blobPath(h)
		b, err := src.open(name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: b.Size(), Mode: 0o644, ModTime: ModTime})
		if err == nil {
			err = copyCtx(ctx, tw, b)
		}
		b.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return tw.Close()
}
