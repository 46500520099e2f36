package transfer

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
)

// ErrNotVerified: a component version asked to be verified before it is
// copied has no valid signature of the name asked for, or content its
// signature does not cover.
var ErrNotVerified = errors.New("component version not verified")

// SignatureCheck is a signature every component version named for a
// transfer must carry (ComponentOptions.Verify).
type SignatureCheck struct {
	// Name is the OCM signature name ("acme").
	Name string
	// Key is the RSA public key (or certificate) it must verify with.
	Key crypto.PublicKey
	// KeyFile names the key in messages.
	KeyFile string
}

// verify checks d's signatures against ComponentOptions.Verify and returns
// the BOM's account of them. A version whose own signature fails is noted
// for prove, which accepts it only when a verified version of the plan
// references it with a matching digest. A version with a resource that has
// content but no digest (which no signature covers) is refused at once.
func (cp *componentPlanner) verify(d *component.Descriptor) ([]bom.Signature, error) {
	if len(cp.o.Verify) == 0 {
		return signaturesOf(d, nil), nil
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
			return signaturesOf(d, nil), nil
		}
		verified[c.Name] = bom.KeyID(c.Key)
	}
	return signaturesOf(d, verified), nil
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

// signaturesOf lists d's signatures for the BOM; verified maps the names
// checked to the key that verified them.
func signaturesOf(d *component.Descriptor, verified map[string]string) []bom.Signature {
	var out []bom.Signature
	for _, s := range d.Signatures {
		k, ok := verified[s.Name]
		out = append(out, bom.Signature{Kind: bom.KindOCM, Name: s.Name, Algorithm: s.Signature.Algorithm,
			Digest: s.Digest.Value, Verified: ok, Key: k})
	}
	return out
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
