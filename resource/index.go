package resource

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// indexArtifact opens an OCM v2 OCI-native local blob: a manifest or index
// stored as an entry of the version's index (LocalBlob/v1 whose mediaType
// is a manifest type and whose localReference is the manifest digest). It
// is read from the version's own repository. When the index has no such
// entry and the access carries a globalAccess, that is opened instead.
func (s *Content) indexArtifact(ctx context.Context, r *component.Resource, lb component.LocalBlobAccess) (*Artifact, error) {
	d, err := s.Version.IndexArtifact(lb)
	if errors.Is(err, oci.ErrNotFound) && lb.GlobalAccess != nil && lb.GlobalAccess.Kind() != component.AccessLocalBlob {
		g := *r
		g.Access = *lb.GlobalAccess
		a, gerr := s.Artifact(ctx, &g)
		if gerr != nil {
			return nil, fmt.Errorf("%s: %w; its globalAccess: %w", s.Name(r), err, gerr)
		}
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name(r), err)
	}
	ref, err := s.Version.Ref.InRepo(s.Version.Ref.Repo())
	if err != nil {
		return nil, err
	}
	ref.Tag, ref.Digest = "", d.Digest
	var tags []string
	if _, tag, _, err := ctf.ParseReferenceName(lb.ReferenceName); err == nil && tag != "" {
		tags = []string{tag}
	}
	return &Artifact{Reader: s.Store, Ref: ref, Descriptor: d, Tags: tags}, nil
}

// IsIndexArtifact reports whether the resource is an OCM v2 OCI-native
// local blob: a manifest or index stored in the version's index.
func IsIndexArtifact(r *component.Resource) bool {
	if r.Access.Kind() != component.AccessLocalBlob {
		return false
	}
	lb, err := r.Access.LocalBlob()
	return err == nil && ocireg.IsIndexArtifact(lb.MediaType)
}

// isArtifactSetBlob reports whether the resource is an OCM v1 artifact set:
// a local blob holding an OCI layout, whose genericBlobDigest/v1 is the
// hash of the blob's bytes.
func isArtifactSetBlob(r *component.Resource) bool {
	if r.Access.Kind() != component.AccessLocalBlob {
		return false
	}
	lb, err := r.Access.LocalBlob()
	return err == nil && ctf.IsArtifactSet(lb.MediaType)
}

// artifactDigest is the digest of an OCI artifact resource: its manifest
// digest, as ociArtifactDigest/v1 (OCM v1) or, when want is
// genericBlobDigest/v1, under that name (OCM v2 records the manifest
// digest so for images and charts: the hash of the manifest's bytes). The
// manifest digest is never recomputed with another hash: a want with
// another hash algorithm than the manifest's fails with
// component.ErrUnsupportedAlgorithm.
func (s *Content) artifactDigest(ctx context.Context, r *component.Resource, want *component.DigestSpec) (*component.DigestSpec, error) {
	a, err := s.Artifact(ctx, r)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	d, err := component.OCIArtifactDigest(a.Descriptor.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name(r), err)
	}
	if want == nil {
		return &d, nil
	}
	if want.HashAlgorithm != "" {
		h, err := component.ParseHash(want.HashAlgorithm)
		if err != nil {
			return nil, fmt.Errorf("%s: digest: %w", s.Name(r), err)
		}
		if mh := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha512": crypto.SHA512}[a.Descriptor.Digest.Algorithm]; h != mh {
			return nil, fmt.Errorf("%s: the recorded digest uses %s, the artifact's manifest digest is %s: %w (ferry does not re-hash OCI artifacts)",
				s.Name(r), want.HashAlgorithm, a.Descriptor.Digest, component.ErrUnsupportedAlgorithm)
		}
	}
	if want.NormalisationAlgorithm == component.GenericBlobDigestV1 {
		d.NormalisationAlgorithm = component.GenericBlobDigestV1
		if want.HashAlgorithm != "" {
			d.HashAlgorithm = want.HashAlgorithm
		}
		if d.Value != want.Value {
			// A chart fetched from a Helm repository (helm/v1) and stored as
			// OCI keeps the digest of its archive: the content layer's.
			if l, err := chartLayer(ctx, a); err == nil && l.Digest.Hex == want.Value {
				d.Value = l.Digest.Hex
			}
		}
	}
	return &d, nil
}

// PullReference returns the reference a cluster pulls an OCM v2 OCI-native
// local blob by (an image stored in the version's index): the version's
// repository (the one Version.Ref names) with the manifest's digest, and its
// referenceName ("shop/images/web:2.1.0"), the path the original had. ok is
// false for any other resource, or when the index lacks the entry.
func PullReference(v *ocireg.Version, r *component.Resource) (ref, referenceName string, ok bool) {
	if !IsIndexArtifact(r) {
		return "", "", false
	}
	lb, err := r.Access.LocalBlob()
	if err != nil {
		return "", "", false
	}
	d, err := v.IndexArtifact(lb)
	if err != nil {
		return "", "", false
	}
	return v.Ref.Repo() + "@" + d.Digest.String(), lb.ReferenceName, true
}
