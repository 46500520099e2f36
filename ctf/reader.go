package ctf

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// OpenReader opens the tar CTF held in r (size bytes) for reading in place,
// as Open opens a tar file: the members are indexed by reading their headers
// once, blobs are sections of r, and the same rules for untrusted archives
// apply. name names the archive in errors and is what Path returns. r must
// stay readable until the archive is closed; Close does not close it. A
// bundle split into volumes is read this way, through one io.ReaderAt over
// all its files. The archive is read only.
func OpenReader(r io.ReaderAt, size int64, name string, opts ...Option) (*Archive, error) {
	return openTar(name, r, size, makeOptions(opts))
}

// BlobOffset returns where the bytes of blob h start inside a tar archive
// (opened with Open or OpenReader), and how many there are; ok is false for
// a blob the archive does not hold and for archives that are not read in
// place from a tar (directories, tgz). Verification uses it to say where a
// damaged blob sits in the file.
func (a *Archive) BlobOffset(h v1.Hash) (off, size int64, ok bool) {
	ts, isTar := a.src.(tarSource)
	if !isTar || !validHex(h.Algorithm, h.Hex) {
		return 0, 0, false
	}
	m, ok := ts.members[blobPath(h)]
	return m.off, m.size, ok
}
