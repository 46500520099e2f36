package ctf

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Annotations OCM writes into an artifact set's index (INTEROP.md §3.3).
const (
	AnnotationMain    = "software.ocm/main" // index: digest of the main artifact
	AnnotationTags    = "software.ocm/tags" // entry: comma-separated tags to apply on import
	AnnotationRefName = "org.opencontainers.image.ref.name"
)

// artifactSetTypes are the media types of OCM artifact-set blobs: a
// manifest media type without "+json", plus "+tar" or "+tar+gzip"; and OCM
// v2's OCI layout blobs, which the same reader reads.
var artifactSetTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, mt := range []types.MediaType{types.OCIManifestSchema1, types.OCIImageIndex, types.DockerManifestSchema2, types.DockerManifestList} {
		base := strings.TrimSuffix(string(mt), "+json")
		m[base+"+tar"], m[base+"+tar+gzip"] = true, true
	}
	m["application/vnd.ocm.software.oci.layout.v1+tar"] = true
	m["application/vnd.ocm.software.oci.layout.v1+tar+gzip"] = true
	return m
}()

// IsArtifactSet reports whether a local blob of media type mt is an OCM
// artifact set (an image stored by value), which OpenArtifactSet reads.
func IsArtifactSet(mt string) bool { return artifactSetTypes[mt] }

// ArtifactSet is an OCM artifact set opened for reading: an OCI image,
// index and all, stored by value as one blob (INTEROP.md §3.3). It is an
// oci.Reader whose repositories are all the same (a set has none of its
// own): Resolve finds the set's manifests by digest and by the tags OCM
// recorded, Fetch streams any of its blobs. Callers verify what Fetch
// returns with oci.VerifyReader.
type ArtifactSet struct {
	src     source
	index   v1.IndexManifest
	main    v1.Descriptor
	tags    []string
	closers []io.Closer
	tmpDir  string
}

var _ oci.Reader = (*ArtifactSet)(nil)

const setName = "artifact set"

// OpenArtifactSet reads the artifact set in r (size bytes), gzip-compressed
// or not, in either flavour: "oci/v1" (index.json, oci-layout) or the
// older "ocm/v1" (artifact-descriptor.json), with flat blobs/<alg>.<hex>
// or nested blobs/<alg>/<hex> names. An uncompressed set is read in place
// through an index of its tar members; a compressed one is decompressed
// once into a private temporary directory (bounded by MaxExtractBytes,
// blobs hashed on the way) that Close removes. The entry rules are Open's;
// the index is bounded by oci.MaxManifestBytes.
//
// The main artifact is the manifest the index annotation software.ocm/main
// names or, without it, the index's only manifest; its tags are those of
// the entry's software.ocm/tags annotation or, without it, its
// org.opencontainers.image.ref.name.
func OpenArtifactSet(r io.ReaderAt, size int64, opts ...Option) (*ArtifactSet, error) {
	o := makeOptions(opts)
	tops := []string{setIndexFile, setDescriptorOCM, setLayoutFile}
	s := &ArtifactSet{}
	var magic [2]byte
	if n, _ := r.ReadAt(magic[:], 0); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		sr := io.NewSectionReader(r, 0, size)
		zr, err := gzip.NewReader(sr)
		if err != nil {
			return nil, &EntryError{Archive: setName, Err: fmt.Errorf("%w: gzip: %v", ErrNotArchive, err)}
		}
		tmp, err := os.MkdirTemp(o.tempDir, "ferry-artifactset-*")
		if err != nil {
			return nil, fmt.Errorf("opening artifact set: %w", err)
		}
		s.tmpDir = tmp
		compressed := func() int64 { n, _ := sr.Seek(0, io.SeekCurrent); return n }
		if _, err := extractTar(zr, tmp, setName, tops, o.maxExtract, oci.MaxManifestBytes, compressed); err != nil {
			s.Close()
			return nil, err
		}
		root, err := os.OpenRoot(tmp)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.closers = append(s.closers, root)
		s.src = dirSource{root}
	} else {
		members, err := scanTar(r, size, setName, tops)
		if err != nil {
			return nil, err
		}
		s.src = tarSource{r: r, members: members}
	}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *ArtifactSet) load() error {
	name := setIndexFile
	n, ok, err := s.src.size(name)
	if err == nil && !ok {
		name = setDescriptorOCM
		n, ok, err = s.src.size(name)
	}
	if err != nil {
		return &EntryError{Archive: setName, Entry: name, Err: err}
	}
	if !ok {
		return &EntryError{Archive: setName, Err: fmt.Errorf("%w: no %s or %s", ErrNotArchive, setIndexFile, setDescriptorOCM)}
	}
	if n > oci.MaxManifestBytes {
		return &EntryError{Archive: setName, Entry: name,
			Err: fmt.Errorf("%d bytes, more than the %d this reader accepts: %w", n, oci.MaxManifestBytes, oci.ErrTooLarge)}
	}
	f, err := s.src.open(name)
	if err != nil {
		return &EntryError{Archive: setName, Entry: name, Err: err}
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return &EntryError{Archive: setName, Entry: name, Err: err}
	}
	if err := json.Unmarshal(b, &s.index); err != nil {
		return &EntryError{Archive: setName, Entry: name, Err: fmt.Errorf("%w: %v", ErrInvalidIndex, err)}
	}
	for i, m := range s.index.Manifests {
		entry := fmt.Sprintf("%s manifest %d (%s)", name, i, m.Digest)
		if !validHex(m.Digest.Algorithm, m.Digest.Hex) {
			return &EntryError{Archive: setName, Entry: entry, Err: fmt.Errorf("%w: digest is not sha256 or sha512", ErrInvalidIndex)}
		}
		if _, ok, err := s.src.size(blobPath(m.Digest)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("no blob %s: %w", blobPath(m.Digest), oci.ErrNotFound)
			}
			return &EntryError{Archive: setName, Entry: entry, Err: err}
		}
	}
	main, err := s.findMain()
	if err != nil {
		return &EntryError{Archive: setName, Entry: name, Err: err}
	}
	s.main = v1.Descriptor{MediaType: main.MediaType, Size: main.Size, Digest: main.Digest}
	s.tags = tagsOf(main)
	return nil
}

func (s *ArtifactSet) findMain() (v1.Descriptor, error) {
	md, ok := s.index.Annotations[AnnotationMain]
	if !ok {
		if len(s.index.Manifests) != 1 {
			return v1.Descriptor{}, fmt.Errorf("%w: no %s annotation and %d manifests", ErrInvalidIndex, AnnotationMain, len(s.index.Manifests))
		}
		return s.index.Manifests[0], nil
	}
	h, err := parseDigest(md)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("%w: %s: %v", ErrInvalidIndex, AnnotationMain, err)
	}
	for _, m := range s.index.Manifests {
		if m.Digest == h {
			return m, nil
		}
	}
	// The main artifact need not be listed; find its blob.
	d, err := s.describe(context.Background(), h)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("main artifact %s: %w", h, err)
	}
	return d, nil
}

// tagsOf returns the tags OCM recorded on an index entry.
func tagsOf(d v1.Descriptor) []string {
	var out []string
	src := d.Annotations[AnnotationTags]
	if src == "" {
		src = d.Annotations[AnnotationRefName]
	}
	for _, t := range strings.Split(src, ",") {
		if t = strings.TrimSpace(t); t != "" && validTag(t) == nil && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// describe returns the descriptor of manifest blob h, its media type read
// from the manifest.
func (s *ArtifactSet) describe(ctx context.Context, h v1.Hash) (v1.Descriptor, error) {
	if !validHex(h.Algorithm, h.Hex) {
		return v1.Descriptor{}, fmt.Errorf("digest %q: %w", h, oci.ErrNotFound)
	}
	size, ok, err := s.src.size(blobPath(h))
	if err != nil {
		return v1.Descriptor{}, err
	}
	if !ok {
		return v1.Descriptor{}, fmt.Errorf("no blob %s: %w", blobPath(h), oci.ErrNotFound)
	}
	d := v1.Descriptor{Size: size, Digest: h}
	b, err := oci.FetchBytes(ctx, s, "", d, 0)
	if err != nil {
		return v1.Descriptor{}, err
	}
	d.MediaType = mediaTypeOf(b)
	return d, nil
}

// Main returns the descriptor of the set's main artifact (media type, size
// and digest, as the index records them).
func (s *ArtifactSet) Main() v1.Descriptor { return s.main }

// Tags returns the tags OCM recorded for the main artifact, in order; none
// when it recorded none.
func (s *ArtifactSet) Tags() []string { return slices.Clone(s.tags) }

// Index returns the set's index.json (or artifact-descriptor.json) as read,
// annotations included.
func (s *ArtifactSet) Index() v1.IndexManifest { return s.index }

// Resolve finds a manifest of the set by digest (any manifest blob of the
// set) or by a tag OCM recorded on an index entry. The repository of ref
// is not looked at.
func (s *ArtifactSet) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return v1.Descriptor{}, err
	}
	for _, m := range s.index.Manifests {
		if ref.Digest == m.Digest || ref.Digest == (v1.Hash{}) && ref.Tag != "" && slices.Contains(tagsOf(m), ref.Tag) {
			return v1.Descriptor{MediaType: m.MediaType, Size: m.Size, Digest: m.Digest}, nil
		}
	}
	if ref.Digest == s.main.Digest && ref.Digest != (v1.Hash{}) {
		return s.main, nil
	}
	if ref.Digest != (v1.Hash{}) {
		d, err := s.describe(ctx, ref.Digest)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, oci.ErrNotFound) {
			return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Err: err}
		}
	}
	return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Err: fmt.Errorf("not in the %s: %w", setName, oci.ErrNotFound)}
}

// Fetch streams blob or manifest d of the set. The caller closes the
// reader and verifies it with oci.VerifyReader.
func (s *ArtifactSet) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validHex(d.Digest.Algorithm, d.Digest.Hex) {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: fmt.Errorf("digest %q: %w", d.Digest, oci.ErrNotFound)}
	}
	b, err := s.src.open(blobPath(d.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%s has no blob %s: %w", setName, blobPath(d.Digest), oci.ErrNotFound)
	}
	if err != nil {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: err}
	}
	return b, nil
}

// Close releases the set and removes its decompressed copy.
func (s *ArtifactSet) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
		s.tmpDir = ""
	}
	return errors.Join(errs...)
}

// ParseReferenceName splits the referenceName OCM records on a localBlob
// artifact set ("stefanprodan/podinfo:6.3.5", possibly with "@sha256:…")
// as OCM does when it uploads the set (INTEROP.md §4.3): text after the
// last '@' is a digest, text after the last ':' (not at the start) a tag,
// the rest the repository, to which the target's base is prefixed. An empty
// name gives an empty repository (OCM then uses the component's own).
func ParseReferenceName(name string) (repository, tag string, digest v1.Hash, err error) {
	rest := name
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		if digest, err = parseDigest(rest[i+1:]); err != nil {
			return "", "", v1.Hash{}, fmt.Errorf("reference name %q: %w: %v", name, oci.ErrInvalidReference, err)
		}
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i > 0 && !strings.Contains(rest[i+1:], "/") {
		tag, rest = rest[i+1:], rest[:i]
		if err := validTag(tag); err != nil {
			return "", "", v1.Hash{}, fmt.Errorf("reference name %q: %w", name, err)
		}
	}
	if rest != "" {
		if err := validRepository(rest); err != nil {
			return "", "", v1.Hash{}, fmt.Errorf("reference name %q: %w", name, err)
		}
	}
	return rest, tag, digest, nil
}
