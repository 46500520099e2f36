package bundle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// VerifyOptions tune Verify. The zero value works.
type VerifyOptions struct {
	// Jobs is how many blobs are hashed at once; <= 0 means 4.
	Jobs int
}

// Report is what Verify found.
type Report struct {
	Path     string         `json:"path"`
	Volumes  []VolumeReport `json:"volumes,omitempty"`
	Sidecar  bool           `json:"sidecar"`  // FILE.sha256 was there and checked
	Metadata bool           `json:"metadata"` // ferry metadata was there and checked
	// Blobs and Bytes count the blobs (manifests included) of the
	// content, without ferry's metadata artifact: the figures bundle
	// create and inspect give.
	Blobs      int   `json:"blobs"`
	Bytes      int64 `json:"bytes"`
	Manifests  int   `json:"manifests"`
	Components int   `json:"components"`
	LeftOut    int   `json:"leftOut,omitempty"`
	// Trailer is Bundle.Trailer: a volume listing appended after the tar.
	Trailer  int64     `json:"trailer,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
	// Strays are files interrupted writes of a CTF left (see ctf.Strays):
	// not part of it, and not damage; the next write reuses or removes them.
	Strays []ctf.Stray `json:"strays,omitempty"`
	// Volume says one volume was checked against the sidecar alone
	// (VerifyVolume).
	Volume bool `json:"-"`
}

// VolumeReport is one file of a verified bundle.
type VolumeReport struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	OK     bool   `json:"ok"`
}

// Problem is one thing wrong with a bundle.
type Problem struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"` // in File; -1 when not known
	Entry  string `json:"entry,omitempty"`
	Error  string `json:"error"`

	err *DamageError
	vol int
}

// Verify checks the bundle at path (see Open for what path may be): the
// volumes against FILE.sha256, every blob re-hashed (Jobs at once), every
// manifest's children present with the index entries ocm needs, every
// component version's local blobs and relative image references present,
// and, with ferry metadata, that the metadata and the tar agree. Content a
// differential bundle left out counts as present. It returns the report and,
// when anything is wrong, the first problem (lowest volume and offset) as a
// *DamageError.
func Verify(ctx context.Context, path string, o VerifyOptions) (*Report, error) {
	rep := &Report{Path: path}
	// The sidecar first: it puts damage on the volume it is in, wherever in
	// the volume it is, even where it keeps the tar from being read.
	sideVols, sideProbs, err := checkSidecar(ctx, path)
	if err != nil {
		return rep, err
	}
	for i, de := range sideProbs {
		rep.Problems = append(rep.Problems, problem(de, i-len(sideProbs))) // before every other problem
	}
	rep.Volumes, rep.Sidecar = sideVols, sideVols != nil
	b, err := Open(ctx, path)
	if err != nil {
		var de *DamageError
		if errors.As(err, &de) && !slices.ContainsFunc(sideProbs, func(s *DamageError) bool { return s.File == de.File }) {
			rep.Problems = append(rep.Problems, problem(de, len(rep.Problems)))
		}
		if len(sideProbs) > 0 {
			return rep, sideProbs[0]
		}
		return rep, err
	}
	defer b.Close()
	rep.Path, rep.Metadata, rep.Trailer = b.Path, b.Metadata != nil, b.Trailer
	rep.Strays = strays(b)
	v := &verifier{b: b, rep: rep, jobs: jobs(o.Jobs)}
	if sideVols == nil {
		rep.Sidecar = b.Sidecar
		for _, vol := range b.Volumes {
			rep.Volumes = append(rep.Volumes, VolumeReport{Path: vol.Path, Size: vol.Size, OK: true})
		}
	}
	if err := v.blobs(ctx); err != nil {
		return rep, err
	}
	if sideVols == nil {
		if err := v.volumes(ctx); err != nil {
			return rep, err
		}
	}
	if err := v.closure(ctx); err != nil {
		return rep, err
	}
	if err := v.padding(ctx); err != nil {
		return rep, err
	}
	v.metadata()
	rep.LeftOut = len(b.LeftOut())
	if len(rep.Problems) == 0 {
		return rep, nil
	}
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int {
		if c := cmp.Compare(a.vol, b.vol); c != 0 {
			return c
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
	if len(sideProbs) == 0 {
		return rep, rep.Problems[0].err
	}
	// The sidecar named the damaged volumes: the first problem found at an
	// offset in one of them says most; else the sidecar's own.
	flagged := map[string]bool{}
	for _, de := range sideProbs {
		flagged[de.File] = true
	}
	for _, p := range rep.Problems {
		if p.Offset >= 0 && flagged[p.File] {
			return rep, p.err
		}
	}
	return rep, sideProbs[0]
}

// strays lists what interrupted writes left beside or inside a CTF the
// bundle is (a directory, or a tar made by transfer), and the partial files
// of an interrupted create of the same path.
func strays(b *Bundle) []ctf.Stray {
	var out []ctf.Stray
	if len(b.Volumes) <= 1 {
		out, _ = ctf.Strays(b.Path)
	}
	partial, _ := filepath.Glob(partialName(b.Path) + "*")
	vols, _ := filepath.Glob(b.Path + ".[0-9]*.partial")
	partial = append(partial, vols...)
	for _, p := range partial {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, ctf.Stray{Path: p, Size: fi.Size()})
		}
	}
	return out
}

func problem(de *DamageError, vol int) Problem {
	return Problem{File: de.File, Offset: de.Offset, Entry: de.Entry, Error: de.Err.Error(), err: de, vol: vol}
}

type verifier struct {
	b    *Bundle
	rep  *Report
	jobs int

	mu      sync.Mutex
	present map[v1.Hash]int64
}

func (v *verifier) add(de *DamageError) {
	vol := 0
	for i, x := range v.b.Volumes {
		if x.Path == de.File {
			vol = i
		}
	}
	if de.Offset < 0 {
		vol = len(v.b.Volumes) + vol // known offsets first
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rep.Problems = append(v.rep.Problems, problem(de, vol))
}

// blobs re-hashes every blob of the archive.
func (v *verifier) blobs(ctx context.Context) error {
	hs, err := v.b.Archive.Blobs()
	if err != nil {
		return err
	}
	v.present = map[v1.Hash]int64{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.jobs)
	for _, h := range hs {
		g.Go(func() error {
			f, err := v.b.Archive.OpenBlob(h)
			if err != nil {
				return err
			}
			defer f.Close()
			ok, err := hashes(gctx, f, h)
			if err != nil {
				return fmt.Errorf("reading %s: %w", blobName(h), err)
			}
			v.mu.Lock()
			v.present[h] = f.Size()
			if !slices.Contains(v.b.metaHash, h) {
				v.rep.Blobs++
				v.rep.Bytes += f.Size()
			}
			v.mu.Unlock()
			if !ok {
				off, _, _ := v.b.Archive.BlobOffset(h)
				if _, _, tar := v.b.Archive.BlobOffset(h); !tar {
					off = -1
				}
				v.add(v.b.damageAt(off, blobName(h), fmt.Errorf("%w: the content does not hash to its name", oci.ErrDigestMismatch)))
			}
			return nil
		})
	}
	return g.Wait()
}

// ErrStrayBytes: bytes of a tar bundle outside every entry (padding, the end
// of the archive) are not zeros: the file was damaged there.
var ErrStrayBytes = errors.New("bytes outside every tar entry are not zero")

// padding checks the bytes of a tar bundle that belong to no entry: the
// padding after each blob up to the next 512-byte block and the end of the
// archive must be zeros, as every tar writer (and ferry's layout) leaves
// them. Headers carry their own checksum, which reading the tar checked;
// with this every byte of the file is accounted for, so a flipped bit
// anywhere is found, not only in blob content.
func (v *verifier) padding(ctx context.Context) error {
	r, size, closeFn, err := v.b.raw()
	if err != nil || r == nil {
		return err
	}
	defer closeFn()
	hs, err := v.b.Archive.Blobs()
	if err != nil {
		return err
	}
	var end int64
	buf := make([]byte, 32<<10)
	zeros := func(off, n int64, what string) error {
		for n > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			chunk := buf[:min(n, int64(len(buf)))]
			if _, err := r.ReadAt(chunk, off); err != nil {
				return fmt.Errorf("reading %s: %w", v.b.Path, err)
			}
			for i, c := range chunk {
				if c != 0 {
					v.add(v.b.damageAt(off+int64(i), what, fmt.Errorf("%w: byte %#x", ErrStrayBytes, c)))
					return nil
				}
			}
			off, n = off+int64(len(chunk)), n-int64(len(chunk))
		}
		return nil
	}
	for _, h := range hs {
		off, n, ok := v.b.Archive.BlobOffset(h)
		if !ok {
			return nil // not read in place from a tar
		}
		pad := (512 - n%512) % 512
		if err := zeros(off+n, pad, "padding after "+blobName(h)); err != nil {
			return err
		}
		end = max(end, off+n+pad)
	}
	if end == 0 || end > size {
		return nil
	}
	return zeros(end, size-end, "end of archive")
}

// volumes hashes every volume and compares with the sidecar.
func (v *verifier) volumes(ctx context.Context) error {
	if !v.b.Sidecar || v.b.vols == nil {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i, f := range v.b.vols.files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			sum, err := hashFile(f, v.b.vols.sizes[i])
			if err != nil {
				return fmt.Errorf("hashing %s: %w", v.b.vols.names[i], err)
			}
			v.mu.Lock()
			v.rep.Volumes[i].SHA256 = sum
			v.rep.Volumes[i].OK = sum == v.b.sidecar[i].Sum
			v.mu.Unlock()
			if sum != v.b.sidecar[i].Sum {
				v.add(&DamageError{File: v.b.vols.names[i], Offset: -1, Err: fmt.Errorf("%w: sha256 %s, %s lists %s", ErrChecksum, sum, v.b.Path+".sha256", v.b.sidecar[i].Sum)})
			}
			return nil
		})
	}
	return g.Wait()
}

func (v *verifier) has(h v1.Hash) bool {
	if _, ok := v.present[h]; ok {
		return true
	}
	for _, hb := range v.b.LeftOut() {
		if hb.Digest == h {
			return true
		}
	}
	return false
}

func (v *verifier) missing(entry string, err error) {
	v.add(&DamageError{File: v.b.first(), Offset: -1, Entry: entry, Err: err})
}

// closure checks that everything the index and the descriptors name is there.
func (v *verifier) closure(ctx context.Context) error {
	a := v.b.Archive
	left := map[v1.Hash]bool{}
	for _, hb := range v.b.LeftOut() {
		left[hb.Digest] = true
	}
	indexed := map[string]bool{}
	for _, e := range a.Entries() {
		indexed[e.Repository+"@"+e.Digest.String()] = true
	}
	seen := map[string]bool{}
	var walk func(repo string, d v1.Descriptor, what string) error
	walk = func(repo string, d v1.Descriptor, what string) error {
		k := repo + "@" + d.Digest.String()
		if seen[k] {
			return nil
		}
		seen[k] = true
		if left[d.Digest] {
			return nil
		}
		b, err := oci.FetchBytes(ctx, a, repo, d, oci.MaxManifestBytes)
		if err != nil {
			if errors.Is(err, oci.ErrDigestMismatch) || errors.Is(err, oci.ErrNotFound) || errors.Is(err, oci.ErrSizeMismatch) {
				return nil // reported by blobs, or below
			}
			return err
		}
		v.rep.Manifests++
		kids, err := oci.Children(d.MediaType, b)
		if err != nil {
			v.missing(what, fmt.Errorf("manifest %s: %w", d.Digest, err))
			return nil
		}
		for _, c := range kids {
			if !v.has(c.Digest) {
				v.missing(what, fmt.Errorf("manifest %s names %s, which is not in the bundle: %w", d.Digest, c.Digest, oci.ErrNotFound))
				continue
			}
			if oci.IsManifest(c.MediaType) {
				if !left[c.Digest] && !indexed[repo+"@"+c.Digest.String()] {
					v.missing(what, fmt.Errorf("manifest %s names %s, which has no entry in %s of %s (ocm cannot find it): %w", d.Digest, c.Digest, ctf.IndexFile, repo, oci.ErrNotFound))
				}
				if err := walk(repo, c, what); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, e := range a.Entries() {
		d, err := a.Resolve(ctx, oci.Ref{Repository: e.Repository, Digest: e.Digest})
		if err != nil {
			return err
		}
		if err := walk(e.Repository, d, e.String()); err != nil {
			return err
		}
	}
	repo := ocireg.New(a, "")
	names, err := repo.Components(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		vs, err := repo.Versions(ctx, n)
		if err != nil {
			return err
		}
		for _, ver := range vs {
			v.rep.Components++
			cv, err := repo.Get(ctx, n, ver)
			if err != nil {
				v.missing(n+":"+ver, err)
				continue
			}
			v.version(ctx, cv, left)
		}
	}
	return nil
}

// version checks a component version's resources.
func (v *verifier) version(ctx context.Context, cv *ocireg.Version, left map[v1.Hash]bool) {
	what := cv.Descriptor.Name + ":" + cv.Descriptor.Version
	for _, r := range cv.Descriptor.Resources {
		switch r.Access.Kind() {
		case component.AccessLocalBlob:
			lb, err := r.Access.LocalBlob()
			if err != nil {
				v.missing(what+" resource "+r.Name, err)
				continue
			}
			if ocireg.IsIndexArtifact(lb.MediaType) {
				// OCM v2: a manifest in the version's index, walked with the index.
				if d, err := cv.IndexArtifact(lb); err != nil {
					v.missing(what+" resource "+r.Name, err)
				} else if !left[d.Digest] && !v.has(d.Digest) {
					v.missing(what+" resource "+r.Name, fmt.Errorf("OCI artifact %s is not in the bundle: %w", d.Digest, oci.ErrNotFound))
				}
				continue
			}
			hs, err := ocireg.LocalReferenceDigests(lb.LocalReference)
			if err != nil {
				continue // a component archive's file name: not ours to check
			}
			for _, h := range hs {
				if !slices.ContainsFunc(cv.Layers, func(l v1.Descriptor) bool { return l.Digest == h }) || !v.has(h) {
					v.missing(what+" resource "+r.Name, fmt.Errorf("local blob %s is not in the bundle: %w", h, oci.ErrNotFound))
				}
			}
		case component.AccessRelativeOCIReference:
			im, err := ocireg.ImageOf(r.Access, "")
			if err != nil {
				v.missing(what+" resource "+r.Name, err)
				continue
			}
			ref := im.Ref
			if left[ref.Digest] {
				continue
			}
			d, err := v.b.Archive.Resolve(ctx, ref)
			if err != nil || ref.Digest != (v1.Hash{}) && d.Digest != ref.Digest {
				v.missing(what+" resource "+r.Name, fmt.Errorf("image %s is not in the bundle: %w", im.Access, oci.ErrNotFound))
			}
		}
	}
}

// metadata checks that the metadata lists exactly the blobs the tar holds.
func (v *verifier) metadata() {
	md := v.b.Metadata
	if md == nil {
		return
	}
	own := map[v1.Hash]bool{}
	for _, h := range v.b.metaHash {
		own[h] = true
	}
	listed := map[v1.Hash]bool{}
	var diffs []string
	for _, bl := range md.Blobs {
		listed[bl.Digest] = true
		size, ok := v.present[bl.Digest]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s is listed but not in the tar", bl.Digest))
		case size != bl.Size:
			diffs = append(diffs, fmt.Sprintf("%s has %d bytes, the metadata says %d", bl.Digest, size, bl.Size))
		}
	}
	for h := range v.present {
		if !listed[h] && !own[h] {
			diffs = append(diffs, fmt.Sprintf("%s is in the tar but not in the metadata", h))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		v.add(&DamageError{File: v.b.first(), Offset: -1, Entry: MetadataRepository + ":" + MetadataTag,
			Err: fmt.Errorf("%w: %d differences with the tar, the first: %s", ErrInvalidMetadata, len(diffs), strings.TrimSpace(diffs[0]))})
	}
}
