package cosign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Sign signs the manifest image (only its Digest is used) in repo with key
// and stores the signature as `cosign sign --key` does: the payload blob,
// then the signature image's config blob, then its OCI image manifest, which
// is tagged SignatureTag(image.Digest) last, so that the tag never names
// content the store lacks. When the tag already holds signatures their
// layers are kept and the new one is appended; when one of them already
// signs this payload with key (cosign's duplicate detection) nothing is
// written and that signature is returned.
//
// The payload names repo (as cosign's docker-reference) and the digest.
// ECDSA and RSA keys sign its SHA-256 (RSA with PKCS #1 v1.5), Ed25519 keys
// the payload itself: the schemes `cosign verify --key` and Flux check. The
// signature is verified with key's public half before anything is pushed.
//
// Two signers appending to the same tag at once can lose one signature, as
// with cosign: the tag is read, then written.
func Sign(ctx context.Context, s oci.Store, repo string, image v1.Descriptor, key crypto.Signer) (Signature, error) {
	subject := repo + "@" + image.Digest.String()
	fail := func(err error) (Signature, error) {
		return Signature{}, fmt.Errorf("signing %s with cosign: %w", subject, err)
	}
	if image.Digest.Hex == "" {
		return Signature{}, fmt.Errorf("signing in %s with cosign: image descriptor has no digest", repo)
	}
	if key == nil {
		return fail(errors.New("no key given"))
	}
	pub := key.Public()
	if err := checkKey(pub); err != nil {
		return fail(err)
	}
	keyID, err := KeyID(pub)
	if err != nil {
		return fail(err)
	}
	payload, err := newPayload(repo, image.Digest)
	if err != nil {
		return fail(err)
	}
	dockerRef, err := checkClaims(payload, image.Digest)
	if err != nil {
		return fail(err) // cannot happen: newPayload wrote it
	}
	pd := oci.DescriptorOf(MediaTypeSimpleSigning, payload)
	tag := SignatureTag(image.Digest)
	ref, err := oci.ParseRef(repo + ":" + tag)
	if err != nil {
		return fail(err)
	}

	base, err := readSignatureImage(ctx, s, repo, ref)
	if err != nil {
		return fail(err)
	}
	result := Signature{Tag: tag, Layer: pd.Digest, Payload: payload, DockerReference: dockerRef, KeyID: keyID}
	for _, l := range base.manifest.Layers {
		if l.MediaType != MediaTypeSimpleSigning || l.Digest != pd.Digest {
			continue
		}
		b64 := l.Annotations[AnnotationSignature]
		if sig, err := base64.StdEncoding.DecodeString(b64); err == nil && verifySignature(pub, payload, sig) {
			result.Digest, result.Signature = base.digest, b64
			return result, nil
		}
	}
	if len(base.manifest.Layers) >= maxLayers {
		return fail(fmt.Errorf("tag %s holds %d signatures already, the most cosign reads: %w", tag, len(base.manifest.Layers), oci.ErrTooLarge))
	}

	sig, err := signPayload(key, payload)
	if err != nil {
		return fail(err)
	}
	if !verifySignature(pub, payload, sig) {
		return fail(errors.New("the key made a signature that does not verify with its public key"))
	}
	result.Signature = base64.StdEncoding.EncodeToString(sig)
	layer := pd
	layer.Annotations = map[string]string{AnnotationSignature: result.Signature}

	m := base.manifest
	m.Layers = append(m.Layers, layer)
	cfg := base.config
	if len(cfg.RootFS.DiffIDs) != len(base.manifest.Layers) {
		// Signature layers are not compressed: a layer's diff ID is its digest.
		cfg.RootFS.DiffIDs = nil
		for _, l := range base.manifest.Layers {
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.Digest)
		}
	}
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, pd.Digest)
	if len(cfg.History) == len(base.manifest.Layers) {
		cfg.History = append(cfg.History, v1.History{}) // as go-containerregistry's mutate.Append adds
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		return fail(fmt.Errorf("encoding signature config: %w", err))
	}
	m.Config = oci.DescriptorOf(m.Config.MediaType, cb)
	mb, err := json.Marshal(m)
	if err != nil {
		return fail(fmt.Errorf("encoding signature manifest: %w", err))
	}
	md := oci.DescriptorOf(m.MediaType, mb)

	if err := oci.PushBytes(ctx, s, repo, pd, payload); err != nil {
		return fail(fmt.Errorf("pushing payload: %w", err))
	}
	if err := oci.PushBytes(ctx, s, repo, m.Config, cb); err != nil {
		return fail(fmt.Errorf("pushing signature config: %w", err))
	}
	if err := s.Push(ctx, repo, md, bytes.NewReader(mb)); err != nil {
		return fail(fmt.Errorf("pushing signature manifest: %w", err))
	}
	if err := s.Tag(ctx, ref, md); err != nil {
		return fail(fmt.Errorf("tagging signature manifest %s: %w", tag, err))
	}
	result.Digest = md.Digest
	return result, nil
}

// signatureImage is the signature image a tag holds, or a new empty one.
type signatureImage struct {
	digest   v1.Hash // zero for a new one
	manifest v1.Manifest
	config   v1.ConfigFile
}

// readSignatureImage reads the signature image at ref, or returns the empty
// one cosign starts from (go-containerregistry's empty.Image with OCI media
// types, created now) when the tag does not exist.
func readSignatureImage(ctx context.Context, s oci.Reader, repo string, ref oci.Ref) (signatureImage, error) {
	fresh := signatureImage{
		manifest: v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			Config:        v1.Descriptor{MediaType: types.OCIConfigJSON},
			Layers:        []v1.Descriptor{},
		},
		config: v1.ConfigFile{
			Created: v1.Time{Time: time.Now().UTC().Truncate(time.Second)},
			RootFS:  v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}},
		},
	}
	d, err := s.Resolve(ctx, ref)
	if errors.Is(err, oci.ErrNotFound) {
		return fresh, nil
	}
	if err != nil {
		return signatureImage{}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	if !isImageManifest(d.MediaType) {
		return signatureImage{}, fmt.Errorf("%s is a %q, not an image manifest of signatures: %w", ref, d.MediaType, oci.ErrUnsupported)
	}
	b, err := oci.FetchBytes(ctx, s, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return signatureImage{}, fmt.Errorf("reading %s: %w", ref, err)
	}
	img := signatureImage{digest: d.Digest}
	if err := json.Unmarshal(b, &img.manifest); err != nil {
		return signatureImage{}, fmt.Errorf("decoding %s: %w", ref, err)
	}
	img.manifest.MediaType = d.MediaType
	if img.manifest.Layers == nil {
		img.manifest.Layers = []v1.Descriptor{}
	}
	if img.manifest.Config.MediaType == "" {
		img.manifest.Config.MediaType = types.OCIConfigJSON
	}
	// The config is rewritten (its diff IDs grow); keep what it says
	// (created, history) when it can be read, else start afresh as the
	// layers are what matter.
	img.config = fresh.config
	cb, err := oci.FetchBytes(ctx, s, repo, img.manifest.Config, oci.MaxManifestBytes)
	switch {
	case err == nil:
		var c v1.ConfigFile
		if json.Unmarshal(cb, &c) == nil {
			img.config = c
			if img.config.Created.IsZero() {
				img.config.Created = fresh.config.Created
			}
		}
	case !errors.Is(err, oci.ErrNotFound):
		return signatureImage{}, fmt.Errorf("reading config of %s: %w", ref, err)
	}
	return img, nil
}

// signPayload signs payload with key in the scheme verifySignature checks
// first for its type: the SHA-256 of the payload for ECDSA (ASN.1 DER, as
// crypto.Signer returns it) and RSA (PKCS #1 v1.5), the payload itself for
// Ed25519.
func signPayload(key crypto.Signer, payload []byte) ([]byte, error) {
	switch key.Public().(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
		h := sha256.Sum256(payload)
		sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("signing payload: %w", err)
		}
		return sig, nil
	case ed25519.PublicKey:
		sig, err := key.Sign(rand.Reader, payload, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("signing payload: %w", err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("key type %T is not supported", key.Public())
}
