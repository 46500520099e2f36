package resource

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// ErrNoContent: the resource's access gives no content ferry can read
// (access type none, or a type ferry does not know).
var ErrNoContent = errors.New("no content ferry can read")

// Content reads the content of the resources of one component version.
type Content struct {
	// Version is the component version the resources belong to; local blobs
	// and relative references are read from its store.
	Version *ocireg.Version
	// Store is the store the version was read from.
	Store oci.Reader
	// Images reads images named by ociArtifact accesses (normally a
	// registry Store); nil when only local content may be read.
	Images oci.Reader
}

// Name returns "name:version resource id", for messages.
func (s *Content) Name(r *component.Resource) string {
	d := s.Version.Descriptor
	id := r.Name
	if len(r.ExtraIdentity) > 0 {
		id = component.Identity(r.ExtraIdentity).String() + " " + id
	}
	return fmt.Sprintf("%s:%s resource %s", d.Name, d.Version, id)
}

// IsArtifact reports whether the resource is an OCI artifact (an image, an
// index, a chart stored as OCI) rather than a single blob.
func IsArtifact(r *component.Resource) bool {
	switch r.Access.Kind() {
	case component.AccessOCIArtifact, component.AccessRelativeOCIReference:
		return true
	case component.AccessLocalBlob:
		lb, err := r.Access.LocalBlob()
		return err == nil && (ctf.IsArtifactSet(lb.MediaType) || ocireg.IsIndexArtifact(lb.MediaType))
	}
	return false
}

// Artifact is where a resource's OCI artifact can be read.
type Artifact struct {
	Reader     oci.Reader    // the store that holds it
	Ref        oci.Ref       // its reference in Reader (tag and/or digest)
	Descriptor v1.Descriptor // its manifest
	// Manifest is the manifest's verified bytes when opening the artifact
	// read them (a reference into a registry or an archive); nil otherwise.
	Manifest []byte
	// Tags are the tags the source knows the artifact by (from the
	// reference, or recorded in an artifact set).
	Tags   []string
	closer io.Closer
}

// Close releases what opening the artifact took (an artifact set's
// temporary files).
func (a *Artifact) Close() error {
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}

// Artifact opens the OCI artifact of an image-like resource.
func (s *Content) Artifact(ctx context.Context, r *component.Resource) (*Artifact, error) {
	switch r.Access.Kind() {
	case component.AccessOCIArtifact, component.AccessRelativeOCIReference:
		im, err := ocireg.ImageOf(r.Access, s.Version.Base())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		if im.Relative {
			return s.resolve(ctx, r, s.Store, im.Ref)
		}
		ref := im.Ref.WithDefaultRegistry()
		if s.Images == nil {
			return nil, fmt.Errorf("%s: %s is in another registry and no registry access was given: %w", s.Name(r), ref, ErrNoContent)
		}
		return s.resolve(ctx, r, s.Images, ref)
	case component.AccessLocalBlob:
		lb, err := r.Access.LocalBlob()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		if ocireg.IsIndexArtifact(lb.MediaType) {
			return s.indexArtifact(ctx, r, lb)
		}
		if !ctf.IsArtifactSet(lb.MediaType) {
			return nil, fmt.Errorf("%s: local blob of media type %s is not an OCI artifact: %w", s.Name(r), lb.MediaType, oci.ErrUnsupported)
		}
		return s.artifactSet(ctx, r, lb)
	}
	return nil, fmt.Errorf("%s: access type %s: %w", s.Name(r), r.Access.Type, ErrNoContent)
}

// resolve opens the artifact ref names in rd. Every caller goes on to read
// it, so the manifest is read at once (oci.ReadManifest: one request to a
// registry, where resolving and then fetching take two) and kept in
// Artifact.Manifest.
func (s *Content) resolve(ctx context.Context, r *component.Resource, rd oci.Reader, ref oci.Ref) (*Artifact, error) {
	d, b, err := oci.ReadManifest(ctx, rd, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: resolving %s: %w", s.Name(r), ref, err)
	}
	var tags []string
	if ref.Tag != "" {
		tags = []string{ref.Tag}
	}
	return &Artifact{Reader: rd, Ref: ref, Descriptor: d, Manifest: b, Tags: tags}, nil
}

// blobFiler is implemented by stores that give random access to blobs (a CTF).
type blobFiler interface {
	OpenBlob(h v1.Hash) (*ctf.BlobFile, error)
}

// maxSpool bounds an artifact set that must be copied to a temporary file
// before it can be read (one that is not in a CTF).
const maxSpool = 64 << 30

func (s *Content) artifactSet(ctx context.Context, r *component.Resource, lb component.LocalBlobAccess) (*Artifact, error) {
	var (
		ra     io.ReaderAt
		size   int64
		closer io.Closer
	)
	h, herr := v1.NewHash(lb.LocalReference)
	if bf, ok := s.Store.(blobFiler); ok && herr == nil {
		f, err := bf.OpenBlob(h)
		if err != nil {
			return nil, fmt.Errorf("%s: opening artifact set %s: %w", s.Name(r), h, err)
		}
		ra, size, closer = f, f.Size(), f
	} else {
		rc, _, err := s.Version.LocalBlob(ctx, lb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		defer rc.Close()
		f, err := os.CreateTemp("", "ferry-artifactset-*")
		if err != nil {
			return nil, err
		}
		os.Remove(f.Name())
		n, err := io.Copy(f, io.LimitReader(rc, maxSpool+1))
		if err == nil && n > maxSpool {
			err = fmt.Errorf("more than %d bytes: %w", int64(maxSpool), oci.ErrTooLarge)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: reading artifact set: %w", s.Name(r), err)
		}
		ra, size, closer = f, n, f
	}
	set, err := ctf.OpenArtifactSet(ra, size)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("%s: %w", s.Name(r), err)
	}
	main := set.Main()
	repo, tag := lb.ReferenceName, ""
	if name, t, _, err := ctf.ParseReferenceName(lb.ReferenceName); err == nil && lb.ReferenceName != "" {
		repo, tag = name, t
	}
	tags := set.Tags()
	if tag != "" && len(tags) == 0 {
		tags = []string{tag}
	}
	if repo == "" {
		repo = "artifact-set"
	}
	ref, err := oci.ParseRef(repo + "@" + main.Digest.String())
	if err != nil {
		set.Close()
		closer.Close()
		return nil, fmt.Errorf("%s: referenceName %q: %w", s.Name(r), lb.ReferenceName, err)
	}
	return &Artifact{Reader: set, Ref: ref, Descriptor: main, Tags: tags,
		closer: closers{set, closer}}, nil
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// ReferenceHint returns OCM's reference hint for an image resource
// (INTEROP §4.2): the repository path (without host) and tag the image gets
// in a target. An image reference gives its path and tag, with the sub path
// of the source base (the registry path the version was read under)
// dropped, so that a release mirrored from reg/ocm lands at
// dst/stefanprodan/podinfo, not dst/ocm/stefanprodan/podinfo; a relative
// reference gives itself; an artifact set its referenceName.
func ReferenceHint(r *component.Resource, sourceBase string) (name, tag string, err error) {
	var hint string
	switch r.Access.Kind() {
	case component.AccessLocalBlob:
		lb, err := r.Access.LocalBlob()
		if err != nil {
			return "", "", err
		}
		hint = lb.ReferenceName
	default:
		im, err := ocireg.ImageOf(r.Access, "")
		if err != nil {
			return "", "", err
		}
		ref := im.Ref
		if !im.Relative {
			ref = ref.WithDefaultRegistry()
		}
		hint = ref.Repository
		if ref.Tag != "" {
			hint += ":" + ref.Tag
		}
	}
	name, tag = splitHint(hint)
	if _, sub, ok := strings.Cut(sourceBase, "/"); ok && r.Access.Kind() == component.AccessOCIArtifact {
		name = strings.TrimPrefix(name, sub+"/")
	}
	return name, tag, nil
}

// splitHint splits an OCM reference hint "repo[:tag][@digest]" (§4.3).
func splitHint(hint string) (name, tag string) {
	if i := strings.LastIndex(hint, "@"); i >= 0 {
		hint = hint[:i]
	}
	if i := strings.LastIndex(hint, ":"); i > 0 && !strings.Contains(hint[i:], "/") {
		return hint[:i], hint[i+1:]
	}
	return hint, ""
}

// Open streams the content of a blob-like resource (a local blob that is
// not an artifact set, or an ociBlob), verified against the blob's digest.
// The caller closes the reader.
func (s *Content) Open(ctx context.Context, r *component.Resource) (io.ReadCloser, v1.Descriptor, error) {
	switch r.Access.Kind() {
	case component.AccessLocalBlob:
		lb, err := r.Access.LocalBlob()
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		rc, d, err := s.Version.LocalBlob(ctx, lb)
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		return rc, d, nil
	case component.AccessOCIBlob:
		acc, err := r.Access.OCIBlob()
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		h, err := v1.NewHash(acc.Digest)
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: digest: %w", s.Name(r), err)
		}
		ref, err := oci.ParseRef(acc.Ref)
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: ref: %w", s.Name(r), err)
		}
		if s.Images == nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: no registry access was given: %w", s.Name(r), ErrNoContent)
		}
		size := acc.Size
		if size == 0 {
			size = -1
		}
		d := v1.Descriptor{Digest: h, Size: size, MediaType: "application/octet-stream"}
		rc, err := s.Images.Fetch(ctx, ref.WithDefaultRegistry().Repo(), d)
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("%s: %w", s.Name(r), err)
		}
		vr, err := oci.VerifyReader(rc, d)
		if err != nil {
			rc.Close()
			return nil, v1.Descriptor{}, err
		}
		return readCloser{vr, rc}, d, nil
	}
	return nil, v1.Descriptor{}, fmt.Errorf("%s: access type %s is not a blob: %w", s.Name(r), r.Access.Type, ErrNoContent)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Digest computes the digest of the resource's content as OCM does
// (INTEROP §5.2): ociArtifactDigest/v1 (the manifest digest) for OCI
// artifacts, genericBlobDigest/v1 (the hash of the bytes) for blobs. want,
// when not nil, chooses the hash algorithm and normalisation; an OCI
// artifact (other than a v1 artifact set) whose recorded digest is
// genericBlobDigest/v1, as OCM v2 records images and charts, gets the
// manifest digest under that name (see artifactDigest).
func (s *Content) Digest(ctx context.Context, r *component.Resource, want *component.DigestSpec) (*component.DigestSpec, error) {
	if r.Access.IsNone() {
		return nil, nil
	}
	if IsArtifact(r) && (want == nil || want.NormalisationAlgorithm != component.GenericBlobDigestV1 || !isArtifactSetBlob(r)) {
		return s.artifactDigest(ctx, r, want)
	}
	if isArtifactSetBlob(r) {
		// An image OCM v2 recorded by its manifest digest, stored as an OCM
		// v1 artifact set (ferry --ocm-artifact-sets): its main artifact is
		// the recorded one. Otherwise the digest is of the set's bytes.
		if d, err := s.artifactDigest(ctx, r, want); err == nil && d.Value == want.Value {
			return d, nil
		}
	}
	h := crypto.SHA256
	if want != nil && want.HashAlgorithm != "" {
		ph, err := component.ParseHash(want.HashAlgorithm)
		if err != nil {
			return nil, err
		}
		h = ph
	}
	rc, _, err := s.Open(ctx, r)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d, err := component.GenericBlobDigest(rc, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name(r), err)
	}
	return &d, nil
}
