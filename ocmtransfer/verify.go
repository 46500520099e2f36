package ocmtransfer

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
)

// ErrNotVerified: a component version asked to be verified before it is
// copied has no valid signature of the name asked for, or content its
// signature does not cover.
var ErrNotVerified = errors.New("component version not verified")

// SignatureCheck is a signature the component versions of a transfer must
// carry, or be proven by (PlanOptions.Verify).
type SignatureCheck struct {
	// Name is the OCM signature name ("acme").
	Name string
	// Key is the RSA public key (or certificate) it must verify with.
	Key crypto.PublicKey
	// KeyFile names the key in messages.
	KeyFile string
}

// verify checks d's signatures against PlanOptions.Verify and returns
// the BOM's account of them. A version whose own signature fails is noted
// for prove, which accepts it only when a verified version of the plan
// references it with a matching digest. A version with a resource that has
// content but no digest (which no signature covers) is refused at once.
func (cp *componentPlanner) verify(d *component.Descriptor) ([]bom.Signature, error) {
	if len(cp.o.Verify) == 0 {
		return bom.OCMSignatures(d, nil), nil
	}
	key := d.Name + ":" + d.Version
	for _, r := range d.Resources {
		if r.Digest == nil && !r.Access.IsNone() {
			return nil, fmt.Errorf("%w: %s resource %s has no digest, so no signature covers its content", ErrNotVerified, key, r.Name)
		}
	}
	verified := map[string]string{} // signature name -> key id
	for _, c := range cp.o.Verify {
		if err := component.Verify(d, c.Name, c.Key); err != nil {
			if cp.unverified == nil {
				cp.unverified = map[string]error{}
			}
			cp.unverified[key] = fmt.Errorf("%w: %w (public key %s)", ErrNotVerified, err, c.KeyFile)
			return bom.OCMSignatures(d, nil), nil
		}
		verified[c.Name] = bom.KeyID(c.Key)
	}
	return bom.OCMSignatures(d, verified), nil
}

// prove accepts the versions whose own signatures failed when a verified
// version of the plan (or one proven so, transitively) references them with
// a digest they match, and returns the first version left unproven. A
// reference whose digest does not match is an error at once.
func (cp *componentPlanner) prove() error {
	if len(cp.o.Verify) == 0 {
		return nil
	}
	trusted := map[string]string{} // version -> how it was verified
	var queue []string
	for _, cv := range cp.versions {
		k := cv.Name + ":" + cv.Version
		if cp.unverified[k] == nil {
			trusted[k] = "signature"
			queue = append(queue, k)
		}
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, r := range cp.seen[k].References {
			ck := r.ComponentName + ":" + r.Version
			child, planned := cp.seen[ck]
			if !planned {
				continue // not part of this transfer
			}
			if err := checkReference(k, r, child); err != nil {
				if trusted[ck] != "" && (r.Digest == nil || r.Digest.IsExcluded()) {
					continue // verified by its own signature
				}
				return err
			}
			if trusted[ck] == "" {
				trusted[ck] = "reference from " + k
				queue = append(queue, ck)
			}
		}
	}
	for i := range cp.versions {
		cv := &cp.versions[i]
		k := cv.Name + ":" + cv.Version
		if trusted[k] == "" {
			if len(cp.versions) == 1 {
				return cp.unverified[k]
			}
			return fmt.Errorf("%w; no verified version of this transfer references it with a digest", cp.unverified[k])
		}
		cv.VerifiedBy = trusted[k]
	}
	return nil
}

// checkReference compares a reference's recorded digest with the
// referenced version's descriptor (as read from the source). A reference
// without a digest is not covered by its parent's signature.
func checkReference(parent string, r component.Reference, child *component.Descriptor) error {
	if r.Digest == nil || r.Digest.IsExcluded() {
		return fmt.Errorf("%w: %s reference %s (%s:%s) has no digest, so no signature covers it", ErrNotVerified, parent, r.Name, r.ComponentName, r.Version)
	}
	h, err := component.ParseHash(r.Digest.HashAlgorithm)
	if err != nil {
		return fmt.Errorf("%s reference %s: %w", parent, r.Name, err)
	}
	got, err := component.DescriptorDigest(child, r.Digest.NormalisationAlgorithm, h)
	if err != nil {
		return fmt.Errorf("%s reference %s: digesting %s:%s: %w", parent, r.Name, r.ComponentName, r.Version, err)
	}
	if got.Value != r.Digest.Value {
		return fmt.Errorf("%w: %s reference %s: %s:%s digests to %s, the reference records %s: %w",
			ErrNotVerified, parent, r.Name, r.ComponentName, r.Version, got.Value, r.Digest.Value, component.ErrDigestChanged)
	}
	return nil
}

// checked refuses, when the transfer verifies signatures, a resource that
// would be copied without its content being compared with its recorded
// digest (a digest ferry does not compute, a chunked local blob, a copy
// filtered to some platforms): the signature would not cover what crosses.
func (cp *componentPlanner) checked(rs *resource.Content, r *component.Resource, ch ResourceChange) error {
	if len(cp.o.Verify) == 0 || ch.Checked || r.Digest == nil || r.Digest.IsExcluded() {
		return nil
	}
	if ch.How != "by value" && ch.How != "local" {
		return nil // not copied: nothing crosses
	}
	return fmt.Errorf("%w: %s: ferry cannot compare its content with the recorded digest %s, so the signature does not cover what would be copied",
		ErrNotVerified, rs.Name(r), r.Digest)
}

// checkSet checks an image kept as an OCM artifact set (a local blob copied
// as it is) against its recorded digest: the set's main artifact must be
// the recorded image, and every manifest and blob of it must hash to its
// name, so that the set's bytes are the image that was signed.
func checkSet(ctx context.Context, rs *resource.Content, r *component.Resource) (bool, error) {
	a, err := rs.Artifact(ctx, r)
	if err != nil {
		return false, err
	}
	defer a.Close()
	ok, err := resource.CheckArtifactDigest(r, a.Descriptor.Digest)
	if err == nil {
		err = verifyGraph(ctx, a.Reader, a.Ref.Repo(), a.Descriptor, 0)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", rs.Name(r), err)
	}
	return ok, nil
}

// maxDepth bounds how deep the indexes of an artifact set may nest, as
// transfer.Planner bounds those it plans.
const maxDepth = 8

// verifyGraph reads d and everything below it from repo of src and checks
// every byte against its descriptor.
func verifyGraph(ctx context.Context, src oci.Reader, repo string, d v1.Descriptor, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("indexes nest more than %d deep at %s", maxDepth, d.Digest)
	}
	if !oci.IsManifest(d.MediaType) {
		rc, err := src.Fetch(ctx, repo, d)
		if err != nil {
			return err
		}
		defer rc.Close()
		vr, err := oci.VerifyReader(rc, d)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, vr); err != nil {
			return fmt.Errorf("blob %s: %w", d.Digest, err)
		}
		return nil
	}
	b, err := oci.FetchBytes(ctx, src, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return err
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	for _, c := range kids {
		if oci.IsNonDistributable(c) {
			continue
		}
		if err := verifyGraph(ctx, src, repo, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}
