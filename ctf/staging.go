package ctf

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/lockfile"
	"github.com/ferry-oci/ferry/oci"
)

// WaitForLock sets how long Open (for writing) and Create wait while
// another writer holds the archive's lock, or until ctx ends. Default: no
// wait; a second writer fails at once with an error wrapping ErrLocked that
// names the holder's PID.
func WaitForLock(ctx context.Context, timeout time.Duration) Option {
	return func(o *options) { o.lockCtx, o.lockTimeout = ctx, timeout }
}

// ErrLocked: another writer holds the lock of the archive.
var ErrLocked = lockfile.ErrLocked

// lock takes the writer's lock of path (a file ".NAME.lock" beside it,
// locked with flock, which the kernel releases when the process dies).
func (o options) lock(path string) (*lockfile.Lock, error) {
	ctx := o.lockCtx
	if ctx == nil {
		ctx = context.Background()
	}
	return lockfile.Acquire(ctx, path, max(o.lockTimeout, 0))
}

// Reclaim is what a writer found that an interrupted write of the same
// archive left: blobs it reused because their digest checked out, and files
// it removed.
type Reclaim struct {
	Reused       int   `json:"reused"`
	ReusedBytes  int64 `json:"reusedBytes"`
	Removed      int   `json:"removed"`
	RemovedBytes int64 `json:"removedBytes"`
}

// Reclaimed reports what this writer has reused and removed of what an
// interrupted write left (staging directories of a tar, temporary blobs of
// a directory). A tar's leftover blobs are reused as the copy asks for them;
// the rest go when the archive is closed.
func (a *Archive) Reclaimed() Reclaim {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.reclaim
}

// tmpBlobName is the temporary name of blob d while it is written:
// blobs/.tmp-<alg>.<hex>-<size>-<random>, so that a later writer knows what
// it was meant to be.
func tmpBlobName(d v1.Descriptor) string {
	return BlobsDir + "/" + tmpPrefix + blobName(d.Digest) + "-" + strconv.FormatInt(d.Size, 10) + "-" + randomSuffix()
}

const tmpPrefix = ".tmp-"

// parseTmpBlob reads a temporary blob name (without "blobs/"); ok is false
// for names of older runs that do not say their digest.
func parseTmpBlob(name string) (v1.Hash, int64, bool) {
	rest, ok := strings.CutPrefix(name, tmpPrefix)
	if !ok {
		return v1.Hash{}, 0, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 {
		return v1.Hash{}, 0, false
	}
	h, ok := digestOfBlobName(parts[0])
	n, err := strconv.ParseInt(parts[1], 10, 64)
	return h, n, ok && err == nil && n >= 0
}

// reclaimDir, run under the writer's lock of a directory CTF, renames into
// place the temporary blobs a killed writer left complete (their size and
// digest check out) and removes the rest, with temporary index files.
func (a *Archive) reclaimDir(ctx context.Context) error {
	des, err := fs.ReadDir(a.root.FS(), BlobsDir)
	if err != nil {
		return fmt.Errorf("ctf %s: %w", a.path, err)
	}
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), tmpPrefix) || !de.Type().IsRegular() {
			continue
		}
		name := BlobsDir + "/" + de.Name()
		h, size, ok := parseTmpBlob(de.Name())
		if ok {
			if _, have, _ := a.src.size(blobPath(h)); !have {
				good, err := a.checkFile(ctx, name, h, size)
				if err != nil {
					return err
				}
				if good {
					if err := a.root.Rename(name, blobPath(h)); err != nil {
						return fmt.Errorf("ctf %s: %w", a.path, err)
					}
					a.reclaim.Reused++
					a.reclaim.ReusedBytes += size
					continue
				}
			}
		}
		a.removeStray(name)
	}
	roots, err := fs.ReadDir(a.root.FS(), ".")
	if err != nil {
		return fmt.Errorf("ctf %s: %w", a.path, err)
	}
	for _, de := range roots {
		if strings.HasPrefix(de.Name(), IndexFile+".tmp-") && de.Type().IsRegular() {
			a.removeStray(de.Name())
		}
	}
	return nil
}

func (a *Archive) removeStray(name string) {
	if fi, err := a.root.Lstat(name); err == nil {
		if a.root.Remove(name) == nil {
			a.reclaim.Removed++
			a.reclaim.RemovedBytes += fi.Size()
		}
	}
}

// checkFile reports whether file name in the root is size bytes hashing to h.
func (a *Archive) checkFile(ctx context.Context, name string, h v1.Hash, size int64) (bool, error) {
	f, err := a.root.Open(name)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() != size {
		return false, nil
	}
	hh, err := oci.NewHasher(h.Algorithm)
	if err != nil {
		return false, nil
	}
	if err := copyCtx(ctx, hh, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(hh.Sum(nil)) == h.Hex, nil
}

// reuseDir is where a tar's writer keeps, inside its staging directory, the
// blobs interrupted runs staged, until the copy asks for them.
const reuseDir = "reuse"

// stagingPattern matches the staging directories of a tar CTF being
// written; tmpTarPattern the temporary tars Close writes.
func stagingPattern(path string) string { return "." + filepath.Base(path) + ".staging-*" }
func tmpTarPattern(path string) string  { return "." + filepath.Base(path) + ".tmp-*" }

// adoptStaging, run under the writer's lock of a tar CTF with a fresh
// staging directory, moves the blobs of the staging directories of
// interrupted runs (in stageParent) into its reuse directory and removes
// everything else they and the temporary tars left.
func (a *Archive) adoptStaging(stageParent string) error {
	old, _ := filepath.Glob(filepath.Join(stageParent, stagingPattern(a.target)))
	tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(a.target), tmpTarPattern(a.target)))
	reuse := filepath.Join(a.tmpDir, reuseDir)
	for _, dir := range old {
		if filepath.Clean(dir) == filepath.Clean(a.tmpDir) {
			continue
		}
		for _, sub := range []string{BlobsDir, reuseDir} {
			des, _ := os.ReadDir(filepath.Join(dir, sub))
			for _, de := range des {
				h, ok := digestOfBlobName(de.Name())
				if !ok || !de.Type().IsRegular() {
					continue
				}
				if _, dup := a.reuse[h]; dup {
					continue
				}
				if err := os.MkdirAll(reuse, 0o755); err != nil {
					return fmt.Errorf("creating ctf %s: %w", a.target, err)
				}
				if err := os.Rename(filepath.Join(dir, sub, de.Name()), filepath.Join(reuse, de.Name())); err == nil {
					a.reuse[h] = reuseDir + "/" + de.Name()
				}
			}
		}
		a.reclaim.Removed += countFiles(dir, &a.reclaim.RemovedBytes)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("creating ctf %s: removing %s an interrupted run left: %w", a.target, dir, err)
		}
	}
	for _, t := range tmps {
		if fi, err := os.Lstat(t); err == nil && fi.Mode().IsRegular() && os.Remove(t) == nil {
			a.reclaim.Removed++
			a.reclaim.RemovedBytes += fi.Size()
		}
	}
	return nil
}

// removeStaging removes, when no writer holds the lock of the tar at path,
// the staging directories and temporary tars interrupted writers of it
// left: a writer killed after the tar was complete leaves them beside it.
func removeStaging(path string, o options) Reclaim {
	var rc Reclaim
	l, err := lockfile.Acquire(context.Background(), path, 0)
	if err != nil {
		return rc
	}
	defer l.Release()
	parents := []string{filepath.Dir(path)}
	if o.tempDir != "" {
		parents = append(parents, o.tempDir)
	}
	for _, dir := range parents {
		old, _ := filepath.Glob(filepath.Join(dir, stagingPattern(path)))
		tmps, _ := filepath.Glob(filepath.Join(dir, tmpTarPattern(path)))
		for _, p := range append(old, tmps...) {
			n := countFiles(p, &rc.RemovedBytes)
			if os.RemoveAll(p) == nil {
				rc.Removed += n
			}
		}
	}
	return rc
}

func countFiles(dir string, bytes *int64) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			if fi, err := de.Info(); err == nil {
				n++
				*bytes += fi.Size()
			}
		}
		return nil
	})
	return n
}

// reuseBlob moves blob d from the reuse directory into the staged archive
// when an interrupted run staged it and its size and digest check out;
// otherwise the file is dropped. It is a no-op for blobs not in the pool.
// A manifest is reused only with everything below it (the copy takes a
// manifest that exists as proof of its children, and asks for none of
// them): its children are taken from the pool too, and when one is
// missing the manifest is dropped, to be copied again with them.
func (a *Archive) reuseBlob(ctx context.Context, repo string, d v1.Descriptor) error {
	a.mu.Lock()
	name, ok := a.reuse[d.Digest]
	delete(a.reuse, d.Digest)
	a.mu.Unlock()
	if !ok {
		return nil
	}
	fi, err := a.root.Lstat(name)
	if err != nil {
		return nil
	}
	size := fi.Size()
	good := d.Size <= 0 || size == d.Size
	if good {
		if good, err = a.checkFile(ctx, name, d.Digest, size); err != nil {
			return err
		}
	}
	if good && oci.IsManifest(d.MediaType) {
		if good, err = a.reuseChildren(ctx, repo, name, d); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if good && a.root.Rename(name, blobPath(d.Digest)) == nil {
		a.reclaim.Reused++
		a.reclaim.ReusedBytes += size
		return nil
	}
	if a.root.Remove(name) == nil {
		a.reclaim.Removed++
		a.reclaim.RemovedBytes += size
	}
	return nil
}

// reuseChildren reuses what manifest d (the pool's file name) names and
// reports whether all of it is in the archive now.
func (a *Archive) reuseChildren(ctx context.Context, repo, name string, d v1.Descriptor) (bool, error) {
	f, err := a.root.Open(name)
	if err != nil {
		return false, nil
	}
	b, err := io.ReadAll(io.LimitReader(f, oci.MaxManifestBytes+1))
	f.Close()
	if err != nil || len(b) > oci.MaxManifestBytes {
		return false, nil
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return false, nil
	}
	for _, k := range kids {
		if err := a.reuseBlob(ctx, repo, k); err != nil {
			return false, err
		}
		if n, have, err := a.src.size(blobPath(k.Digest)); err != nil || !have || k.Size > 0 && n != k.Size {
			return false, nil
		}
	}
	// Manifests below are found through entries of the repository, as a
	// push would have recorded them (CTF-NATIVE.md §4.1).
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range kids {
		if oci.IsManifest(k.MediaType) {
			if _, in := a.idx.has(repo, k.Digest); !in {
				a.idx.add(repo, k.Digest, k.MediaType)
			}
		}
	}
	return true, nil
}

// dropReuse counts the leftover blobs no copy asked for as removed (Close
// removes the staging directory with them).
func (a *Archive) dropReuseLocked() {
	for _, name := range a.reuse {
		if fi, err := a.root.Lstat(name); err == nil {
			a.reclaim.Removed++
			a.reclaim.RemovedBytes += fi.Size()
		}
	}
	a.reuse = nil
}

// Stray is a file an interrupted write of a CTF left behind.
type Stray struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Strays lists what interrupted writes of the CTF at path left behind: for
// a directory, temporary blobs in blobs/ and temporary index files; for a
// tar, its staging directories and temporary tars beside it. The next write
// to the same path reuses or removes them. (While a writer runs, these are
// its own files.)
func Strays(path string) ([]Stray, error) {
	var out []Stray
	add := func(p string) {
		var n int64
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			countFiles(p, &n)
		} else if err == nil {
			n = fi.Size()
		} else {
			return
		}
		out = append(out, Stray{Path: p, Size: n})
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		tmp, _ := filepath.Glob(filepath.Join(path, BlobsDir, tmpPrefix+"*"))
		idx, _ := filepath.Glob(filepath.Join(path, IndexFile+".tmp-*"))
		for _, p := range append(tmp, idx...) {
			add(p)
		}
	} else {
		st, _ := filepath.Glob(filepath.Join(filepath.Dir(path), stagingPattern(path)))
		tt, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tmpTarPattern(path)))
		for _, p := range append(st, tt...) {
			add(p)
		}
	}
	return out, nil
}
