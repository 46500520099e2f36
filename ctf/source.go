package ctf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BlobFile is random access to one blob of an archive. Reads go straight to
// the archive's file (a tar member is a section of the tar); the caller
// closes it.
type BlobFile struct {
	*io.SectionReader
	c io.Closer
}

// Close releases the file behind the blob.
func (b *BlobFile) Close() error {
	if b.c == nil {
		return nil
	}
	return b.c.Close()
}

// source is where an archive's files live: a directory, or members of a tar
// read in place.
type source interface {
	// open opens the file with canonical name key ("blobs/sha256.<hex>",
	// "artifact-index.json"); an error wrapping fs.ErrNotExist when absent.
	open(key string) (*BlobFile, error)
	// size returns the size of the file key, and whether it exists.
	size(key string) (int64, bool, error)
	// blobs lists the digests of every blob.
	blobs() ([]v1.Hash, error)
}

// dirSource is a directory opened as an os.Root, so no name (and no symbolic
// link inside it) can reach a file outside it. Blobs are read from the flat
// layout, or from the nested blobs/<alg>/<hex> layout OCM can also read.
type dirSource struct {
	root *os.Root
}

func nestedPath(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, BlobsDir+"/")
	if !ok {
		return "", false
	}
	alg, hex, ok := strings.Cut(rest, ".")
	if !ok {
		return "", false
	}
	return path.Join(BlobsDir, alg, hex), true
}

func (s dirSource) open(key string) (*BlobFile, error) {
	f, err := s.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		if nk, ok := nestedPath(key); ok {
			f, err = s.root.Open(nk)
		}
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &BlobFile{SectionReader: io.NewSectionReader(f, 0, fi.Size()), c: f}, nil
}

func (s dirSource) size(key string) (int64, bool, error) {
	fi, err := s.root.Stat(key)
	if errors.Is(err, fs.ErrNotExist) {
		if nk, ok := nestedPath(key); ok {
			fi, err = s.root.Stat(nk)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !fi.Mode().IsRegular() {
		return 0, false, nil
	}
	return fi.Size(), true, nil
}

func (s dirSource) blobs() ([]v1.Hash, error) {
	d, err := s.root.Open(BlobsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var out []v1.Hash
	for _, de := range des {
		if de.Type().IsRegular() {
			if h, ok := digestOfBlobName(de.Name()); ok {
				out = append(out, h)
			}
			continue
		}
		if _, ok := hexLen[de.Name()]; !ok || !de.IsDir() {
			continue
		}
		sub, err := s.root.Open(path.Join(BlobsDir, de.Name()))
		if err != nil {
			return nil, err
		}
		nes, err := sub.ReadDir(-1)
		sub.Close()
		if err != nil {
			return nil, err
		}
		for _, ne := range nes {
			if ne.Type().IsRegular() && validHex(de.Name(), ne.Name()) {
				out = append(out, v1.Hash{Algorithm: de.Name(), Hex: ne.Name()})
			}
		}
	}
	slices.SortFunc(out, func(a, b v1.Hash) int { return strings.Compare(blobName(a), blobName(b)) })
	return slices.Compact(out), nil
}

// tarSource serves the members of a tar in place.
type tarSource struct {
	r       io.ReaderAt
	members map[string]member
}

func (s tarSource) open(key string) (*BlobFile, error) {
	m, ok := s.members[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return &BlobFile{SectionReader: io.NewSectionReader(s.r, m.off, m.size)}, nil
}

func (s tarSource) size(key string) (int64, bool, error) {
	m, ok := s.members[key]
	return m.size, ok, nil
}

func (s tarSource) blobs() ([]v1.Hash, error) {
	var out []v1.Hash
	for k := range s.members {
		if rest, ok := strings.CutPrefix(k, BlobsDir+"/"); ok {
			if h, ok := digestOfBlobName(rest); ok {
				out = append(out, h)
			}
		}
	}
	slices.SortFunc(out, func(a, b v1.Hash) int { return strings.Compare(blobName(a), blobName(b)) })
	return out, nil
}
