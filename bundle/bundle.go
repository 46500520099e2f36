package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// Bundle is a bundle opened for reading: its files, the CTF inside, and
// ferry's metadata when it has some (a CTF made by ocm has none).
type Bundle struct {
	// Path is the bundle's name: FILE for a single file or for volumes
	// FILE.000, …, or a CTF directory.
	Path    string
	Volumes []Volume
	// Archive is the CTF, read in place. Blobs are not verified by Open:
	// Verify does, and so does the transfer engine while it copies.
	Archive *ctf.Archive
	// Metadata is nil when the bundle has no ferry/bundle:metadata.
	Metadata *Metadata
	// Sidecar reports whether FILE.sha256 lists the volumes.
	Sidecar bool
	// Trailer is the length of a volume listing found appended after the
	// tar: what `cat FILE.*` makes of the volumes and their FILE.sha256.
	// It is not part of the bundle and is not read.
	Trailer int64

	sidecar  []sidecarLine
	vols     *volumeSet
	metaHash []v1.Hash // the metadata artifact's own blobs
}

// Open opens the bundle at path: a single tar file, the first volume or
// the base name of a split bundle, a CTF directory or a tgz (bundles ocm
// made). Before it reads the tar it checks the volumes: numbered without a
// gap, every one but the last of the same size, the last no larger, and,
// when FILE.sha256 is there, exactly the files it lists, in its order (a
// missing or extra volume is a *DamageError wrapping ErrMissingVolume or
// ErrVolumeSize). With ferry metadata it also checks that the bundle has
// the size the metadata records (truncated or missing last volume) and
// that artifact-index.json lists what the metadata lists. Content is not
// hashed: see Verify.
func Open(ctx context.Context, path string) (*Bundle, error) {
	base, files, err := findVolumes(path)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Path: base}
	if files == nil || isGzip(files[0]) && len(files) == 1 {
		a, err := ctf.Open(base, ctf.ReadOnly())
		if err != nil {
			return nil, fmt.Errorf("opening bundle %s: %w", path, err)
		}
		b.Archive = a
		if fi, err := os.Stat(base); err == nil && !fi.IsDir() {
			b.Volumes = []Volume{{Path: base, Size: fi.Size()}}
		}
		if err := b.loadMetadata(ctx); err != nil {
			a.Close()
			return nil, err
		}
		return b, nil
	}
	if err := b.openVolumes(files); err != nil {
		return nil, err
	}
	a, err := ctf.OpenReader(b.vols, b.vols.total, base, ctf.ReadOnly())
	if err != nil {
		b.vols.Close()
		var ee *ctf.EntryError
		if errors.Is(err, ctf.ErrTruncated) || errors.As(err, &ee) && len(files) > 1 {
			return nil, &DamageError{File: files[len(files)-1], Offset: -1, Err: fmt.Errorf("the tar in %d volume(s) of %d bytes cannot be read (a volume truncated, missing or out of order?): %w", len(files), b.vols.total, err)}
		}
		return nil, fmt.Errorf("opening bundle %s: %w", path, err)
	}
	b.Archive = a
	if err := b.loadMetadata(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func isGzip(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [2]byte
	n, _ := f.ReadAt(m[:], 0)
	return n == 2 && m == [2]byte{0x1f, 0x8b}
}

func (b *Bundle) openVolumes(files []string) error {
	side, err := readSidecar(b.Path + ".sha256")
	if err != nil {
		return &DamageError{File: b.Path + ".sha256", Offset: -1, Err: err}
	}
	if len(files) == 1 && len(side) > 1 && volumeSuffix.MatchString(side[0].Name) && !volumeSuffix.MatchString(files[0]) {
		side = nil // FILE made with `cat FILE.[0-9]* > FILE`: the sidecar is the volumes'
	}
	if side != nil {
		b.Sidecar, b.sidecar = true, side
		for i, l := range side {
			if i >= len(files) {
				return &DamageError{File: filepath.Join(filepath.Dir(b.Path), l.Name), Offset: -1,
					Err: fmt.Errorf("%w: %s lists %d volumes, %d are here", ErrMissingVolume, b.Path+".sha256", len(side), len(files))}
			}
			if l.Name != filepath.Base(files[i]) {
				return &DamageError{File: files[i], Offset: -1, Err: fmt.Errorf("%w: %s lists %s in its place", ErrMissingVolume, b.Path+".sha256", l.Name)}
			}
		}
		if len(files) > len(side) {
			return &DamageError{File: files[len(side)], Offset: -1, Err: fmt.Errorf("not listed in %s", b.Path+".sha256")}
		}
	}
	fs := make([]*os.File, len(files))
	sizes := make([]int64, len(files))
	for i, p := range files {
		f, err := os.Open(p)
		if err != nil {
			closeAll(fs)
			return fmt.Errorf("opening bundle %s: %w", b.Path, err)
		}
		fs[i] = f
		fi, err := f.Stat()
		if err != nil {
			closeAll(fs)
			return fmt.Errorf("opening bundle %s: %w", b.Path, err)
		}
		sizes[i] = fi.Size()
		b.Volumes = append(b.Volumes, Volume{Path: p, Size: fi.Size()})
	}
	for i := 1; i < len(files); i++ {
		last := i == len(files)-1
		if !last && sizes[i] != sizes[0] || last && (sizes[i] > sizes[0] || sizes[i] == 0) {
			closeAll(fs)
			return &DamageError{File: files[i], Offset: -1, Err: fmt.Errorf("%w: %d bytes where the first volume has %d", ErrVolumeSize, sizes[i], sizes[0])}
		}
	}
	b.vols = newVolumeSet(fs, files, sizes)
	return nil
}

// loadMetadata reads and checks ferry's metadata, when there is some.
func (b *Bundle) loadMetadata(ctx context.Context) error {
	md, own, err := readMetadata(ctx, b.Archive)
	if err != nil {
		return b.damage(own, fmt.Errorf("opening bundle %s: %w", b.Path, err))
	}
	if md == nil {
		return nil
	}
	b.Metadata, b.metaHash = md, own
	if b.vols != nil && b.vols.total > md.Size && b.appendedSidecar(md.Size) {
		b.Trailer = b.vols.total - md.Size
	}
	if b.vols != nil && md.Size != b.vols.total-b.Trailer {
		last := b.vols.names[len(b.vols.names)-1]
		what := "truncated or a volume is missing"
		if b.vols.total > md.Size {
			what = "longer than written; join the volumes alone: cat FILE.[0-9]* > FILE"
		}
		return &DamageError{File: last, Offset: -1, Err: fmt.Errorf("%w: the bundle has %d bytes, its metadata says %d (%s)", ErrVolumeSize, b.vols.total, md.Size, what)}
	}
	if err := b.checkIndex(); err != nil {
		return err
	}
	return nil
}

// maxTrailer bounds the appended volume listing appendedSidecar accepts
// (a line is 70-odd bytes: some hundreds of volumes).
const maxTrailer = 64 << 10

// appendedSidecar reports whether the bytes after the tar's size are a
// volume listing (sha256sum lines naming NAME.000, NAME.001, … in order),
// as `cat FILE.*` appends FILE.sha256 after the volumes it joins.
func (b *Bundle) appendedSidecar(size int64) bool {
	n := b.vols.total - size
	if n <= 0 || n > maxTrailer {
		return false
	}
	buf := make([]byte, n)
	if _, err := b.vols.ReadAt(buf, size); err != nil {
		return false
	}
	lines, err := parseSidecar(buf)
	if err != nil || len(lines) == 0 || buf[len(buf)-1] != '\n' {
		return false
	}
	stem, _, _ := strings.Cut(lines[0].Name, ".000")
	for i, l := range lines {
		if l.Name != fmt.Sprintf("%s.%03d", stem, i) {
			return false
		}
	}
	return true
}

// checkIndex compares artifact-index.json with the metadata's copy.
func (b *Bundle) checkIndex() error {
	var got []IndexEntry
	for _, e := range b.Archive.Entries() {
		if e.Repository == MetadataRepository {
			continue
		}
		got = append(got, IndexEntry{Repository: e.Repository, Tag: e.Tag, Digest: e.Digest, MediaType: e.MediaType})
	}
	want := slices.Clone(b.Metadata.Index)
	m := Metadata{Index: got}
	m.normalise()
	w := Metadata{Index: want}
	w.normalise()
	if !slices.Equal(m.Index, w.Index) {
		return &DamageError{File: b.first(), Offset: -1, Entry: ctf.IndexFile,
			Err: fmt.Errorf("%w: %s lists %d entries that differ from the %d the metadata records", ErrInvalidMetadata, ctf.IndexFile, len(got), len(want))}
	}
	return nil
}

func (b *Bundle) first() string {
	if len(b.Volumes) > 0 {
		return b.Volumes[0].Path
	}
	return b.Path
}

// damage turns an error about one of blobs into a *DamageError naming where
// the first of them is.
func (b *Bundle) damage(blobs []v1.Hash, err error) error {
	for _, h := range blobs {
		if off, _, ok := b.Archive.BlobOffset(h); ok {
			return b.damageAt(off, blobName(h), err)
		}
	}
	return err
}

func (b *Bundle) damageAt(off int64, entry string, err error) *DamageError {
	if b.vols != nil {
		return b.vols.damage(off, entry, err)
	}
	return &DamageError{File: b.first(), Offset: off, Entry: entry, Err: err}
}

// raw returns the bundle's tar bytes for reading in place, its length and
// how to release it; nil for a directory or a compressed CTF.
func (b *Bundle) raw() (io.ReaderAt, int64, func() error, error) {
	if b.vols != nil {
		return b.vols, b.vols.total - b.Trailer, func() error { return nil }, nil
	}
	if len(b.Volumes) != 1 || isGzip(b.Volumes[0].Path) {
		return nil, 0, nil, nil
	}
	f, err := os.Open(b.Volumes[0].Path)
	if err != nil {
		return nil, 0, nil, err
	}
	return f, b.Volumes[0].Size, f.Close, nil
}

// Size is the length of the bundle's tar (0 for a directory).
func (b *Bundle) Size() int64 {
	var n int64
	for _, v := range b.Volumes {
		n += v.Size
	}
	return n
}

// Close releases the bundle's files.
func (b *Bundle) Close() error {
	err := b.Archive.Close()
	if b.vols != nil {
		err = errors.Join(err, b.vols.Close())
	}
	return err
}

// LeftOut lists what a differential bundle left out; nil for a full one.
func (b *Bundle) LeftOut() []HeldBlob {
	if b.Metadata == nil || b.Metadata.LeftOut == nil {
		return nil
	}
	return b.Metadata.LeftOut.Blobs
}

// MissingLeftOut checks that dst holds, under base, everything a
// differential bundle left out, and returns what it does not hold.
func (b *Bundle) MissingLeftOut(ctx context.Context, dst oci.Writer, base string) ([]HeldBlob, error) {
	var missing []HeldBlob
	for _, hb := range b.LeftOut() {
		repo := join(base, hb.Repository)
		ok, err := dst.Exists(ctx, repo, hb.Descriptor())
		if err != nil {
			return nil, fmt.Errorf("checking %s@%s, which the bundle left out: %w", repo, hb.Digest, err)
		}
		if !ok {
			missing = append(missing, hb)
		}
	}
	return missing, nil
}

func join(base, repo string) string {
	if base == "" {
		return repo
	}
	return strings.TrimSuffix(base, "/") + "/" + repo
}

// ImportStore returns the bundle as the source of an import into dst under
// base: it reads the bundle, and what a differential bundle left out from
// dst, where MissingLeftOut found it. Its write methods fail with
// oci.ErrUnsupported.
func (b *Bundle) ImportStore(dst oci.Reader, base string) *ImportStore {
	s := &ImportStore{a: b.Archive, dst: dst, base: base, leftOut: map[v1.Hash]HeldBlob{}}
	for _, hb := range b.LeftOut() {
		s.leftOut[hb.Digest] = hb
	}
	return s
}

// ImportStore is a bundle read as the source of an import; see Bundle.ImportStore.
type ImportStore struct {
	a       *ctf.Archive
	dst     oci.Reader
	base    string
	leftOut map[v1.Hash]HeldBlob
}

var (
	_ oci.Store            = (*ImportStore)(nil)
	_ oci.TagLister        = (*ImportStore)(nil)
	_ oci.RepositoryLister = (*ImportStore)(nil)
)

// Resolve implements oci.Reader.
func (s *ImportStore) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	d, err := s.a.Resolve(ctx, ref)
	if errors.Is(err, oci.ErrNotFound) && s.dst != nil {
		if hb, ok := s.leftOut[ref.Digest]; ok && hb.Manifest {
			r := oci.Ref{Repository: join(s.base, hb.Repository), Digest: hb.Digest}
			if pr, perr := oci.ParseRef(r.String()); perr == nil {
				return s.dst.Resolve(ctx, pr)
			}
		}
	}
	return d, err
}

// Fetch implements oci.Reader.
func (s *ImportStore) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	rc, err := s.a.Fetch(ctx, repo, d)
	if errors.Is(err, oci.ErrNotFound) && s.dst != nil {
		if hb, ok := s.leftOut[d.Digest]; ok {
			return s.dst.Fetch(ctx, join(s.base, hb.Repository), d)
		}
	}
	return rc, err
}

// Tags implements oci.TagLister.
func (s *ImportStore) Tags(ctx context.Context, repo string) ([]string, error) {
	return s.a.Tags(ctx, repo)
}

// Repositories implements oci.RepositoryLister.
func (s *ImportStore) Repositories(ctx context.Context) ([]string, error) {
	return s.a.Repositories(ctx)
}

func (s *ImportStore) readOnly(op, repo string) error {
	return &oci.Error{Op: op, Ref: repo, Err: fmt.Errorf("a bundle is read only: %w", oci.ErrUnsupported)}
}

// Exists reports whether the bundle itself holds d.
func (s *ImportStore) Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error) {
	return s.a.Exists(ctx, repo, d)
}

// Push implements oci.Writer; it fails.
func (s *ImportStore) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	return s.readOnly("push", repo)
}

// Tag implements oci.Writer; it fails.
func (s *ImportStore) Tag(ctx context.Context, ref oci.Ref, d v1.Descriptor) error {
	return s.readOnly("tag", ref.String())
}
