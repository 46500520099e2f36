package cosign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Errors Verify wraps, for callers to tell with errors.Is.
var (
	// ErrUnsigned: the image has no cosign signature at all.
	ErrUnsigned = errors.New("no cosign signature")
	// ErrBadSignature: the image has cosign signatures, but none verifies
	// with the keys given and signs this image's digest.
	ErrBadSignature = errors.New("no cosign signature verifies")
)

// maxLayers bounds the signatures read from one signature manifest, as
// cosign's pkg/oci/remote does.
const maxLayers = 1000

// maxReferrers bounds the referrer manifests Verify reads for one image.
const maxReferrers = 100

// Signature is one cosign signature of an image: what a transfer's bill of
// materials records about it.
type Signature struct {
	// Digest is the manifest that holds the signature: the one tagged
	// Tag, or an OCI 1.1 referrer of the image.
	Digest v1.Hash `json:"digest"`
	// Tag is SignatureTag of the image when the manifest was found under
	// it; "" for a referrer.
	Tag string `json:"tag,omitempty"`
	// Layer is the digest of the payload blob (the layer).
	Layer v1.Hash `json:"layer"`
	// Payload is the simple-signing JSON that was signed, byte for byte.
	Payload []byte `json:"payload"`
	// Signature is the signature over Payload, base64, as in the layer's
	// AnnotationSignature.
	Signature string `json:"signature"`
	// DockerReference is the repository the payload names (informative:
	// verification binds the digest, not the name).
	DockerReference string `json:"dockerReference"`
	// KeyID is KeyID of the public key the signature verifies with.
	KeyID string `json:"keyID"`
}

// referrerLister is what Verify needs of a store to find signatures kept as
// OCI 1.1 referrers; the registry Store (oci/remote) has it.
type referrerLister interface {
	Referrers(ctx context.Context, repo string, subject v1.Hash, artifactType string) ([]v1.Descriptor, error)
}

// Verify checks that the image manifest image (only its Digest is used) in
// repo carries a cosign key-based signature that verifies with one of keys,
// as `cosign verify --key … --insecure-ignore-tlog` does: it reads the
// manifest tagged SignatureTag(image.Digest) and the OCI 1.1 referrers of
// type ArtifactTypeSignature: through r's Referrers method when it has one
// (oci/remote's, ocmtransfer.SourceReader's), else by the referrers tag schema
// (oci.TagReferrers). A signature counts when its base64 annotation
// decodes, verifies over the payload bytes with a key, and the payload is
// a cosign container image signature whose docker-manifest-digest is
// image.Digest. Certificates, bundles and timestamps on a layer are not
// looked at: the key is the trust, as with cosign's --key.
//
// Cosign 3's signatures count too: a Sigstore bundle referrer (artifact
// type ArtifactTypeBundle) whose DSSE envelope verifies with a key and
// holds an in-toto statement of predicate type PredicateTypeSign naming
// image.Digest as a subject. Attestations (other predicate types) do not.
//
// Verify returns the signatures that verified, in the order found. When
// none does, the error wraps ErrUnsigned if there was no signature at all,
// ErrBadSignature if there were some, or the error of the store when it
// could not be read. Payloads are read verified and bounded by
// MaxPayloadBytes.
func Verify(ctx context.Context, r oci.Reader, repo string, image v1.Descriptor, keys ...crypto.PublicKey) ([]Signature, error) {
	subject := repo + "@" + image.Digest.String()
	if image.Digest.Hex == "" {
		return nil, fmt.Errorf("verifying cosign signature in %s: image descriptor has no digest", repo)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("verifying cosign signature of %s: no public key given", subject)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("verifying cosign signature of %s: %w", subject, err)
		}
		id, err := KeyID(k)
		if err != nil {
			return nil, fmt.Errorf("verifying cosign signature of %s: %w", subject, err)
		}
		ids[i] = id
	}

	found, readErr := findSignatures(ctx, r, repo, image.Digest)
	payloads := map[v1.Hash][]byte{}
	var (
		verified []Signature
		reasons  []string
	)
	for _, c := range found {
		s, err := c.verify(ctx, r, repo, image.Digest, keys, ids, payloads)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("verifying cosign signature of %s: %w", subject, err)
			}
			if readErr == nil && (oci.Temporary(err) || errors.Is(err, oci.ErrUnauthorized) || errors.Is(err, oci.ErrDenied)) {
				// The store failed, not the signature: say so rather
				// than call the signature bad.
				readErr = fmt.Errorf("%s layer %s: %w", c.where(), c.layer.Digest, err)
			}
			reasons = append(reasons, fmt.Sprintf("%s layer %s: %v", c.where(), c.layer.Digest, err))
			continue
		}
		verified = append(verified, s)
	}
	switch {
	case len(verified) > 0:
		return verified, nil
	case readErr != nil:
		return nil, fmt.Errorf("verifying cosign signature of %s: %w", subject, readErr)
	case len(found) == 0:
		where := "no manifest tagged " + SignatureTag(image.Digest) + ", no signature referrer"
		return nil, fmt.Errorf("verifying cosign signature of %s: %w (%s); "+
			"sign the image with 'cosign sign --key', or copy it with its signature",
			subject, ErrUnsigned, where)
	default:
		const shown = 5
		if len(reasons) > shown {
			reasons = append(reasons[:shown], fmt.Sprintf("%d more", len(reasons)-shown))
		}
		noun := "key"
		if len(ids) > 1 {
			noun = "keys"
		}
		return nil, fmt.Errorf("verifying cosign signature of %s: %w: none of the %d found verifies with the %s %s and signs this image (%s); "+
			"check that the public key is the signer's",
			subject, ErrBadSignature, len(found), noun, strings.Join(ids, ", "), strings.Join(reasons, "; "))
	}
}

// candidate is one signature layer found for an image.
type candidate struct {
	manifest v1.Hash
	tag      string // the signature tag, or "" for a referrer
	layer    v1.Descriptor
	bundle   bool // a Sigstore bundle (cosign 3), not a simple-signing layer
}

func (c candidate) where() string {
	if c.tag != "" {
		return "tag " + c.tag
	}
	return "referrer " + c.manifest.String()
}

// verify checks one candidate: payload read (once per digest, through
// payloads), signature decoded and verified with any of keys, claims
// checked. Cosign checks the signature first and the claims after; so does
// verify, so that a payload for another image says so only when its
// signature is good.
func (c candidate) verify(ctx context.Context, r oci.Reader, repo string, digest v1.Hash, keys []crypto.PublicKey, ids []string, payloads map[v1.Hash][]byte) (Signature, error) {
	if c.bundle {
		return c.verifyBundle(ctx, r, repo, digest, keys, ids)
	}
	b64, ok := c.layer.Annotations[AnnotationSignature]
	if !ok {
		return Signature{}, fmt.Errorf("no %s annotation", AnnotationSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return Signature{}, fmt.Errorf("decoding signature: %w", err)
	}
	if c.layer.Size > MaxPayloadBytes {
		return Signature{}, fmt.Errorf("payload of %d bytes exceeds %d: %w", c.layer.Size, MaxPayloadBytes, oci.ErrTooLarge)
	}
	payload, ok := payloads[c.layer.Digest]
	if !ok {
		d := c.layer
		if d.MediaType == "" || oci.IsManifest(d.MediaType) {
			// A blob, whatever the layer claims: never ask for a manifest.
			d.MediaType = MediaTypeSimpleSigning
		}
		payload, err = oci.FetchBytes(ctx, r, repo, d, MaxPayloadBytes)
		if err != nil {
			return Signature{}, fmt.Errorf("reading payload: %w", err)
		}
		payloads[c.layer.Digest] = payload
	}
	for i, k := range keys {
		if !verifySignature(k, payload, sig) {
			continue
		}
		ref, err := checkClaims(payload, digest)
		if err != nil {
			return Signature{}, err
		}
		return Signature{
			Digest:          c.manifest,
			Tag:             c.tag,
			Layer:           c.layer.Digest,
			Payload:         payload,
			Signature:       b64,
			DockerReference: ref,
			KeyID:           ids[i],
		}, nil
	}
	return Signature{}, errors.New("signature does not verify with the key")
}

// verifyBundle checks a cosign 3 signature: a Sigstore bundle whose DSSE
// envelope verifies with one of keys and states cosign's signature of
// digest.
func (c candidate) verifyBundle(ctx context.Context, r oci.Reader, repo string, digest v1.Hash, keys []crypto.PublicKey, ids []string) (Signature, error) {
	if c.layer.Size > MaxPayloadBytes {
		return Signature{}, fmt.Errorf("bundle of %d bytes exceeds %d: %w", c.layer.Size, MaxPayloadBytes, oci.ErrTooLarge)
	}
	d := c.layer
	d.MediaType = ArtifactTypeBundle // a blob, whatever the layer claims
	b, err := oci.FetchBytes(ctx, r, repo, d, MaxPayloadBytes)
	if err != nil {
		return Signature{}, fmt.Errorf("reading the bundle: %w", err)
	}
	payload, sig, k, err := verifyBundle(b, digest, func(msg, sig []byte) (int, bool) {
		for i, key := range keys {
			if verifySignature(key, msg, sig) {
				return i, true
			}
		}
		return 0, false
	})
	if err != nil {
		return Signature{}, err
	}
	return Signature{Digest: c.manifest, Layer: c.layer.Digest, Payload: payload, Signature: sig, KeyID: ids[k]}, nil
}

// findSignatures lists the signature layers of the image digest in repo:
// those of the manifest at its signature tag, then those of its signature
// referrers. It returns what it could read and the first error it met, so that a signature found one way still
// counts when the other fails.
func findSignatures(ctx context.Context, r oci.Reader, repo string, digest v1.Hash) ([]candidate, error) {
	var (
		found    []candidate
		firstErr error
	)
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	tag := SignatureTag(digest)
	ref, err := oci.ParseRef(repo + ":" + tag)
	if err != nil {
		return nil, err
	}
	if d, err := r.Resolve(ctx, ref); err == nil {
		layers, err := signatureLayers(ctx, r, repo, d, "")
		if err != nil {
			keep(fmt.Errorf("reading signature manifest %s: %w", tag, err))
		}
		for _, l := range layers {
			found = append(found, candidate{manifest: d.Digest, tag: tag, layer: l})
		}
	} else if !errors.Is(err, oci.ErrNotFound) {
		keep(fmt.Errorf("resolving signature tag %s: %w", tag, err))
	}

	// A store without the referrers API keeps them as registries without
	// it do: in the index tagged <alg>-<hex> (a registry Store reads that
	// itself).
	var ds []v1.Descriptor
	if rl, ok := r.(referrerLister); ok {
		ds, err = rl.Referrers(ctx, repo, digest, "")
	} else {
		ds, err = oci.TagReferrers(ctx, r, repo, digest)
	}
	if err != nil && !errors.Is(err, oci.ErrNotFound) && !errors.Is(err, oci.ErrUnsupported) {
		keep(fmt.Errorf("listing signature referrers: %w", err))
	}
	if len(ds) > maxReferrers {
		ds = ds[:maxReferrers]
	}
	for _, d := range ds {
		if d.ArtifactType != ArtifactTypeSignature && d.ArtifactType != ArtifactTypeBundle {
			continue // SBOMs, attestations, other tools' artifacts
		}
		layers, err := signatureLayers(ctx, r, repo, d, d.ArtifactType)
		if err != nil {
			keep(fmt.Errorf("reading signature referrer %s: %w", d.Digest, err))
			continue
		}
		for _, l := range layers {
			bundle := d.ArtifactType == ArtifactTypeBundle
			if bundle && string(l.MediaType) != ArtifactTypeBundle {
				continue
			}
			found = append(found, candidate{manifest: d.Digest, layer: l, bundle: bundle})
		}
	}
	return found, firstErr
}

// signatureLayers reads the signature manifest d and returns its layers.
// artifactType, when set, is required of the manifest (its artifactType,
// or its config media type as cosign writes referrers).
func signatureLayers(ctx context.Context, r oci.Reader, repo string, d v1.Descriptor, artifactType string) ([]v1.Descriptor, error) {
	if !isImageManifest(d.MediaType) {
		return nil, fmt.Errorf("%s is a %q, not an image manifest: %w", d.Digest, d.MediaType, oci.ErrUnsupported)
	}
	b, err := oci.FetchBytes(ctx, r, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest %s: %w", d.Digest, err)
	}
	if artifactType != "" && m.ArtifactType != artifactType && string(m.Config.MediaType) != artifactType {
		return nil, nil
	}
	if len(m.Layers) > maxLayers {
		return nil, fmt.Errorf("manifest %s has %d layers, more than the %d signatures read: %w", d.Digest, len(m.Layers), maxLayers, oci.ErrTooLarge)
	}
	return m.Layers, nil
}

// verifySignature reports whether sig is a signature over payload by pub,
// in a scheme cosign's key-based verification accepts:
//
//   - ECDSA: ASN.1 DER over the SHA-256 of the payload, which is what
//     sigstore's LoadVerifier(key, crypto.SHA256) checks (cosign verify
//     --key, Flux). Signatures over the hash that goes with the curve
//     (SHA-384 for P-384, SHA-512 for P-521), which newer cosign releases
//     make with such keys, are accepted too.
//   - RSA: PKCS #1 v1.5 over the SHA-256 of the payload.
//   - Ed25519: over the payload itself, or Ed25519ph (over its SHA-512),
//     which newer cosign releases make and accept for --key.
func verifySignature(pub crypto.PublicKey, payload, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		h := sha256.Sum256(payload)
		if ecdsa.VerifyASN1(k, h[:], sig) {
			return true
		}
		switch k.Curve {
		case elliptic.P384():
			h := sha512.Sum384(payload)
			return ecdsa.VerifyASN1(k, h[:], sig)
		case elliptic.P521():
			h := sha512.Sum512(payload)
			return ecdsa.VerifyASN1(k, h[:], sig)
		}
		return false
	case *rsa.PublicKey:
		h := sha256.Sum256(payload)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
	case ed25519.PublicKey:
		if ed25519.Verify(k, payload, sig) {
			return true
		}
		h := sha512.Sum512(payload)
		return ed25519.VerifyWithOptions(k, h[:], sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	}
	return false
}

// isImageManifest reports whether mt is a manifest a signature image can
// be (OCI or Docker schema 2 image manifest).
func isImageManifest(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}
