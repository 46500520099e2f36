package release

import (
	"context"
	"crypto"
	"fmt"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/repository"
)

// Sign signs the component version name:version of repo as `ocm sign
// componentversion` does: it computes the digests of its resources from
// their content (images in other registries read through images) and of its
// references (versions in the same repository), signs the descriptor digest
// with key under the name signature, and writes the version back. It
// returns the signed descriptor. repo must be open for writing; the caller
// commits it (Close) or discards it (Abort). Without opts.Normalisation, a
// version in OCM v2's layout is signed under jsonNormalisation/v4alpha1 (as
// the OCM v2 CLI signs), any other under jsonNormalisation/v3; the version
// is written back in its own layout, OCI-native local blobs and all.
func Sign(ctx context.Context, repo *repository.Repository, name, version, signature string, key crypto.Signer, images oci.Reader, opts component.SignOptions) (*component.Descriptor, error) {
	src, err := repo.Source(ctx, name, version, images)
	if err != nil {
		return nil, err
	}
	d := src.Version.Descriptor
	if opts.Normalisation == "" {
		opts.Normalisation = component.JSONNormalisationV3
		if src.Version.IsV2() {
			opts.Normalisation = component.JSONNormalisationV4Alpha1
		}
	}
	opts.Recompute = true
	opts.ResourceDigest = func(r component.Resource) (*component.DigestSpec, error) {
		return src.Digest(ctx, &r, r.Digest)
	}
	opts.ReferenceDigest = func(r component.Reference) (*component.DigestSpec, error) {
		return referenceDigest(ctx, repo, r, opts)
	}
	if err := component.Sign(d, signature, key, opts); err != nil {
		return nil, err
	}
	blobs, wo := src.Version.Rewrite()
	if _, err := repo.Write(ctx, d, blobs, wo); err != nil {
		return nil, fmt.Errorf("writing signed %s:%s to %s: %w", d.Name, d.Version, repo.Spec, err)
	}
	return d, nil
}

// referenceDigest is the digest of a referenced version in the same
// repository, with its own resource and reference digests filled in.
func referenceDigest(ctx context.Context, repo *repository.Repository, r component.Reference, opts component.SignOptions) (*component.DigestSpec, error) {
	cv, err := repo.Get(ctx, r.ComponentName, r.Version)
	if err != nil {
		return nil, fmt.Errorf("reference %s: reading %s:%s: %w", r.Name, r.ComponentName, r.Version, err)
	}
	for _, res := range cv.Descriptor.Resources {
		if res.Digest == nil && !res.Access.IsNone() {
			return nil, fmt.Errorf("reference %s: %s:%s resource %s has no digest: sign that version first", r.Name, r.ComponentName, r.Version, res.Name)
		}
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	d, err := component.DescriptorDigest(cv.Descriptor, opts.Normalisation, h)
	return &d, err
}

// Verify checks the signature named signature of the component version
// name:version of repo with pub, then recomputes every resource digest from
// the content the accesses point at, so that a resource changed after
// signing is found too (images in other registries are read through
// images; nil leaves them out). It returns the verified descriptor.
func Verify(ctx context.Context, repo *repository.Repository, name, version, signature string, pub crypto.PublicKey, images oci.Reader) (*component.Descriptor, error) {
	src, err := repo.Source(ctx, name, version, images)
	if err != nil {
		return nil, err
	}
	d := src.Version.Descriptor
	if err := component.Verify(d, signature, pub); err != nil {
		return nil, err
	}
	if err := src.VerifyDigests(ctx); err != nil {
		return nil, &ContentError{Err: err}
	}
	return d, nil
}

// ContentError is a verification whose signature held but whose content
// could not be read or did not match (component.ErrDigestChanged).
type ContentError struct{ Err error }

func (e *ContentError) Error() string { return e.Err.Error() }
func (e *ContentError) Unwrap() error { return e.Err }
