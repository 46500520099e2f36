package ctf

import (
	"archive/tar"
	"bytes"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TarBlob is a blob of a CTF tar: its digest and length.
type TarBlob struct {
	Digest v1.Hash
	Size   int64
}

// TarPart is a run of bytes of a CTF tar: bytes the layout makes itself
// (Data: a tar header, artifact-index.json, padding, the end-of-archive
// blocks), or the content of the blob Blob (Data nil; Size may be 0).
type TarPart struct {
	Offset int64
	Size   int64
	Data   []byte
	Blob   v1.Hash
}

// TarLayout is OCM's canonical form of a CTF tar (CTF-NATIVE.md §5.1),
// laid out from the index and the blobs' digests and sizes before a byte
// is written: artifact-index.json first, then the directory entry "blobs",
// then every blob as blobs/<alg>.<hex> sorted by name; no "./" prefix;
// USTAR headers with mode 0644 for files and 0755 for the directory, uid
// and gid 0, no user or group names, mtime ModTime; each entry padded to
// 512 bytes, and two zero blocks at the end. The same content always gives
// the same bytes, and ocm leaves such a tar unchanged when it rewrites it.
//
// It is the one description of that form: Archive.WriteTar streams the
// parts in order, and a bundle writer (package bundle) writes each at its
// offset, blobs concurrently, so both write the same bytes.
type TarLayout struct {
	Size  int64     // the length of the tar
	Parts []TarPart // in order, each starting where the one before ends
}

// tarBlock is the unit a tar pads every entry to.
const tarBlock = 512

// NewTarLayout lays out the tar of index (the bytes of artifact-index.json)
// and blobs, given in any order. A digest given twice, an invalid digest or
// a negative size is an error.
func NewTarLayout(index []byte, blobs []TarBlob) (*TarLayout, error) {
	sorted := slices.Clone(blobs)
	slices.SortFunc(sorted, func(a, b TarBlob) int { return strings.Compare(blobName(a.Digest), blobName(b.Digest)) })
	l := &TarLayout{}
	data := func(b []byte) {
		if len(b) > 0 {
			l.Parts = append(l.Parts, TarPart{Offset: l.Size, Size: int64(len(b)), Data: b})
			l.Size += int64(len(b))
		}
	}
	pad := func(n int64) { data(make([]byte, (tarBlock-n%tarBlock)%tarBlock)) }
	h, err := tarHeader(&tar.Header{Typeflag: tar.TypeReg, Name: IndexFile, Size: int64(len(index)), Mode: 0o644, ModTime: ModTime})
	if err != nil {
		return nil, err
	}
	data(h)
	data(index)
	pad(int64(len(index)))
	if h, err = tarHeader(&tar.Header{Typeflag: tar.TypeDir, Name: BlobsDir, Mode: 0o755, ModTime: ModTime}); err != nil {
		return nil, err
	}
	data(h)
	for i, b := range sorted {
		if !validHex(b.Digest.Algorithm, b.Digest.Hex) || b.Size < 0 {
			return nil, fmt.Errorf("laying out a ctf tar: blob %s of %d bytes: invalid", b.Digest, b.Size)
		}
		if i > 0 && sorted[i-1].Digest == b.Digest {
			return nil, fmt.Errorf("laying out a ctf tar: blob %s given twice", b.Digest)
		}
		if h, err = tarHeader(&tar.Header{Typeflag: tar.TypeReg, Name: blobPath(b.Digest), Size: b.Size, Mode: 0o644, ModTime: ModTime}); err != nil {
			return nil, err
		}
		data(h)
		l.Parts = append(l.Parts, TarPart{Offset: l.Size, Size: b.Size, Blob: b.Digest})
		l.Size += b.Size
		pad(b.Size)
	}
	data(make([]byte, 2*tarBlock)) // the end of the archive
	return l, nil
}

// tarHeader returns the header blocks archive/tar writes for h.
func tarHeader(h *tar.Header) ([]byte, error) {
	var buf bytes.Buffer
	if err := tar.NewWriter(&buf).WriteHeader(h); err != nil {
		return nil, fmt.Errorf("tar header for %s: %w", h.Name, err)
	}
	return buf.Bytes(), nil
}
