package bundle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/lockfile"
	"github.com/ferry-oci/ferry/oci"
)

// Errors of creating a bundle.
var (
	// ErrPartialExists: a partial bundle from an earlier create is in the
	// way; resume it (CreateOptions.Resume) or delete it.
	ErrPartialExists = errors.New("a partial bundle from an earlier run exists")
	// ErrPlanChanged: the partial bundle being resumed was laid out for
	// other content (the source changed, or other options were given).
	ErrPlanChanged = errors.New("the partial bundle was made for other content")
	// ErrIncomplete: the bundle cannot be finished because content it was
	// laid out for was never pushed.
	ErrIncomplete = errors.New("bundle incomplete")
	// ErrNoSpace: the disk has no room for the bundle; nothing was fetched
	// and the partial files are removed.
	ErrNoSpace = errors.New("not enough free space for the bundle")
)

// CreateOptions tune Create. The zero value writes one file, from scratch.
type CreateOptions struct {
	// VolumeSize cuts the bundle into volumes of this many bytes (the last
	// one shorter): FILE.000, FILE.001, …; 0 writes one file.
	VolumeSize int64
	// Resume continues the partial bundle an interrupted create left
	// (FILE.partial and its journal), when it was laid out for the same
	// content; without a partial bundle it starts afresh.
	Resume bool
	// MissingFrom leaves out every blob and manifest the inventory says its
	// registry holds: a differential bundle.
	MissingFrom *Inventory
	// Jobs bounds how many blobs are re-hashed at once when resuming; <= 0 means 4.
	Jobs int
	// LockTimeout is how long Create waits while another writer creates
	// the same bundle (each holds an OS lock on ".FILE.lock" beside it,
	// which the kernel releases when the process dies); 0 fails at once
	// with an error wrapping ErrLocked that names the holder's PID. The
	// wait also ends with LockContext, when set.
	LockTimeout time.Duration
	LockContext context.Context
}

// ErrLocked: another writer is creating the same bundle.
var ErrLocked = lockfile.ErrLocked

// Writer writes a bundle. Create returns it empty: an oci.Store that holds
// nothing, to plan a transfer against. Begin lays the bundle out for the
// planned content; the transfer engine then pushes into it (concurrently,
// in any order), and Close finishes the files.
//
// Every blob and manifest is written at its final place in FILE.partial
// (FILE.000.partial, … for volumes) while its digest is checked, and is
// recorded in the journal FILE.partial.journal when complete. Exists and
// Resolve answer from the journal; Tag checks the tag against the layout
// (all tags are in artifact-index.json from the start; a reader cannot tell
// because a partial bundle never has the bundle's name). The methods are
// safe for concurrent use.
type Writer struct {
	path string
	o    CreateOptions

	mu       sync.Mutex
	lay      *layout
	vols     *volumeSet
	journal  *os.File
	done     map[v1.Hash]bool
	inflight map[v1.Hash]chan struct{}
	leftOut  map[v1.Hash]HeldBlob
	known    map[v1.Hash]bool // written by Begin from the plan's bytes (writeKnown)
	resumed  Resumed
	closed   bool
	side     *sidecarHasher // hashes the volumes for the sidecar while they are written
	lock     *lockfile.Lock
}

var _ oci.Store = (*Writer)(nil)

// Resumed is what a resumed create found complete in the partial bundle.
type Resumed struct {
	Blobs   int   `json:"blobs"`
	Bytes   int64 `json:"bytes"`
	Damaged int   `json:"damaged"` // entries the journal listed whose bytes no longer hash right
}

func partialName(p string) string { return p + ".partial" }
func journalName(p string) string { return p + ".partial.journal" }

// Create prepares the bundle path. It fails when path (or its first volume)
// exists, and with ErrPartialExists when an interrupted create left a
// partial bundle and o.Resume is not set.
func Create(path string, o CreateOptions) (*Writer, error) {
	if o.VolumeSize < 0 {
		return nil, fmt.Errorf("creating bundle %s: volume size %d", path, o.VolumeSize)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating bundle %s: %w", path, err)
	}
	ctx := o.LockContext
	if ctx == nil {
		ctx = context.Background()
	}
	// Checked under the lock: a create that waited for another finds its
	// bundle there.
	l, err := lockfile.Acquire(ctx, path, max(o.LockTimeout, 0))
	if err != nil {
		return nil, fmt.Errorf("creating bundle %s: %w", path, err)
	}
	for _, p := range []string{path, path + ".000"} {
		if _, err := os.Lstat(p); err == nil {
			l.Release()
			return nil, fmt.Errorf("creating bundle %s: %s: %w", path, p, fs.ErrExist)
		}
	}
	if _, err := os.Lstat(journalName(path)); err == nil && !o.Resume {
		l.Release()
		return nil, fmt.Errorf("creating bundle %s: %s: %w", path, journalName(path), ErrPartialExists)
	}
	return &Writer{path: path, o: o, done: map[v1.Hash]bool{}, inflight: map[v1.Hash]chan struct{}{}, leftOut: map[v1.Hash]HeldBlob{}, lock: l}, nil
}

// Begin lays the bundle out for c and opens its files: new ones, or, when
// resuming, the partial ones with the same layout, whose journal entries
// are all re-hashed (a torn write or a lost page after a crash is found
// there, and that content is fetched again). It returns ErrPlanChanged when
// the partial bundle was laid out differently.
func (w *Writer) Begin(ctx context.Context, c Contents) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay != nil {
		return fmt.Errorf("bundle %s: Begin called twice", w.path)
	}
	var lo *LeftOut
	if inv := w.o.MissingFrom; inv != nil {
		lo = &LeftOut{Base: inv.Base, Inventory: inv.digest()}
		for _, e := range c.Entries {
			d := e.Descriptor
			if _, ok := w.leftOut[d.Digest]; ok || keepsDescriptors(d.MediaType) {
				continue
			}
			if e.Manifest && ocireg.IsComponentRepo(e.Repo) {
				continue
			}
			if repo, ok := inv.holds(d.Digest); ok {
				hb := HeldBlob{Repository: repo, Digest: d.Digest, Size: d.Size, MediaType: d.MediaType, Manifest: e.Manifest}
				w.leftOut[d.Digest] = hb
				lo.Blobs = append(lo.Blobs, hb)
			}
		}
	}
	lay, err := newLayout(c, w.leftOut, lo, w.o.VolumeSize)
	if err != nil {
		return err
	}
	names := volumeNames(w.path, lay.size, w.o.VolumeSize)
	sizes := volumeSizes(lay.size, w.o.VolumeSize, len(names))
	done, err := w.openFiles(ctx, lay, names, sizes)
	if err != nil {
		return err
	}
	w.lay = lay
	for _, c := range lay.chunks {
		if _, err := w.vols.WriteAt(c.data, c.off); err != nil {
			w.releaseLocked()
			return fmt.Errorf("writing bundle %s: %w", w.path, err)
		}
	}
	for h, s := range lay.slots {
		if s.data != nil {
			w.done[h] = true
		}
	}
	for h := range done {
		w.done[h] = true
	}
	inPlace, err := w.writeKnown(c.Entries)
	if err != nil {
		w.releaseLocked()
		return err
	}
	w.side = newSidecarHasher(w.vols, lay, inPlace)
	return nil
}

// writeKnown writes, at its place, the content of every entry that carries
// it and is not complete yet, and returns what is in place: that and
// everything complete. Manifests and component descriptors lie between the
// blobs in OCM's order but are pushed after them; written now, they no
// longer hold the sidecar hasher back until the last blob arrives. They
// stay out of the journal and of w.done until pushed, so the engine treats
// them as it does any other write; their push checks the bytes it is sent
// and writes nothing, so bytes that fail the check never overwrite them.
func (w *Writer) writeKnown(entries []Entry) (map[v1.Hash]bool, error) {
	inPlace := maps.Clone(w.done)
	w.known = map[v1.Hash]bool{}
	for _, e := range entries {
		d := e.Descriptor
		s, ok := w.lay.slots[d.Digest]
		if !ok || e.Data == nil || s.data != nil || inPlace[d.Digest] || int64(len(e.Data)) != s.desc.Size {
			continue
		}
		if _, left := w.leftOut[d.Digest]; left {
			continue
		}
		if oci.Digest(e.Data) != d.Digest {
			continue // not what the layout holds: the push will say so
		}
		if _, err := w.vols.WriteAt(e.Data, s.off); err != nil {
			return nil, fmt.Errorf("writing bundle %s: %w", w.path, err)
		}
		inPlace[d.Digest] = true
		w.known[d.Digest] = true
	}
	return inPlace, nil
}

// openFiles creates the partial files and journal, or reopens them when
// resuming, and returns what the journal proves complete.
func (w *Writer) openFiles(ctx context.Context, lay *layout, names []string, sizes []int64) (map[v1.Hash]bool, error) {
	header := "ferry-bundle-journal v1 " + lay.hash.String() + "\n"
	jb, err := os.ReadFile(journalName(w.path))
	if err == nil && w.o.Resume {
		first, rest, _ := bytes.Cut(jb, []byte("\n"))
		if string(first)+"\n" != header {
			return nil, fmt.Errorf("resuming bundle %s: %s: %w (delete the partial files to start afresh)", w.path, journalName(w.path), ErrPlanChanged)
		}
		files := make([]*os.File, len(names))
		for i, n := range names {
			f, err := os.OpenFile(partialName(n), os.O_RDWR, 0)
			if err == nil {
				var fi os.FileInfo
				if fi, err = f.Stat(); err == nil && fi.Size() != sizes[i] {
					err = fmt.Errorf("%d bytes, want %d: %w", fi.Size(), sizes[i], ErrVolumeSize)
				}
			}
			if err != nil {
				closeAll(files)
				return nil, fmt.Errorf("resuming bundle %s: %s: %w", w.path, partialName(n), err)
			}
			files[i] = f
		}
		w.vols = newVolumeSet(files, names, sizes)
		done, err := w.recheck(ctx, lay, rest)
		if err != nil {
			w.vols.Close()
			return nil, err
		}
		if w.journal, err = os.OpenFile(journalName(w.path), os.O_WRONLY|os.O_APPEND, 0); err != nil {
			w.vols.Close()
			return nil, fmt.Errorf("resuming bundle %s: %w", w.path, err)
		}
		if !bytes.HasSuffix(jb, []byte("\n")) { // a torn last line: end it
			if _, err := w.journal.WriteString("\n"); err != nil {
				w.releaseLocked()
				return nil, fmt.Errorf("resuming bundle %s: %w", w.path, err)
			}
		}
		return done, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("creating bundle %s: %w", w.path, err)
	}
	// Afresh: truncate whatever an older run left (Create refused it unless
	// Resume was set), and reserve the bundle's space.
	files := make([]*os.File, len(names))
	err = nil
	for i, n := range names {
		if files[i], err = os.OpenFile(partialName(n), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			break
		}
	}
	if err == nil {
		err = reserve(files, sizes)
	}
	if err != nil {
		closeAll(files)
		for i, f := range files { // they hold nothing yet
			if f != nil {
				os.Remove(partialName(names[i]))
			}
		}
		return nil, fmt.Errorf("creating bundle %s: %w", w.path, err)
	}
	w.vols = newVolumeSet(files, names, sizes)
	j, err := os.OpenFile(journalName(w.path), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err == nil {
		_, err = j.WriteString(header)
	}
	if err != nil {
		if j != nil {
			j.Close()
		}
		w.vols.Close()
		return nil, fmt.Errorf("creating bundle %s: %w", w.path, err)
	}
	w.journal = j
	return map[v1.Hash]bool{}, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// recheck re-hashes every entry the journal lists. All of them, not only
// the last few: after a crash (rather than a killed process) the journal
// may have reached the disk while the data it vouches for did not, in any
// order; reading the bundle back costs seconds where fetching it costs
// minutes. If anything is damaged, manifests are not trusted either
// (the engine takes a manifest that exists as proof of all below it), so
// they are pushed again; they are small.
func (w *Writer) recheck(ctx context.Context, lay *layout, lines []byte) (map[v1.Hash]bool, error) {
	var cands []v1.Hash
	seen := map[v1.Hash]bool{}
	sc := bufio.NewScanner(bytes.NewReader(lines))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue // a torn line
		}
		h, err := v1.NewHash(f[0])
		n, nerr := strconv.ParseInt(f[1], 10, 64)
		if err != nil || nerr != nil || seen[h] || !lay.planned(h) || lay.slots[h].desc.Size != n {
			continue
		}
		seen[h] = true
		cands = append(cands, h)
	}
	var mu sync.Mutex
	done := map[v1.Hash]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs(w.o.Jobs))
	for _, h := range cands {
		g.Go(func() error {
			s := lay.slots[h]
			ok, err := hashes(gctx, io.NewSectionReader(w.vols, s.off, s.desc.Size), h)
			if err != nil {
				return fmt.Errorf("resuming bundle %s: re-reading %s: %w", w.path, h, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				done[h] = true
				w.resumed.Blobs++
				w.resumed.Bytes += s.desc.Size
			} else {
				w.resumed.Damaged++
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if w.resumed.Damaged > 0 {
		for h := range done {
			if isManifestIn(lay.repos, h) {
				delete(done, h)
				w.resumed.Blobs--
				w.resumed.Bytes -= lay.slots[h].desc.Size
			}
		}
	}
	return done, nil
}

func jobs(n int) int {
	if n <= 0 {
		return 4
	}
	return n
}

// check reads r to its end and fails unless it is d's content.
func check(ctx context.Context, d v1.Descriptor, r io.Reader) error {
	vr, err := oci.VerifyReader(r, d)
	if err != nil {
		return err
	}
	return copyCtx(ctx, io.Discard, vr)
}

// hashes reports whether r's content hashes to h.
func hashes(ctx context.Context, r io.Reader, h v1.Hash) (bool, error) {
	hh, err := oci.NewHasher(h.Algorithm)
	if err != nil {
		return false, err
	}
	if err := copyCtx(ctx, hh, r); err != nil {
		return false, err
	}
	return hex.EncodeToString(hh.Sum(nil)) == h.Hex, nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// bufSize is the step of every copy into and out of a bundle: a pushed blob is
// written in pwrites of this size. 256 KiB keeps the buffers of eight concurrent
// pushes at 2 MiB (1 MiB steps held 8 MiB of a process's resident memory).
const bufSize = 256 << 10

// copyCtx copies r to w in bufSize steps, checking ctx between them.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Resumed reports what Begin found complete in a partial bundle.
func (w *Writer) Resumed() Resumed {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.resumed
}

// Metadata returns the metadata the bundle will hold; nil before Begin.
func (w *Writer) Metadata() *Metadata {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay == nil {
		return nil
	}
	return w.lay.meta
}

// Size returns the length of the bundle's tar; 0 before Begin.
func (w *Writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay == nil {
		return 0
	}
	return w.lay.size
}

func (w *Writer) fail(op, ref string, d v1.Hash, err error) error {
	return &oci.Error{Op: op, Ref: ref, Digest: d, Err: err}
}

// Exists reports whether d is complete in the bundle, or left out of it
// because the target holds it already.
func (w *Writer) Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, w.fail("exists", repo, d.Digest, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.leftOut[d.Digest]; ok {
		return true, nil
	}
	if w.lay == nil || !w.done[d.Digest] {
		return false, nil
	}
	return d.Size <= 0 || w.lay.slots[d.Digest].desc.Size == d.Size, nil
}

// Push writes the content of r at d's place in the bundle, checking size
// and digest while it streams. Content the layout has no place for fails
// with oci.ErrUnsupported; content already complete is not read again.
func (w *Writer) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	w.mu.Lock()
	if w.lay == nil || w.closed {
		w.mu.Unlock()
		return w.fail("push", repo, d.Digest, fmt.Errorf("bundle %s is not open for writing: %w", w.path, oci.ErrUnsupported))
	}
	s, ok := w.lay.slots[d.Digest]
	if !ok {
		w.mu.Unlock()
		return w.fail("push", repo, d.Digest, fmt.Errorf("bundle %s was not laid out for it: %w", w.path, oci.ErrUnsupported))
	}
	if s.desc.Size != d.Size {
		w.mu.Unlock()
		return w.fail("push", repo, d.Digest, fmt.Errorf("%w: laid out for %d bytes, pushed as %d", oci.ErrSizeMismatch, s.desc.Size, d.Size))
	}
	for {
		if w.done[d.Digest] {
			w.mu.Unlock()
			return nil
		}
		ch, busy := w.inflight[d.Digest]
		if !busy {
			break
		}
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return w.fail("push", repo, d.Digest, ctx.Err())
		}
		w.mu.Lock()
	}
	ch := make(chan struct{})
	w.inflight[d.Digest] = ch
	known := w.known[d.Digest]
	w.mu.Unlock()

	var err error
	if known {
		err = check(ctx, s.desc, r)
	} else {
		err = w.write(ctx, s, r)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		if _, jerr := fmt.Fprintf(w.journal, "%s %d\n", d.Digest, d.Size); jerr != nil {
			err = fmt.Errorf("writing the journal %s: %w", journalName(w.path), jerr)
		}
	}
	if err != nil {
		w.side.failed(d.Digest) // before another push may start over
	}
	delete(w.inflight, d.Digest)
	close(ch)
	if err != nil {
		return w.fail("push", repo, d.Digest, err)
	}
	w.done[d.Digest] = true
	w.side.completed(d.Digest)
	return nil
}

// writebackStep is how many bytes of a blob write hands to the kernel's
// writeback at once (startWriteback).
const writebackStep = 8 << 20

// write streams r into slot s, hashing as it goes, tells the sidecar hasher
// how far it has come, and starts the kernel's writeback of what it wrote
// every writebackStep bytes.
func (w *Writer) write(ctx context.Context, s *slot, r io.Reader) error {
	// The copy engine hands over a reader that verifies already; VerifyReader
	// returns it as it is, so the bytes are hashed once on their way in.
	vr, err := oci.VerifyReader(r, s.desc)
	if err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var n, flushed int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, rerr := io.ReadFull(vr, buf)
		if k > 0 {
			if n+int64(k) > s.desc.Size {
				return fmt.Errorf("%w: more than the %d bytes laid out", oci.ErrSizeMismatch, s.desc.Size)
			}
			w.side.await(s.off + n + int64(k))
			if _, err := w.vols.WriteAt(buf[:k], s.off+n); err != nil {
				return fmt.Errorf("writing bundle %s: %w", w.path, err)
			}
			n += int64(k)
			w.side.wrote(s.desc.Digest, n)
			// Let the disk work while the blobs arrive, not all in Close's fsync.
			if n-flushed >= writebackStep || n == s.desc.Size {
				w.vols.startWriteback(s.off+flushed, n-flushed)
				flushed = n
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr // ErrDigestMismatch or ErrSizeMismatch from the verifying reader, or the source's error
		}
	}
	if n != s.desc.Size {
		return fmt.Errorf("%w: got %d bytes, want %d", oci.ErrSizeMismatch, n, s.desc.Size)
	}
	return nil
}

// Resolve finds a complete manifest of the bundle by tag or digest. A
// manifest left out of a differential bundle resolves too (the target has
// it), so the engine sets no tag on it here.
func (w *Writer) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return v1.Descriptor{}, w.fail("resolve", ref.String(), ref.Digest, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	notFound := w.fail("resolve", ref.String(), ref.Digest, fmt.Errorf("not in bundle %s: %w", w.path, oci.ErrNotFound))
	if w.lay == nil {
		return v1.Descriptor{}, notFound
	}
	h := ref.Digest
	if h == (v1.Hash{}) {
		var ok bool
		if h, ok = w.lay.tags[ref.Repo()+":"+ref.Tag]; !ok {
			return v1.Descriptor{}, notFound
		}
	}
	if lo, ok := w.leftOut[h]; ok && lo.Manifest {
		return lo.Descriptor(), nil
	}
	mt, ok := w.lay.repos[ref.Repo()][h]
	if !ok || !w.done[h] {
		return v1.Descriptor{}, notFound
	}
	return v1.Descriptor{MediaType: mt, Size: w.lay.slots[h].desc.Size, Digest: h}, nil
}

// Fetch reads complete content back from the partial bundle.
func (w *Writer) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, w.fail("fetch", repo, d.Digest, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay == nil || !w.done[d.Digest] {
		return nil, w.fail("fetch", repo, d.Digest, fmt.Errorf("not in bundle %s: %w", w.path, oci.ErrNotFound))
	}
	s := w.lay.slots[d.Digest]
	return io.NopCloser(io.NewSectionReader(w.vols, s.off, s.desc.Size)), nil
}

// Tag checks that the layout gives ref's tag to d: every tag is written in
// artifact-index.json by Begin. Tags of manifests a differential bundle
// left out are accepted and not recorded (the import sets them).
func (w *Writer) Tag(ctx context.Context, ref oci.Ref, d v1.Descriptor) error {
	if err := ctx.Err(); err != nil {
		return w.fail("tag", ref.String(), d.Digest, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.leftOut[d.Digest]; ok {
		return nil
	}
	if w.lay == nil || w.lay.tags[ref.Repo()+":"+ref.Tag] != d.Digest {
		return w.fail("tag", ref.String(), d.Digest, fmt.Errorf("bundle %s was not laid out with this tag: %w", w.path, oci.ErrUnsupported))
	}
	if !w.done[d.Digest] {
		return w.fail("tag", ref.String(), d.Digest, fmt.Errorf("the manifest is not in bundle %s yet: %w", w.path, oci.ErrNotFound))
	}
	return nil
}

// BlobOrder lists the blobs the layout waits for in the order they lie in
// the file. The transfer engine pushes in this order (see transfer's
// blobOrderer), so that the sidecar hasher, which can only hash the file's
// completed prefix, keeps up with the pushes.
func (w *Writer) BlobOrder() []v1.Hash {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay == nil {
		return nil
	}
	return append([]v1.Hash(nil), w.lay.order...)
}

// Missing lists what the layout still waits for, by digest.
func (w *Writer) Missing() []v1.Hash {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay == nil {
		return nil
	}
	var out []v1.Hash
	for _, h := range w.lay.order {
		if !w.done[h] {
			out = append(out, h)
		}
	}
	return out
}

// Close finishes the bundle: it checks that everything laid out is
// complete (else ErrIncomplete, and the partial bundle stays for a resume),
// syncs the files, renames them to their final names (the first volume
// last), writes the FILE.sha256 sidecar and removes the journal. It returns
// the paths of the bundle's files.
func (w *Writer) Close() ([]Volume, error) {
	if miss := w.Missing(); len(miss) > 0 {
		return nil, fmt.Errorf("finishing bundle %s: %d blobs never written, the first %s: %w", w.path, len(miss), miss[0], ErrIncomplete)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lay == nil || w.closed {
		return nil, fmt.Errorf("finishing bundle %s: not begun or closed: %w", w.path, ErrIncomplete)
	}
	if err := w.vols.sync(); err != nil {
		return nil, fmt.Errorf("finishing bundle %s: %w", w.path, err)
	}
	// The volumes were hashed while they were written (sidecar.go); what
	// is left is the part after the first slot that completed late.
	sums, err := w.side.wait()
	if err != nil {
		return nil, fmt.Errorf("finishing bundle %s: hashing: %w", w.path, err)
	}
	lines := make([]sidecarLine, len(sums))
	for i, sum := range sums {
		lines[i] = sidecarLine{Sum: sum, Name: filepath.Base(w.vols.names[i])}
	}
	w.releaseLocked()
	var vols []Volume
	for i := len(w.vols.names) - 1; i >= 0; i-- {
		n := w.vols.names[i]
		if err := os.Rename(partialName(n), n); err != nil {
			return nil, fmt.Errorf("finishing bundle %s: %w", w.path, err)
		}
		vols = append([]Volume{{Path: n, Size: w.vols.sizes[i]}}, vols...)
	}
	sidecar := w.path + ".sha256"
	tmp := sidecar + ".partial"
	if err := os.WriteFile(tmp, formatSidecar(lines), 0o644); err != nil {
		return nil, fmt.Errorf("finishing bundle %s: %w", w.path, err)
	}
	if err := os.Rename(tmp, sidecar); err != nil {
		return nil, fmt.Errorf("finishing bundle %s: %w", w.path, err)
	}
	if err := os.Remove(journalName(w.path)); err != nil {
		return nil, fmt.Errorf("finishing bundle %s: %w", w.path, err)
	}
	if err := w.lock.Release(); err != nil {
		return nil, fmt.Errorf("finishing bundle %s: %w", w.path, err)
	}
	return vols, nil
}

// Abort stops writing and keeps the partial bundle and its journal, so that
// a create with Resume continues where this one stopped.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.releaseLocked(), w.lock.Release())
}

// Discard stops writing and removes the partial bundle and its journal.
func (w *Writer) Discard() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.lock.Release()
	err := w.releaseLocked()
	if w.vols != nil {
		for _, n := range w.vols.names {
			if rerr := os.Remove(partialName(n)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
	}
	if rerr := os.Remove(journalName(w.path)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

func (w *Writer) releaseLocked() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.side != nil {
		w.side.halt() // it reads the files
	}
	var errs []error
	if w.vols != nil {
		errs = append(errs, w.vols.Close())
	}
	if w.journal != nil {
		errs = append(errs, w.journal.Close())
	}
	return errors.Join(errs...)
}
