package component

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Signature algorithms and the media types of their values (§5.5).
const (
	AlgorithmRSAPKCS1v15 = "RSASSA-PKCS1-V1_5"
	AlgorithmRSAPSS      = "RSASSA-PSS"

	MediaTypeRSASignature    = "application/vnd.ocm.signature.rsa"
	MediaTypeRSAPSSSignature = "application/vnd.ocm.signature.rsa.pss"
	// MediaTypePEMSignature: a PEM SIGNATURE block followed by the signer's
	// certificate chain. Verify reads it; Sign does not write it.
	MediaTypePEMSignature = "application/x-pem-file"
)

// Sentinel errors of signing and verification.
var (
	// ErrNoSignature: the descriptor is unsigned or has no signature of the
	// name asked for; the message lists the names it has.
	ErrNoSignature = errors.New("signature not found")
	// ErrSignatureInvalid: the signature value does not verify with the key.
	ErrSignatureInvalid = errors.New("signature invalid")
	// ErrDigestChanged: the descriptor no longer normalises to the digest
	// that was signed (it was changed after signing), or a recomputed
	// resource digest differs from the stored one.
	ErrDigestChanged = errors.New("digest changed")
	// ErrMissingDigest: signing needs a digest no one supplied; see
	// *MissingDigestError.
	ErrMissingDigest = errors.New("digest missing")
)

// MissingDigestError names the element whose digest Sign could not fill.
type MissingDigestError struct {
	Kind     string // "resource" or "reference"
	Index    int    // index in Resources or References
	Identity Identity
}

func (e *MissingDigestError) Error() string {
	return fmt.Sprintf("%s %d (%s): %v: pass SignOptions.%sDigest to compute it",
		e.Kind, e.Index, e.Identity, ErrMissingDigest, map[string]string{"resource": "Resource", "reference": "Reference"}[e.Kind])
}

// Unwrap returns ErrMissingDigest.
func (e *MissingDigestError) Unwrap() error { return ErrMissingDigest }

// SignOptions are the settings of one Sign call. The zero value signs like
// `ocm sign componentversion` with its defaults.
type SignOptions struct {
	// Algorithm is AlgorithmRSAPKCS1v15 (default) or AlgorithmRSAPSS.
	Algorithm string
	// Hash is crypto.SHA256 (default) or crypto.SHA512.
	Hash crypto.Hash
	// Normalisation is the descriptor normalisation; default
	// jsonNormalisation/v3, the OCM CLI default (OCM's library default is
	// v1, deprecated).
	Normalisation string
	// ResourceDigest computes the digest of a resource's content
	// (GenericBlobDigest, OCIArtifactDigest). Sign calls it for every
	// resource without a digest, except those with access type none; when
	// it is nil such a resource fails Sign with *MissingDigestError.
	ResourceDigest func(r Resource) (*DigestSpec, error)
	// Recompute makes Sign call ResourceDigest for resources that already
	// have a digest too, as OCM does; a different result fails with
	// ErrDigestChanged. Excluded digests (ExcludedDigest) are never
	// recomputed.
	Recompute bool
	// ReferenceDigest returns the digest of a referenced component version,
	// normally DescriptorDigest of that descriptor (its own resource and
	// reference digests filled) with this signature's normalisation and
	// hash. Sign calls it for every reference without a digest; when it is
	// nil such a reference fails Sign with *MissingDigestError.
	ReferenceDigest func(r Reference) (*DigestSpec, error)
	// Rand is the randomness for RSASSA-PSS; nil means crypto/rand.
	Rand io.Reader
}

// Sign signs d with key under name (§5.5), the way `ocm sign` does: it
// fills the missing resource and reference digests (see SignOptions),
// drops the digest of resources with access type none, computes the
// descriptor digest, signs the raw digest bytes with RSASSA-PKCS1-V1_5 or
// RSASSA-PSS (maximal salt length), and sets the signature entry
// {name, digest, signature{algorithm, value (hex), mediaType}}, replacing an
// entry of the same name. key must hold an RSA key (*rsa.PrivateKey, or a
// crypto.Signer such as a KMS key). On error d is unchanged.
func Sign(d *Descriptor, name string, key crypto.Signer, opts SignOptions) error {
	if name == "" {
		return errors.New("signing descriptor: empty signature name")
	}
	algo := opts.Algorithm
	if algo == "" {
		algo = AlgorithmRSAPKCS1v15
	}
	mediaType, ok := map[string]string{AlgorithmRSAPKCS1v15: MediaTypeRSASignature, AlgorithmRSAPSS: MediaTypeRSAPSSSignature}[algo]
	if !ok {
		return fmt.Errorf("signing %s:%s: %w: signature algorithm %q", d.Name, d.Version, ErrUnsupportedAlgorithm, algo)
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	norm := opts.Normalisation
	if norm == "" {
		norm = JSONNormalisationV3
	}
	if key == nil {
		return fmt.Errorf("signing %s:%s: %w: no key", d.Name, d.Version, ErrInvalidKey)
	}
	if _, err := rsaPublic(key.Public()); err != nil {
		return fmt.Errorf("signing %s:%s: %w", d.Name, d.Version, err)
	}
	if err := Validate(d); err != nil {
		return fmt.Errorf("signing %s:%s: %w", d.Name, d.Version, err)
	}

	work := *d
	work.Resources = slices.Clone(d.Resources)
	work.References = slices.Clone(d.References)
	if err := fillResourceDigests(&work, opts); err != nil {
		return fmt.Errorf("signing %s:%s: %w", d.Name, d.Version, err)
	}
	if err := fillReferenceDigests(&work, opts); err != nil {
		return fmt.Errorf("signing %s:%s: %w", d.Name, d.Version, err)
	}
	dg, err := DescriptorDigest(&work, norm, h)
	if err != nil {
		return fmt.Errorf("signing %s:%s: %w", d.Name, d.Version, err)
	}
	sum, _ := hex.DecodeString(dg.Value)
	var signerOpts crypto.SignerOpts = h
	if algo == AlgorithmRSAPSS {
		signerOpts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: h}
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	sig, err := key.Sign(rnd, sum, signerOpts)
	if err != nil {
		return fmt.Errorf("signing %s:%s: %w", d.Name, d.Version, err)
	}
	entry := Signature{
		Name:      name,
		Digest:    dg,
		Signature: SignatureSpec{Algorithm: algo, Value: hex.EncodeToString(sig), MediaType: mediaType},
	}
	work.Signatures = slices.Clone(d.Signatures)
	if i := work.SignatureIndex(name); i >= 0 {
		work.Signatures[i] = entry
	} else {
		work.Signatures = append(work.Signatures, entry)
	}
	*d = work
	return nil
}

func fillResourceDigests(d *Descriptor, opts SignOptions) error {
	for i := range d.Resources {
		r := &d.Resources[i]
		switch {
		case r.Access.IsNone():
			r.Digest = nil
			continue
		case r.Digest.IsExcluded():
			continue
		case r.Digest != nil && !(opts.Recompute && opts.ResourceDigest != nil):
			continue
		case opts.ResourceDigest == nil:
			return &MissingDigestError{Kind: "resource", Index: i, Identity: d.ResourceIdentity(i)}
		}
		got, err := opts.ResourceDigest(*r)
		if err != nil {
			return fmt.Errorf("computing digest of resource %d (%s): %w", i, d.ResourceIdentity(i), err)
		}
		if got == nil {
			return &MissingDigestError{Kind: "resource", Index: i, Identity: d.ResourceIdentity(i)}
		}
		if r.Digest != nil && *r.Digest != *got {
			return fmt.Errorf("resource %d (%s): %w: stored %v, computed %v", i, d.ResourceIdentity(i), ErrDigestChanged, *r.Digest, *got)
		}
		g := *got
		r.Digest = &g
	}
	return nil
}

func fillReferenceDigests(d *Descriptor, opts SignOptions) error {
	for i := range d.References {
		r := &d.References[i]
		if r.Digest != nil {
			continue
		}
		if opts.ReferenceDigest == nil {
			return &MissingDigestError{Kind: "reference", Index: i, Identity: d.ReferenceIdentity(i)}
		}
		got, err := opts.ReferenceDigest(*r)
		if err != nil {
			return fmt.Errorf("computing digest of reference %d (%s): %w", i, d.ReferenceIdentity(i), err)
		}
		if got == nil {
			return &MissingDigestError{Kind: "reference", Index: i, Identity: d.ReferenceIdentity(i)}
		}
		g := *got
		r.Digest = &g
	}
	return nil
}

// Verify checks the signature called name on d with the RSA public key pub
// (*rsa.PublicKey, or a *x509.Certificate whose chain the caller has
// checked), in OCM's order (§5.5): d must normalise, with the signature's
// normalisation and hash, to the signed digest (else ErrDigestChanged),
// and the signature value must verify over the raw digest bytes (else
// ErrSignatureInvalid). A missing signature is ErrNoSignature.
//
// Verify checks the descriptor only: that resource content still matches
// the resource digests is for the reader of the content to check (ferry
// verifies every blob while it streams). A jsonNormalisation/v1 signature
// made by the pre-OCM gardener tooling (no "extraIdentity": null entries)
// is accepted too.
func Verify(d *Descriptor, name string, pub crypto.PublicKey) error {
	i := d.SignatureIndex(name)
	if i < 0 {
		names := make([]string, len(d.Signatures))
		for j, s := range d.Signatures {
			names[j] = fmt.Sprintf("%q", s.Name)
		}
		has := "it is not signed"
		if len(names) > 0 {
			has = "it has " + strings.Join(names, ", ")
		}
		return fmt.Errorf("verifying %s:%s: %w: no signature %q (%s)", d.Name, d.Version, ErrNoSignature, name, has)
	}
	s := d.Signatures[i]
	key, err := rsaPublic(pub)
	if err != nil {
		return fmt.Errorf("verifying %s:%s signature %q: %w", d.Name, d.Version, name, err)
	}
	h, err := ParseHash(s.Digest.HashAlgorithm)
	if err != nil {
		return fmt.Errorf("verifying %s:%s signature %q: %w", d.Name, d.Version, name, err)
	}
	if err := checkDescriptorDigest(d, s.Digest, h); err != nil {
		return fmt.Errorf("verifying %s:%s signature %q: %w", d.Name, d.Version, name, err)
	}
	sum, err := hex.DecodeString(s.Digest.Value)
	if err != nil || len(sum) != h.Size() {
		return fmt.Errorf("verifying %s:%s signature %q: %w: digest value is not %d hex bytes", d.Name, d.Version, name, ErrSignatureInvalid, h.Size())
	}
	sig, err := signatureBytes(s.Signature)
	if err != nil {
		return fmt.Errorf("verifying %s:%s signature %q: %w", d.Name, d.Version, name, err)
	}
	switch s.Signature.Algorithm {
	case AlgorithmRSAPKCS1v15:
		err = rsa.VerifyPKCS1v15(key, h, sum, sig)
	case AlgorithmRSAPSS:
		err = rsa.VerifyPSS(key, h, sum, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: h})
	default:
		return fmt.Errorf("verifying %s:%s signature %q: %w: signature algorithm %q", d.Name, d.Version, name, ErrUnsupportedAlgorithm, s.Signature.Algorithm)
	}
	if err != nil {
		return fmt.Errorf("verifying %s:%s signature %q: %w: %w", d.Name, d.Version, name, ErrSignatureInvalid, err)
	}
	return nil
}

// checkDescriptorDigest compares d's digest with the signed one.
func checkDescriptorDigest(d *Descriptor, signed DigestSpec, h crypto.Hash) error {
	got, err := DescriptorDigest(d, signed.NormalisationAlgorithm, h)
	if err != nil {
		return err
	}
	want := strings.ToLower(signed.Value)
	if got.Value == want {
		return nil
	}
	if signed.NormalisationAlgorithm == JSONNormalisationV1 {
		if n, err := normaliseV1(d, false); err == nil {
			hh := h.New()
			hh.Write(n)
			if hex.EncodeToString(hh.Sum(nil)) == want {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: the descriptor's %s digest is %s, the signed one %s", ErrDigestChanged, signed.NormalisationAlgorithm, got.Value, signed.Value)
}

// signatureBytes decodes a signature value: hex, or the SIGNATURE block of
// a PEM signature.
func signatureBytes(s SignatureSpec) ([]byte, error) {
	if s.MediaType == MediaTypePEMSignature {
		rest := []byte(s.Value)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				return nil, fmt.Errorf("%w: no SIGNATURE block in the PEM signature", ErrSignatureInvalid)
			}
			if b.Type == "SIGNATURE" {
				return b.Bytes, nil
			}
		}
	}
	sig, err := hex.DecodeString(s.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: signature value is not hex: %w", ErrSignatureInvalid, err)
	}
	return sig, nil
}
