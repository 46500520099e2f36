package ocmtransfer

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
)

// artifactSet plans an image resource into an intermediate target as OCM
// stores it with `ocm transfer --copy-resources`: an artifact set (the
// whole image as one tgz, INTEROP §3.3) kept as a local blob of the
// version, access {localBlob, localReference: the set's digest, mediaType:
// the manifest's media type +tar+gzip, referenceName: OCM's hint}; the
// resource digest stays the image's (ociArtifactDigest/v1). `ocm verify`
// can then check the archive itself, which it cannot with native images.
//
// The set is made while planning, once: written into the spool directory
// PlanOptions.ArtifactSets as sha256.<hex> (a temporary file hashed
// while it is written, then renamed), with a small name file that maps
// the image digest and tags to it. A later plan whose resource records its
// image digest finds the set there and reads nothing from the source.
// Run copies the set from the spool like any blob, verified.
//
// Artifact sets hold whole images: platform filtering does not combine
// with them (an error wrapping oci.ErrUnsupported), and attachments
// (signatures, SBOMs) are not carried, as OCM carries none. With
// transfer.PlanOptions.VerifyImage the image's signatures are checked at
// its source before its set is made (or reused).
func (cp *componentPlanner) artifactSet(ctx context.Context, rs *resource.Content, r *component.Resource, ch ResourceChange, targetCV string) (ResourceChange, []v1.Descriptor, error) {
	if len(cp.o.Artifacts.Platforms) > 0 {
		return ch, nil, fmt.Errorf("%s: artifact sets hold whole images and cannot be filtered to platforms; drop the platform filter or store images as OCI artifacts: %w", rs.Name(r), oci.ErrUnsupported)
	}
	name, tag, err := resource.ReferenceHint(r, cp.repo.Base())
	if err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	sp := spool{dir: cp.o.ArtifactSets}
	known := knownImageDigest(r)
	if cp.o.Artifacts.VerifyImage != nil {
		known = v1.Hash{} // the image's signatures are read from its source
	}
	set, image, ok, err := sp.reuse(known, tags)
	if err != nil {
		return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	if ok {
		// Made from this very image before; Run verifies the set's bytes.
		if ch.Checked, err = resource.CheckArtifactDigest(r, image.Digest); err != nil {
			return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
		}
	} else {
		a, err := rs.Artifact(ctx, r)
		if err != nil {
			return ch, nil, err
		}
		image = a.Descriptor
		ch.Checked, err = resource.CheckArtifactDigest(r, image.Digest)
		if err == nil && cp.o.Artifacts.VerifyImage != nil {
			_, err = cp.o.Artifacts.VerifyImage(ctx, a.Reader, a.Ref.Repo(), image)
		}
		if err == nil {
			set, err = sp.make(ctx, a, tags)
		}
		a.Close()
		if err != nil {
			return ch, nil, fmt.Errorf("%s: %w", rs.Name(r), err)
		}
	}
	cp.pl.AddBlob(cp.src.addSet(sp.key(), sp, nopCloser{}), set, targetCV)
	if r.Digest == nil {
		spec, err := component.OCIArtifactDigest(image.Digest.String())
		if err != nil {
			return ch, nil, err
		}
		r.Digest = &spec
	}
	refName := name
	if name != "" && tag != "" {
		refName += ":" + tag
	}
	r.Access, err = component.NewAccess(component.LocalBlobAccess{Type: component.AccessLocalBlob, LocalReference: set.Digest.String(),
		MediaType: string(set.MediaType), ReferenceName: refName})
	if err != nil {
		return ch, nil, err
	}
	ch.How, ch.To, ch.Digest = "by value", r.Access, set.Digest
	return ch, []v1.Descriptor{set}, nil
}

// knownImageDigest returns the image digest a resource records without
// asking its source: its ociArtifactDigest/v1 SHA-256 digest and the
// digest of its image reference, whichever it has (both: when they agree);
// the zero Hash otherwise.
func knownImageDigest(r *component.Resource) v1.Hash {
	var recorded v1.Hash
	if d := r.Digest; d != nil && !d.IsExcluded() && d.NormalisationAlgorithm == component.OCIArtifactDigestV1 &&
		(strings.EqualFold(d.HashAlgorithm, "sha-256") || strings.EqualFold(d.HashAlgorithm, "sha256")) {
		recorded, _ = v1.NewHash("sha256:" + d.Value)
	}
	named := referencedDigest(r)
	switch {
	case named == (v1.Hash{}):
		return recorded
	case recorded == (v1.Hash{}) || recorded == named:
		return named
	}
	return v1.Hash{} // they disagree: let the source decide
}

// referencedDigest returns the digest an image access names, if any.
func referencedDigest(r *component.Resource) v1.Hash {
	im, _ := ocireg.ImageOf(r.Access, "")
	return im.Ref.Digest
}

// spool is the directory the artifact sets of a plan are made in: the sets
// as sha256.<hex>, and for each a name file image.<key> (see nameFile)
// recording the image and tags it was made from. It is an oci.Reader of
// the sets (Fetch only), which the SourceReader serves under a repository of
// its own.
type spool struct{ dir string }

// spoolName is what a name file records.
type spoolName struct {
	Image v1.Hash       `json:"image"`
	Tags  []string      `json:"tags,omitempty"`
	Set   v1.Descriptor `json:"set"`
}

var _ oci.Reader = spool{}

// key names the spool in the SourceReader: a digest of its path, never that of
// a blob.
func (s spool) key() v1.Hash {
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		abs = s.dir
	}
	sum := sha256.Sum256([]byte("ferry artifact-set spool\x00" + abs))
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// nameFile is the file that maps image with tags to its set.
func (s spool) nameFile(image v1.Hash, tags []string) string {
	sum := sha256.Sum256([]byte(image.String() + "\n" + strings.Join(tags, ",")))
	return filepath.Join(s.dir, "image."+hex.EncodeToString(sum[:]))
}

func (s spool) setFile(h v1.Hash) string { return filepath.Join(s.dir, h.Algorithm+"."+h.Hex) }

// reuse returns the set made before for image with tags, when the spool
// holds it complete: the name file names it, the file has its size, and
// its index (the first entry, read without unpacking the rest) names image
// as its main artifact. A zero image finds nothing.
func (s spool) reuse(image v1.Hash, tags []string) (set, main v1.Descriptor, ok bool, err error) {
	if image == (v1.Hash{}) {
		return set, main, false, nil
	}
	b, err := os.ReadFile(s.nameFile(image, tags))
	if errors.Is(err, fs.ErrNotExist) {
		return set, main, false, nil
	}
	if err != nil {
		return set, main, false, fmt.Errorf("reading the artifact-set spool: %w", err)
	}
	var n spoolName
	if json.Unmarshal(b, &n) != nil || n.Image != image || !slices.Equal(n.Tags, tags) || !ctf.IsArtifactSet(string(n.Set.MediaType)) || !validSetDigest(n.Set.Digest) {
		return set, main, false, nil // not ours, or torn: make the set again
	}
	f, err := os.Open(s.setFile(n.Set.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return set, main, false, nil
	}
	if err != nil {
		return set, main, false, fmt.Errorf("reading the artifact-set spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() != n.Set.Size {
		return set, main, false, nil
	}
	main, err = setMain(f)
	if err != nil || main.Digest != image {
		return set, main, false, nil
	}
	return n.Set, main, true, nil
}

// setMain reads the index.json at the start of an artifact set and returns
// the main artifact it names.
func setMain(r io.Reader) (v1.Descriptor, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return v1.Descriptor{}, err
	}
	tr := tar.NewReader(zr)
	h, err := tr.Next()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if h.Name != "index.json" || h.Size > oci.MaxManifestBytes {
		return v1.Descriptor{}, fmt.Errorf("the set does not start with its index")
	}
	var idx v1.IndexManifest
	if err := json.NewDecoder(tr).Decode(&idx); err != nil {
		return v1.Descriptor{}, err
	}
	for _, m := range idx.Manifests {
		if m.Digest.String() == idx.Annotations[ctf.AnnotationMain] {
			return m, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("the set's index names no main artifact")
}

// make writes the set of artifact a, tagged tags, into the spool and
// records it under its image.
func (s spool) make(ctx context.Context, a *resource.Artifact, tags []string) (v1.Descriptor, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return v1.Descriptor{}, fmt.Errorf("creating the artifact-set spool: %w", err)
	}
	f, err := os.CreateTemp(s.dir, ".set-*.tmp")
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("creating the artifact-set spool: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	set, err := ctf.WriteArtifactSet(ctx, f, a.Reader, a.Ref.Repo(), a.Descriptor, tags)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.setFile(set.Digest))
	}
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("making the artifact set of %s: %w", a.Descriptor.Digest, err)
	}
	b, _ := json.Marshal(spoolName{Image: a.Descriptor.Digest, Tags: tags, Set: set})
	if err := writeFileAtomic(s.nameFile(a.Descriptor.Digest, tags), b); err != nil {
		return v1.Descriptor{}, fmt.Errorf("recording the artifact set of %s: %w", a.Descriptor.Digest, err)
	}
	return set, nil
}

// writeFileAtomic writes b to path through a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".name-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Resolve implements oci.Reader: the spool holds blobs, no manifests.
func (s spool) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	return v1.Descriptor{}, &oci.Error{Op: "resolve", Ref: ref.String(), Err: fmt.Errorf("the artifact-set spool holds no manifests: %w", oci.ErrNotFound)}
}

// Fetch implements oci.Reader: it opens the set d. The caller verifies.
func (s spool) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validSetDigest(d.Digest) {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: fmt.Errorf("not an artifact set of the spool: %w", oci.ErrNotFound)}
	}
	f, err := os.Open(s.setFile(d.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("the artifact-set spool %s has no %s (it was removed since planning): %w", s.dir, d.Digest, oci.ErrNotFound)
	}
	if err != nil {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Err: err}
	}
	return f, nil
}

// validSetDigest reports whether h is a well-formed sha256 digest (safe as a
// file name).
func validSetDigest(h v1.Hash) bool {
	b, err := hex.DecodeString(h.Hex)
	return h.Algorithm == "sha256" && err == nil && len(b) == sha256.Size
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
