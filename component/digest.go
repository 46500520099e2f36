package component

import (
	"crypto"
	_ "crypto/sha256" // register SHA-256
	_ "crypto/sha512" // register SHA-512
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DigestSpec is a digest as descriptors carry it (§1.7): which hash, over
// which normalised form, and the lowercase hex value.
type DigestSpec struct {
	HashAlgorithm          string `json:"hashAlgorithm"`          // SHA-256, SHA-512 (legacy sha256, sha512 are read)
	NormalisationAlgorithm string `json:"normalisationAlgorithm"` // e.g. genericBlobDigest/v1, jsonNormalisation/v3
	Value                  string `json:"value"`                  // lowercase hex
}

// Normalisation algorithms of resource digests (§5.2) and descriptor
// digests (§5.4), and the exclusion marker (§1.7).
const (
	GenericBlobDigestV1 = "genericBlobDigest/v1"
	OCIArtifactDigestV1 = "ociArtifactDigest/v1"

	JSONNormalisationV1       = "jsonNormalisation/v1"
	JSONNormalisationV2       = "jsonNormalisation/v2"
	JSONNormalisationV3       = "jsonNormalisation/v3"
	JSONNormalisationV4Alpha1 = "jsonNormalisation/v4alpha1" // OCM v2's name for v3; byte-identical

	ExcludeFromSignature = "EXCLUDE-FROM-SIGNATURE"
	NoDigest             = "NO-DIGEST"
)

// ErrUnsupportedAlgorithm: a hash, normalisation or signature algorithm
// ferry does not implement.
var ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")

// ExcludedDigest returns the digest that excludes a resource's content from
// signatures: {NO-DIGEST, EXCLUDE-FROM-SIGNATURE, NO-DIGEST}.
func ExcludedDigest() *DigestSpec {
	return &DigestSpec{HashAlgorithm: NoDigest, NormalisationAlgorithm: ExcludeFromSignature, Value: NoDigest}
}

// IsExcluded reports whether d is the exclusion marker.
func (d *DigestSpec) IsExcluded() bool {
	return d != nil && *d == *ExcludedDigest()
}

func (d DigestSpec) String() string {
	return fmt.Sprintf("%s:%s[%s]", d.HashAlgorithm, d.Value, d.NormalisationAlgorithm)
}

// HashName returns the name descriptors use for h: SHA-256 or SHA-512.
func HashName(h crypto.Hash) (string, error) {
	switch h {
	case crypto.SHA256, crypto.SHA512:
		return h.String(), nil
	}
	return "", fmt.Errorf("%w: hash %v", ErrUnsupportedAlgorithm, h)
}

// ParseHash returns the hash a descriptor names: SHA-256 or SHA-512, or
// the legacy sha256 and sha512.
func ParseHash(name string) (crypto.Hash, error) {
	switch name {
	case "SHA-256", "sha256":
		return crypto.SHA256, nil
	case "SHA-512", "sha512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: hash %q", ErrUnsupportedAlgorithm, name)
}

// GenericBlobDigest hashes r to its end, streaming, and returns the
// genericBlobDigest/v1 resource digest (§5.2). h is crypto.SHA256 (0 means
// SHA-256) or crypto.SHA512.
func GenericBlobDigest(r io.Reader, h crypto.Hash) (DigestSpec, error) {
	if h == 0 {
		h = crypto.SHA256
	}
	name, err := HashName(h)
	if err != nil {
		return DigestSpec{}, err
	}
	hh := h.New()
	if _, err := io.Copy(hh, r); err != nil {
		return DigestSpec{}, fmt.Errorf("hashing blob: %w", err)
	}
	return DigestSpec{HashAlgorithm: name, NormalisationAlgorithm: GenericBlobDigestV1, Value: hex.EncodeToString(hh.Sum(nil))}, nil
}

// OCIArtifactDigest returns the ociArtifactDigest/v1 resource digest of an
// OCI artifact given its manifest or index digest, "sha256:<hex>" or
// "sha512:<hex>" (§5.2). The value is the hex without the algorithm.
func OCIArtifactDigest(manifestDigest string) (DigestSpec, error) {
	alg, hexv, ok := strings.Cut(manifestDigest, ":")
	if !ok {
		return DigestSpec{}, fmt.Errorf("manifest digest %q: want <algorithm>:<hex>", manifestDigest)
	}
	var h crypto.Hash
	switch alg {
	case "sha256":
		h = crypto.SHA256
	case "sha512":
		h = crypto.SHA512
	default:
		return DigestSpec{}, fmt.Errorf("manifest digest %q: %w: %s", manifestDigest, ErrUnsupportedAlgorithm, alg)
	}
	if len(hexv) != 2*h.Size() || strings.ToLower(hexv) != hexv {
		return DigestSpec{}, fmt.Errorf("manifest digest %q: want %d lowercase hex digits", manifestDigest, 2*h.Size())
	}
	if _, err := hex.DecodeString(hexv); err != nil {
		return DigestSpec{}, fmt.Errorf("manifest digest %q: %w", manifestDigest, err)
	}
	return DigestSpec{HashAlgorithm: h.String(), NormalisationAlgorithm: OCIArtifactDigestV1, Value: hexv}, nil
}

// DescriptorDigest normalises d with algo (jsonNormalisation/v1, v2, v3 or
// v4alpha1) and hashes the result with h (0 means SHA-256): the digest
// signatures and component references carry (§5.3, §5.4).
func DescriptorDigest(d *Descriptor, algo string, h crypto.Hash) (DigestSpec, error) {
	if h == 0 {
		h = crypto.SHA256
	}
	name, err := HashName(h)
	if err != nil {
		return DigestSpec{}, err
	}
	n, err := Normalise(d, algo)
	if err != nil {
		return DigestSpec{}, err
	}
	hh := h.New()
	hh.Write(n)
	return DigestSpec{HashAlgorithm: name, NormalisationAlgorithm: algo, Value: hex.EncodeToString(hh.Sum(nil))}, nil
}
