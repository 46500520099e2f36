package ctf

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/lockfile"
	"github.com/ferry-oci/ferry/oci"
)

// Format is the form of a CTF on disk (component.Format: one enum for the
// repository specification and the archive).
type Format = component.Format

// The forms of a CTF (INTEROP.md §3.2).
const (
	FormatDirectory = component.FormatDirectory
	FormatTar       = component.FormatTar
	FormatTGZ       = component.FormatTGZ // gzip-compressed tar: read only
)

// Limits applied when no option changes them.
const (
	DefaultMaxIndexBytes   = 16 << 20 // artifact-index.json
	DefaultMaxExtractBytes = 64 << 30 // a tgz decompressed
)

type options struct {
	readOnly   bool
	maxIndex   int64
	maxExtract int64
	tempDir    string

	lockCtx     context.Context
	lockTimeout time.Duration
}

// Option changes how Open, Create and OpenArtifactSet work.
type Option func(*options)

// ReadOnly opens a directory CTF for reading only: writes fail with
// oci.ErrUnsupported. Tar and tgz archives opened with Open are always read
// only.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// MaxIndexBytes bounds artifact-index.json; default DefaultMaxIndexBytes.
func MaxIndexBytes(n int64) Option { return func(o *options) { o.maxIndex = n } }

// MaxExtractBytes bounds how much a gzip-compressed archive may decompress
// to (a tgz CTF, an artifact set); default DefaultMaxExtractBytes. Beyond
// it the archive is refused as a decompression bomb (oci.ErrTooLarge); a
// high compression ratio alone is not refused.
func MaxExtractBytes(n int64) Option { return func(o *options) { o.maxExtract = n } }

// TempDir is where compressed archives are decompressed and tar CTFs are
// staged; default os.TempDir() for the former and the target's directory
// for the latter.
func TempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

func makeOptions(opts []Option) options {
	o := options{maxIndex: DefaultMaxIndexBytes, maxExtract: DefaultMaxExtractBytes}
	for _, f := range opts {
		f(&o)
	}
	if o.maxIndex <= 0 {
		o.maxIndex = DefaultMaxIndexBytes
	}
	if o.maxExtract <= 0 {
		o.maxExtract = DefaultMaxExtractBytes
	}
	return o
}

// Archive is a CTF as an oci.Store, also an oci.TagLister and an
// oci.RepositoryLister. Its methods are safe for concurrent use.
type Archive struct {
	path   string
	format Format
	opts   options

	src         source
	root        *os.Root       // the directory written to (directory CTF, tar staging); nil when read only
	closers     []io.Closer    // closed by Close
	tmpDir      string         // removed by Close: a tgz extracted, or a tar's staging directory
	target      string         // the tar Close writes, for an archive made by Create(…, FormatTar)
	stageParent string         // where its staging directories are made
	lock        *lockfile.Lock // the writer's lock of the target; nil when read only

	reuse   map[v1.Hash]string // blobs interrupted runs staged, by digest: files in the staging directory's reuse/
	reclaim Reclaim

	mu      sync.RWMutex
	idx     *index
	learned map[v1.Hash]types.MediaType // media types read from manifests the index does not type
	closed  bool
}

var (
	_ oci.Store            = (*Archive)(nil)
	_ oci.TagLister        = (*Archive)(nil)
	_ oci.RepositoryLister = (*Archive)(nil)
	_ oci.Mounter          = (*Archive)(nil)
)

// Open opens the CTF at path, detecting its form by content as OCM v1 does:
// a directory, a gzip-compressed tar (tgz), or else a tar.
//
// A directory is read and written in place (unless ReadOnly). A tar is read
// in place through an index of its members built by reading its headers
// once: nothing is extracted and blobs are sections of the file. A tgz
// cannot be read at random, so it is decompressed once into a private
// temporary directory (bounded by MaxExtractBytes, blobs hashed on the way)
// that Close removes. Tar and tgz archives are read only: writes fail with
// oci.ErrUnsupported; write a new tar with Create.
//
// Archives are untrusted. Open refuses, each with its own error naming the
// archive and the entry: names that are absolute or have ".." (or are not
// clean) with ErrUnsafeName; symbolic and hard links, devices, FIFOs and
// sparse files with ErrEntryType; two entries of one name with
// ErrDuplicateEntry; an entry cut short with ErrTruncated; an
// artifact-index.json over MaxIndexBytes with oci.ErrTooLarge, or not valid
// with ErrInvalidIndex; an index entry whose manifest has no blob with
// oci.ErrNotFound. Other files and directories (ferry-bundle.json, a "./"
// root entry) are ignored, as ocm ignores them (CTF-NATIVE.md §3.6): they
// are never served, and Close never writes them back. Blobs may be flat
// (blobs/sha256.<hex>) or nested (blobs/sha256/<hex>). Blob content is not
// hashed by Open (except in a tgz): callers verify what Fetch returns, or
// call Verify.
func Open(path string, opts ...Option) (*Archive, error) {
	o := makeOptions(opts)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening ctf %s: %w", path, err)
	}
	if fi.IsDir() {
		if o.readOnly {
			return openDir(path, FormatDirectory, o, false)
		}
		return openDirLocked(path, o)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening ctf %s: %w", path, err)
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		defer f.Close()
		return openTGZ(path, f, o)
	}
	a, err := openTar(path, f, fi.Size(), o)
	if err != nil {
		f.Close()
		return nil, err
	}
	a.closers = append(a.closers, f)
	if !o.readOnly {
		a.reclaim = removeStaging(path, o)
	}
	return a, nil
}

func openDir(path string, format Format, o options, writable bool) (*Archive, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("opening ctf %s: %w", path, err)
	}
	a := &Archive{path: path, format: format, opts: o, src: dirSource{root}, closers: []io.Closer{root}}
	if writable {
		a.root = root
	}
	if err := a.load(); err != nil {
		root.Close()
		return nil, err
	}
	return a, nil
}

// openDirLocked opens directory CTF path for writing under the writer's
// lock: the index is read once the lock is held, and what an interrupted
// writer left is reclaimed.
func openDirLocked(path string, o options) (*Archive, error) {
	l, err := o.lock(path)
	if err != nil {
		return nil, err
	}
	a, err := openDir(path, FormatDirectory, o, true)
	if err != nil {
		l.Release()
		return nil, err
	}
	a.lock = l
	if err := a.reclaimDir(context.Background()); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openTar opens the tar in r (size bytes) for reading in place.
func openTar(path string, r io.ReaderAt, size int64, o options) (*Archive, error) {
	members, err := scanTar(r, size, path, []string{IndexFile})
	if err != nil {
		return nil, err
	}
	a := &Archive{path: path, format: FormatTar, opts: o, src: tarSource{r: r, members: members}}
	if err := a.load(); err != nil {
		return nil, err
	}
	return a, nil
}

func openTGZ(path string, f *os.File, o options) (*Archive, error) {
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, &EntryError{Archive: path, Err: fmt.Errorf("%w: gzip: %v", ErrNotArchive, err)}
	}
	tmp, err := os.MkdirTemp(o.tempDir, "ferry-ctf-*")
	if err != nil {
		return nil, fmt.Errorf("opening ctf %s: %w", path, err)
	}
	compressed := func() int64 { n, _ := f.Seek(0, io.SeekCurrent); return n }
	if _, err := extractTar(zr, tmp, path, []string{IndexFile}, o.maxExtract, o.maxIndex, compressed); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	a, err := openDir(tmp, FormatTGZ, o, false)
	if err != nil {
		os.RemoveAll(tmp)
		if ee := (*EntryError)(nil); errors.As(err, &ee) {
			ee.Archive = path
		}
		return nil, err
	}
	a.path, a.tmpDir = path, tmp
	return a, nil
}

// load reads and checks artifact-index.json: bounded, valid, and every
// entry's manifest present as a blob.
func (a *Archive) load() error {
	n, ok, err := a.src.size(IndexFile)
	if err != nil {
		return &EntryError{Archive: a.path, Entry: IndexFile, Err: err}
	}
	if !ok {
		return &EntryError{Archive: a.path, Err: fmt.Errorf("%w: no %s", ErrNotArchive, IndexFile)}
	}
	if n > a.opts.maxIndex {
		return &EntryError{Archive: a.path, Entry: IndexFile,
			Err: fmt.Errorf("%d bytes, more than the %d this reader accepts: %w", n, a.opts.maxIndex, oci.ErrTooLarge)}
	}
	f, err := a.src.open(IndexFile)
	if err != nil {
		return &EntryError{Archive: a.path, Entry: IndexFile, Err: err}
	}
	b, err := io.ReadAll(io.LimitReader(f, a.opts.maxIndex+1))
	f.Close()
	if err != nil {
		return &EntryError{Archive: a.path, Entry: IndexFile, Err: err}
	}
	entries, err := ParseIndex(b)
	if err != nil {
		return &EntryError{Archive: a.path, Entry: IndexFile, Err: err}
	}
	for i, e := range entries {
		if _, ok, err := a.src.size(blobPath(e.Digest)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("manifest %s has no blob %s: %w", e.Digest, blobPath(e.Digest), oci.ErrNotFound)
			}
			return &EntryError{Archive: a.path, Entry: fmt.Sprintf("%s entry %d (%s)", IndexFile, i, e), Err: err}
		}
	}
	a.idx = newIndex(entries)
	a.learned = map[v1.Hash]types.MediaType{}
	return nil
}

// Create makes a new, empty CTF at path, which must not exist (an empty
// directory is accepted for FormatDirectory). A directory is written in
// place. A tar is staged in a directory next to path (or in TempDir) and
// written by Close in OCM's canonical form (see WriteTar) under a temporary
// name that is renamed to path only when complete; Abort discards it.
// FormatTGZ is not written (oci.ErrUnsupported): bundles are plain tars,
// their layers being compressed already.
func Create(path string, format Format, opts ...Option) (*Archive, error) {
	o := makeOptions(opts)
	switch format {
	case FormatDirectory:
		l, err := o.lock(path)
		if err != nil {
			return nil, err
		}
		a, err := createDir(path, o)
		if err != nil {
			l.Release()
			return nil, err
		}
		a.lock = l
		return a, nil
	case FormatTar:
		l, err := o.lock(path)
		if err != nil {
			return nil, err
		}
		a, err := createTar(path, o)
		if err != nil {
			l.Release()
			return nil, err
		}
		a.lock = l
		if err := a.adoptStaging(a.stageParent); err != nil {
			a.Abort()
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("creating ctf %s: format %q: %w", path, format, oci.ErrUnsupported)
}

func createDir(path string, o options) (*Archive, error) {
	if err := os.Mkdir(path, 0o755); err != nil {
		des, rerr := os.ReadDir(path)
		if !errors.Is(err, fs.ErrExist) || rerr != nil || len(des) > 0 {
			return nil, fmt.Errorf("creating ctf %s: %w", path, err)
		}
	}
	if err := initDir(path); err != nil {
		return nil, fmt.Errorf("creating ctf %s: %w", path, err)
	}
	return openDir(path, FormatDirectory, o, true)
}

func createTar(path string, o options) (*Archive, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("creating ctf %s: %w", path, fs.ErrExist)
	}
	dir := o.tempDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	stage, err := os.MkdirTemp(dir, "."+filepath.Base(path)+".staging-*")
	if err != nil {
		return nil, fmt.Errorf("creating ctf %s: %w", path, err)
	}
	if err := initDir(stage); err != nil {
		os.RemoveAll(stage)
		return nil, fmt.Errorf("creating ctf %s: %w", path, err)
	}
	a, err := openDir(stage, FormatTar, o, true)
	if err != nil {
		os.RemoveAll(stage)
		return nil, err
	}
	a.path, a.tmpDir, a.target, a.stageParent = path, stage, path, dir
	a.reuse = map[v1.Hash]string{}
	return a, nil
}

func initDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, BlobsDir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, IndexFile), MarshalIndex(nil), 0o644)
}

// Path returns the path the archive was opened or created at.
func (a *Archive) Path() string { return a.path }

// Format returns the archive's form.
func (a *Archive) Format() Format { return a.format }

// Writable reports whether Push and Tag can change the archive.
func (a *Archive) Writable() bool { return a.root != nil }

func (a *Archive) readable(op, ref string) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return &oci.Error{Op: op, Ref: ref, Err: fmt.Errorf("ctf %s: %w", a.path, ErrClosed)}
	}
	return nil
}

func (a *Archive) writable(op, ref string) error {
	if err := a.readable(op, ref); err != nil {
		return err
	}
	if a.root == nil {
		return &oci.Error{Op: op, Ref: ref, Err: fmt.Errorf("ctf %s is a %s opened for reading: %w", a.path, a.format, oci.ErrUnsupported)}
	}
	return nil
}

// Resolve returns the descriptor of the manifest ref names in the index, by
// digest when ref has one, else by tag. The size is the blob's; the media
// type is the index entry's, or read from the manifest when the entry has
// none (OCM before 2026 wrote none).
func (a *Archive) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	repo := ref.Repo()
	if err := a.readable("resolve", ref.String()); err != nil {
		return v1.Descriptor{}, err
	}
	if err := ctx.Err(); err != nil {
		return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Err: err}
	}
	notFound := &oci.Error{Op: "resolve", Ref: ref.String(), Err: fmt.Errorf("not in ctf %s: %w", a.path, oci.ErrNotFound)}
	a.mu.RLock()
	h := ref.Digest
	if h == (v1.Hash{}) {
		h, _ = a.idx.tag(repo, ref.Tag)
	}
	mt, ok := a.idx.has(repo, h)
	if mt == "" {
		mt = a.learned[h]
	}
	a.mu.RUnlock()
	if !ok {
		return v1.Descriptor{}, notFound
	}
	size, ok, err := a.src.size(blobPath(h))
	if err != nil {
		return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Digest: h, Err: err}
	}
	if !ok {
		return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Digest: h,
			Err: fmt.Errorf("ctf %s: manifest blob %s is gone: %w", a.path, blobPath(h), oci.ErrNotFound)}
	}
	d := v1.Descriptor{MediaType: mt, Size: size, Digest: h}
	if mt == "" {
		b, err := oci.FetchBytes(ctx, a, repo, d, 0)
		if err != nil {
			return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Digest: h, Err: fmt.Errorf("reading the media type: %w", err)}
		}
		d.MediaType = mediaTypeOf(b)
		a.mu.Lock()
		a.learned[h] = d.MediaType
		a.mu.Unlock()
	}
	return d, nil
}

// mediaTypeOf returns the media type a manifest states, or infers one for
// manifests without the field: an index when it lists manifests, else an
// OCI image manifest.
func mediaTypeOf(b []byte) types.MediaType {
	if mt := oci.MediaTypeOf(b); mt != "" {
		return mt
	}
	if kids, err := oci.Children(types.OCIImageIndex, b); err == nil && len(kids) > 0 {
		return types.OCIImageIndex
	}
	return types.OCIManifestSchema1
}

// Fetch streams blob or manifest d. Blobs are shared by every repository
// of a CTF, so repo only names the request in errors. The bytes are not
// verified: wrap the reader with oci.VerifyReader.
func (a *Archive) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if err := a.readable("fetch", repo); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: err}
	}
	b, err := a.OpenBlob(d.Digest)
	if err != nil {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: err}
	}
	return b, nil
}

// OpenBlob gives random access to blob h (for example to read an artifact
// set with OpenArtifactSet). It fails with an error wrapping oci.ErrNotFound
// when the archive has no such blob. The caller closes it.
func (a *Archive) OpenBlob(h v1.Hash) (*BlobFile, error) {
	if !validHex(h.Algorithm, h.Hex) {
		return nil, fmt.Errorf("ctf %s: digest %q: %w", a.path, h, oci.ErrNotFound)
	}
	b, err := a.src.open(blobPath(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ctf %s has no blob %s: %w", a.path, blobPath(h), oci.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("ctf %s: %w", a.path, err)
	}
	return b, nil
}

// Exists reports whether the archive holds d: whether its blob is there
// (with d's size, when d has one). Blobs are shared by every repository of a
// CTF, but ocm finds a manifest only through the index entries of its
// repository (CTF-NATIVE.md §4.1); so when the blob of a manifest that repo
// has no entry for is present, a writable archive records an untagged entry
// for it in repo, and a copy that skips the push still leaves the manifest
// findable.
func (a *Archive) Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error) {
	if err := a.readable("exists", repo); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, &oci.Error{Op: "exists", Ref: repo, Digest: d.Digest, Err: err}
	}
	if !validHex(d.Digest.Algorithm, d.Digest.Hex) {
		return false, nil
	}
	if a.root != nil {
		if err := a.reuseBlob(ctx, repo, d); err != nil {
			return false, &oci.Error{Op: "exists", Ref: repo, Digest: d.Digest, Err: err}
		}
	}
	size, ok, err := a.src.size(blobPath(d.Digest))
	if err != nil {
		return false, &oci.Error{Op: "exists", Ref: repo, Digest: d.Digest, Err: err}
	}
	if !ok || d.Size > 0 && size != d.Size {
		return false, nil
	}
	if oci.IsManifest(d.MediaType) && a.root != nil {
		if err := validRepository(repo); err != nil {
			return false, &oci.Error{Op: "exists", Ref: repo, Digest: d.Digest, Err: err}
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if _, in := a.idx.has(repo, d.Digest); !in {
			a.idx.add(repo, d.Digest, d.MediaType)
			if err := a.saveIndexLocked(); err != nil {
				return false, &oci.Error{Op: "exists", Ref: repo, Digest: d.Digest, Err: err}
			}
		}
	}
	return true, nil
}

// Push stores the content of r as d, checking size and digest while it
// streams into a temporary file in blobs/ that is renamed only when it
// verified. A manifest (oci.IsManifest) also gets an untagged index entry
// in repo. Content already present is verified and not written again.
func (a *Archive) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	if err := a.writable("push", repo); err != nil {
		return err
	}
	fail := func(err error) error { return &oci.Error{Op: "push", Ref: repo, Digest: d.Digest, Err: err} }
	if err := validRepository(repo); err != nil {
		return fail(err)
	}
	if !validHex(d.Digest.Algorithm, d.Digest.Hex) {
		return fail(fmt.Errorf("digest %q: %w", d.Digest, oci.ErrUnsupported))
	}
	vr, err := oci.VerifyReader(r, d)
	if err != nil {
		return fail(err)
	}
	if err := a.reuseBlob(ctx, repo, d); err != nil {
		return fail(err)
	}
	name := blobPath(d.Digest)
	size, have, err := a.src.size(name)
	if err != nil {
		return fail(err)
	}
	if have && size == d.Size {
		if err := copyCtx(ctx, io.Discard, vr); err != nil {
			return fail(err)
		}
	} else if err := a.writeBlob(ctx, name, tmpBlobName(d), vr); err != nil {
		return fail(err)
	}
	if !oci.IsManifest(d.MediaType) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.idx.add(repo, d.Digest, d.MediaType)
	if err := a.saveIndexLocked(); err != nil {
		return fail(err)
	}
	return nil
}

// writeBlob streams r into a temporary file in blobs/ and renames it to
// name when r ended without error.
func (a *Archive) writeBlob(ctx context.Context, name, tmp string, r io.Reader) (err error) {
	f, err := a.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			a.root.Remove(tmp)
		}
	}()
	if err := copyCtx(ctx, f, r); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return a.root.Rename(tmp, name)
}

// copyCtx copies r to w, checking ctx between chunks.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) error {
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// saveIndexLocked writes artifact-index.json of a directory CTF through a
// temporary file and a rename; a tar being staged writes it on Close.
func (a *Archive) saveIndexLocked() error {
	if a.target != "" {
		return nil
	}
	tmp := IndexFile + ".tmp-" + randomSuffix()
	f, err := a.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", IndexFile, err)
	}
	_, err = f.Write(a.idx.marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = a.root.Rename(tmp, IndexFile)
	}
	if err != nil {
		a.root.Remove(tmp)
		return fmt.Errorf("writing %s: %w", IndexFile, err)
	}
	return nil
}

// Tag points ref's tag at manifest d, adding the tag or moving it. The
// manifest's blob must be in the archive (else an error wrapping
// oci.ErrNotFound); it need not have been pushed to ref's repository.
func (a *Archive) Tag(ctx context.Context, ref oci.Ref, d v1.Descriptor) error {
	if err := a.writable("tag", ref.String()); err != nil {
		return err
	}
	fail := func(err error) error { return &oci.Error{Op: "tag", Ref: ref.String(), Digest: d.Digest, Err: err} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	repo := ref.Repo()
	if err := validRepository(repo); err != nil {
		return fail(err)
	}
	if err := validTag(ref.Tag); err != nil {
		return fail(err)
	}
	if !validHex(d.Digest.Algorithm, d.Digest.Hex) {
		return fail(fmt.Errorf("digest %q: %w", d.Digest, oci.ErrNotFound))
	}
	if _, ok, err := a.src.size(blobPath(d.Digest)); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("ctf %s has no manifest blob %s: %w", a.path, blobPath(d.Digest), oci.ErrNotFound)
		}
		return fail(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.idx.add(repo, d.Digest, d.MediaType)
	a.idx.repos[repo].tags[ref.Tag] = d.Digest
	if err := a.saveIndexLocked(); err != nil {
		return fail(err)
	}
	return nil
}

// Mount makes blob d of repository from available in repository to. Blobs
// are shared by every repository of a CTF, so nothing is copied: Mount
// checks that the blob is there (else an error wrapping oci.ErrNotFound).
// Manifests are mounted by recording an untagged entry in to.
func (a *Archive) Mount(ctx context.Context, from, to string, d v1.Descriptor) error {
	if err := a.writable("mount", to); err != nil {
		return err
	}
	ok, err := a.Exists(ctx, to, d)
	if err != nil {
		return err
	}
	if !ok {
		return &oci.Error{Op: "mount", Ref: to, Digest: d.Digest, Err: fmt.Errorf("ctf %s has no blob %s: %w", a.path, blobPath(d.Digest), oci.ErrNotFound)}
	}
	return nil
}

// Tags lists the tags of repo; none when the archive has no such repository.
func (a *Archive) Tags(ctx context.Context, repo string) ([]string, error) {
	if err := a.readable("list", repo); err != nil {
		return nil, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []string
	if r := a.idx.repos[repo]; r != nil {
		for t := range r.tags {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Repositories lists the repositories of the index, sorted.
func (a *Archive) Repositories(ctx context.Context) ([]string, error) {
	if err := a.readable("list", ""); err != nil {
		return nil, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []string
	for r := range a.idx.repos {
		out = append(out, r)
	}
	slices.Sort(out)
	return out, nil
}

// Entries returns the index as OCM writes it: one entry per tag, an
// untagged entry for each manifest no tag of its repository points at,
// sorted.
func (a *Archive) Entries() []Entry {
	a.mu.RLock()
	defer a.mu.RUnlock()
	es := a.idx.entries()
	b := MarshalIndex(es)
	out, _ := ParseIndex(b) // sorted and de-duplicated, as written
	return out
}

// Blobs lists the digests of every blob in the archive, sorted by file name.
func (a *Archive) Blobs() ([]v1.Hash, error) {
	if err := a.readable("list", ""); err != nil {
		return nil, err
	}
	hs, err := a.src.blobs()
	if err != nil {
		return nil, fmt.Errorf("listing blobs of ctf %s: %w", a.path, err)
	}
	return hs, nil
}

// Verify re-hashes every blob of the archive and checks that every index
// entry's manifest is there. It returns the first problem, an *EntryError
// wrapping oci.ErrDigestMismatch or oci.ErrNotFound.
func (a *Archive) Verify(ctx context.Context) error {
	hs, err := a.Blobs()
	if err != nil {
		return err
	}
	for _, h := range hs {
		b, err := a.OpenBlob(h)
		if err != nil {
			return &EntryError{Archive: a.path, Entry: blobPath(h), Err: err}
		}
		vr, err := oci.VerifyReader(b, v1.Descriptor{Digest: h, Size: b.Size()})
		if err == nil {
			err = copyCtx(ctx, io.Discard, vr)
		}
		b.Close()
		if err != nil {
			return &EntryError{Archive: a.path, Entry: blobPath(h), Err: err}
		}
	}
	for i, e := range a.Entries() {
		if _, ok, err := a.src.size(blobPath(e.Digest)); err != nil || !ok {
			return &EntryError{Archive: a.path, Entry: fmt.Sprintf("%s entry %d (%s)", IndexFile, i, e),
				Err: fmt.Errorf("manifest %s has no blob: %w", e.Digest, oci.ErrNotFound)}
		}
	}
	return nil
}

// Close releases the archive. For a tar made by Create it first writes the
// tar (see Create); if that fails the staging directory is kept and Close
// may be called again. For a tgz it removes the decompressed copy. Close
// is idempotent.
func (a *Archive) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	if a.target != "" {
		if err := a.commitLocked(); err != nil {
			return err
		}
	}
	return a.releaseLocked()
}

// Abort closes an archive made by Create(…, FormatTar) without writing the
// tar, removing what was staged. On any other archive it is Close.
func (a *Archive) Abort() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	return a.releaseLocked()
}

func (a *Archive) releaseLocked() error {
	a.closed = true
	a.dropReuseLocked()
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	if a.tmpDir != "" {
		errs = append(errs, os.RemoveAll(a.tmpDir))
	}
	errs = append(errs, a.lock.Release())
	return errors.Join(errs...)
}

// commitLocked writes the staged tar to a temporary file next to the target
// and renames it into place.
func (a *Archive) commitLocked() error {
	dir := filepath.Dir(a.target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(a.target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing ctf %s: %w", a.target, err)
	}
	err = f.Chmod(0o644) // as a file the user writes; CreateTemp makes it private
	if err == nil {
		err = a.writeTarLocked(context.Background(), f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), a.target)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing ctf %s: %w", a.target, err)
	}
	return nil
}

// WriteTar writes the archive as a tar in OCM's canonical form
// (CTF-NATIVE.md §5.1), whatever its own form: artifact-index.json first,
// then the directory entry "blobs", then every blob as blobs/<alg>.<hex>
// sorted by name; no "./" prefix; USTAR headers with mode 0644 for files
// and 0755 for the directory, uid and gid 0, no user or group names, mtime
// 2022-01-01T00:00:00Z. The same content always gives the same bytes, and
// ocm leaves such a tar unchanged when it rewrites it. Files ferry ignored
// on Open are not written.
func (a *Archive) WriteTar(ctx context.Context, w io.Writer) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return fmt.Errorf("ctf %s: %w", a.path, ErrClosed)
	}
	return a.writeTarLocked(ctx, w)
}

func (a *Archive) writeTarLocked(ctx context.Context, w io.Writer) error {
	hs, err := a.src.blobs()
	if err != nil {
		return err
	}
	return writeCanonicalTar(ctx, w, a.idx.marshal(), hs, a.src)
}
