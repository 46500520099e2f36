package cosign

import (
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// Names in cosign's formats.
const (
	// MediaTypeSimpleSigning is the media type of a signature layer: its
	// blob is the payload that was signed.
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	// AnnotationSignature is the layer annotation holding the signature
	// over the payload, base64 (standard encoding, padded).
	AnnotationSignature = "dev.cosignproject.cosign/signature"
	// ArtifactTypeSignature is the artifact type of the OCI 1.1 referrers
	// cosign writes in its experimental mode (COSIGN_EXPERIMENTAL,
	// --registry-referrers-mode=oci-1-1).
	ArtifactTypeSignature = "application/vnd.dev.cosign.artifact.sig.v1+json"
	// PayloadType is critical.type of a container image signature payload.
	PayloadType = "cosign container image signature"
	// MaxPayloadBytes bounds the payloads Verify reads. Real ones are a few
	// hundred bytes.
	MaxPayloadBytes = 1 << 20
)

// SignatureTag returns the tag under which cosign keeps the signatures of
// the manifest h: "sha256-<hex>.sig".
func SignatureTag(h v1.Hash) string {
	return oci.ReferrersTag(h) + ".sig"
}

// simpleSigning is the payload cosign signs, with the field names and order
// of sigstore's payload.SimpleContainerImage (Red Hat's "simple signing"
// format, containers-signature(5)). Optional is null unless annotations
// were given, which ferry never does.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// newPayload returns the payload that signs the manifest digest in repo,
// byte for byte what `cosign sign` writes for it.
func newPayload(repo string, digest v1.Hash) ([]byte, error) {
	ref, err := dockerReference(repo)
	if err != nil {
		return nil, err
	}
	var p simpleSigning
	p.Critical.Identity.DockerReference = ref
	p.Critical.Image.DockerManifestDigest = digest.String()
	p.Critical.Type = PayloadType
	return json.Marshal(p)
}

// dockerReference is what cosign writes as critical.identity
// .docker-reference: the repository as go-containerregistry names it
// (name.Repository.Name()), so "docker.io/busybox" becomes
// "index.docker.io/library/busybox". A repository inside a CTF archive has
// no registry and is written as it is.
func dockerReference(repo string) (string, error) {
	r, err := oci.ParseRef(repo)
	if err != nil {
		return "", fmt.Errorf("repository %q: %w", repo, err)
	}
	if r.Tag != "" || r.Digest != (v1.Hash{}) {
		return "", fmt.Errorf("repository %q carries a tag or digest: %w", repo, oci.ErrInvalidReference)
	}
	if r.Registry == "" {
		return r.Repository, nil
	}
	n, err := name.NewRepository(repo)
	if err != nil {
		return "", fmt.Errorf("repository %q: %v: %w", repo, err, oci.ErrInvalidReference)
	}
	return n.Name(), nil
}

// checkClaims accepts a payload that is a cosign container image signature
// of the manifest digest, as cosign's SimpleClaimVerifier (and sigstore's
// payload.Cosign decoder, for the type) do. Like cosign, it does not
// require docker-reference to name the repository the image is read from:
// images are copied between registries and keep their signatures, and the
// digest alone binds the signature to the content. It returns the
// docker-reference.
func checkClaims(payload []byte, digest v1.Hash) (string, error) {
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", fmt.Errorf("payload is not simple signing JSON: %w", err)
	}
	if p.Critical.Type != PayloadType {
		return "", fmt.Errorf("payload is of type %q, not %q", p.Critical.Type, PayloadType)
	}
	if got := p.Critical.Image.DockerManifestDigest; got != digest.String() {
		return "", fmt.Errorf("payload signs %q, not this image", got)
	}
	return p.Critical.Identity.DockerReference, nil
}
