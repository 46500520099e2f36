package ctf

import (
	"archive/tar"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/ferry-oci/ferry/oci"
)

// member is a regular file inside a tar: where its bytes start and how many.
type member struct {
	off, size int64
}

// checkHeader refuses entry types that could link or write outside the
// archive, and returns the entry's classification.
func checkHeader(archive string, hdr *tar.Header, tops []string) (string, entryKind, error) {
	key, kind, err := classify(hdr.Name, tops)
	if err != nil {
		return "", 0, &EntryError{Archive: archive, Entry: fmt.Sprintf("%q", hdr.Name), Err: err}
	}
	switch hdr.Typeflag {
	case tar.TypeReg: // the reader reports old regular files (TypeRegA) as TypeReg
		if kind == kindBlobsDir {
			return "", 0, &EntryError{Archive: archive, Entry: hdr.Name, Err: fmt.Errorf("%w: a file where the blobs directory belongs", ErrEntryType)}
		}
	case tar.TypeDir:
		if kind == kindTop || kind == kindBlob {
			kind = kindIgnored // a directory named like a file of the format holds nothing ferry reads
		}
	case tar.TypeXGlobalHeader:
		return "", kindIgnored, nil
	default:
		what := map[byte]string{
			tar.TypeSymlink: "symbolic link", tar.TypeLink: "hard link", tar.TypeChar: "character device",
			tar.TypeBlock: "block device", tar.TypeFifo: "FIFO", tar.TypeGNUSparse: "sparse file",
		}[hdr.Typeflag]
		if what == "" {
			what = fmt.Sprintf("type %q", hdr.Typeflag)
		}
		return "", 0, &EntryError{Archive: archive, Entry: hdr.Name, Err: fmt.Errorf("%w: %s", ErrEntryType, what)}
	}
	return key, kind, nil
}

// scanTar builds the index of a tar's members by reading its headers once:
// for every recognised regular file (a top-level file of tops or a blob) its
// canonical name and the offset and size of its bytes in r. Nothing is
// extracted or copied. Unsafe names, links, devices, duplicates and an entry
// that runs past the end of r are refused, each with its own error.
func scanTar(r io.ReaderAt, size int64, archive string, tops []string) (map[string]member, error) {
	sr := io.NewSectionReader(r, 0, size)
	tr := tar.NewReader(sr)
	members := map[string]member{}
	seen := map[string]bool{}
	last := ""
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, &EntryError{Archive: archive, Err: fmt.Errorf("%w: empty tar", ErrNotArchive)}
			}
			return members, nil
		}
		if err != nil {
			if n == 0 {
				return nil, &EntryError{Archive: archive, Err: fmt.Errorf("%w: no tar header: %v", ErrNotArchive, err)}
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, &EntryError{Archive: archive, Entry: last, Err: fmt.Errorf("%w: the file ends in this entry's padding or the header after it: %v", ErrTruncated, err)}
			}
			return nil, &EntryError{Archive: archive, Entry: fmt.Sprintf("header after %s", last), Err: fmt.Errorf("reading tar header: %w", err)}
		}
		last = hdr.Name
		key, kind, err := checkHeader(archive, hdr, tops)
		if err != nil {
			return nil, err
		}
		off, _ := sr.Seek(0, io.SeekCurrent)
		if hdr.Size < 0 || hdr.Size > size-off {
			return nil, &EntryError{Archive: archive, Entry: hdr.Name,
				Err: fmt.Errorf("%w: header says %d bytes, %d left in the file", ErrTruncated, hdr.Size, size-off)}
		}
		if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if seen[hdr.Name] || key != "" && seen[key] {
			return nil, &EntryError{Archive: archive, Entry: hdr.Name, Err: ErrDuplicateEntry}
		}
		seen[hdr.Name] = true
		if kind == kindTop || kind == kindBlob {
			seen[key] = true
			members[key] = member{off: off, size: hdr.Size}
		}
	}
}

// extractTar reads a tar stream (a decompressed tgz) once and writes every
// recognised regular file to dir under its canonical name, hashing blobs
// as they stream. At most limit bytes of tar stream are read (ErrTooLarge
// beyond, with the compression ratio when compressed() reports the bytes
// read from the file); top-level files are bounded by topLimit. Blobs whose
// content does not match their name are refused (oci.ErrDigestMismatch).
// It returns the sizes of the files written by canonical name.
func extractTar(r io.Reader, dir, archive string, tops []string, limit, topLimit int64, compressed func() int64) (map[string]int64, error) {
	cr := &countingReader{r: r, limit: limit}
	tr := tar.NewReader(cr)
	out := map[string]int64{}
	seen := map[string]bool{}
	last := ""
	tooLarge := func() error {
		msg := fmt.Sprintf("decompresses to more than %d bytes", limit)
		if c := compressed(); c > 0 {
			msg += fmt.Sprintf(" (%d:1 from the first %d compressed bytes)", cr.n/c, c)
		}
		return &EntryError{Archive: archive, Err: fmt.Errorf("%s: %w", msg, oci.ErrTooLarge)}
	}
	if err := os.MkdirAll(filepath.Join(dir, BlobsDir), 0o755); err != nil {
		return nil, err
	}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, &EntryError{Archive: archive, Err: fmt.Errorf("%w: empty tar", ErrNotArchive)}
			}
			return out, nil
		}
		if err != nil {
			switch {
			case cr.over:
				return nil, tooLarge()
			case n == 0:
				return nil, &EntryError{Archive: archive, Err: fmt.Errorf("%w: no tar header: %v", ErrNotArchive, err)}
			case errors.Is(err, io.ErrUnexpectedEOF):
				return nil, &EntryError{Archive: archive, Entry: last, Err: fmt.Errorf("%w: the stream ends in this entry or the header after it: %v", ErrTruncated, err)}
			}
			return nil, &EntryError{Archive: archive, Entry: fmt.Sprintf("header after %s", last), Err: fmt.Errorf("reading tar: %w", err)}
		}
		last = hdr.Name
		key, kind, err := checkHeader(archive, hdr, tops)
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if seen[hdr.Name] || key != "" && seen[key] {
			return nil, &EntryError{Archive: archive, Entry: hdr.Name, Err: ErrDuplicateEntry}
		}
		seen[hdr.Name] = true
		if kind != kindTop && kind != kindBlob {
			continue // ignored; the next Next skips its bytes, and they count against the limit
		}
		seen[key] = true
		if hdr.Size > limit {
			return nil, tooLarge()
		}
		if kind == kindTop && hdr.Size > topLimit {
			return nil, &EntryError{Archive: archive, Entry: hdr.Name,
				Err: fmt.Errorf("%d bytes, more than the %d this reader accepts: %w", hdr.Size, topLimit, oci.ErrTooLarge)}
		}
		var h hash.Hash
		if kind == kindBlob {
			d, _ := digestOfBlobName(key[len(BlobsDir)+1:])
			h, _ = oci.NewHasher(d.Algorithm)
		}
		if err := writeMember(filepath.Join(dir, filepath.FromSlash(key)), tr, h); err != nil {
			if cr.over {
				return nil, tooLarge()
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: %v", ErrTruncated, err)
			}
			return nil, &EntryError{Archive: archive, Entry: hdr.Name, Err: err}
		}
		if h != nil {
			d, _ := digestOfBlobName(key[len(BlobsDir)+1:])
			if got := fmt.Sprintf("%x", h.Sum(nil)); got != d.Hex {
				return nil, &EntryError{Archive: archive, Entry: hdr.Name,
					Err: fmt.Errorf("content hashes to %s:%s: %w", d.Algorithm, got, oci.ErrDigestMismatch)}
			}
		}
		out[key] = hdr.Size
	}
}

func writeMember(name string, r io.Reader, h hash.Hash) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := io.Writer(f)
	if h != nil {
		w = io.MultiWriter(f, h)
	}
	_, err = io.Copy(w, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// countingReader counts the bytes read and fails after limit.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
	over  bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit+1 {
		c.over = true
		return 0, oci.ErrTooLarge
	}
	if int64(len(p)) > c.limit+1-c.n {
		p = p[:c.limit+1-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		c.over = true
		return n, oci.ErrTooLarge
	}
	return n, err
}
