package bom

import (
	"cmp"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
)

// MediaType identifies a BOM document.
const MediaType = "application/vnd.ferry.bom.v1+json"

// BOM is the bill of materials of one crossing.
type BOM struct {
	MediaType  string      `json:"mediaType"` // MediaType
	Components []Component `json:"components,omitempty"`
	Images     []Image     `json:"images,omitempty"`
	// Blobs and Bytes count the unique blobs the crossing carries (every
	// layer, config and local blob, each once).
	Blobs int   `json:"blobs"`
	Bytes int64 `json:"bytes"`
}

// Component is one component version that crossed.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Digest is the descriptor digest (jsonNormalisation/v3, SHA-256): what
	// an OCM signature of the version signs, the same before and after.
	Digest component.DigestSpec `json:"digest"`
	// Manifest is the digest of the version's manifest in the target.
	Manifest   v1.Hash     `json:"manifest"`
	Source     string      `json:"source"`
	Target     string      `json:"target"`
	Signatures []Signature `json:"signatures,omitempty"`
	// VerifiedBy says how the crossing verified the version, when it was
	// asked to: "signature", or "reference from NAME:VERSION" (the digest a
	// verified version's reference records).
	VerifiedBy string      `json:"verifiedBy,omitempty"`
	Resources  []Resource  `json:"resources,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// Resource is one resource of a component version.
type Resource struct {
	Name          string            `json:"name"`
	Version       string            `json:"version,omitempty"`
	ExtraIdentity map[string]string `json:"extraIdentity,omitempty"`
	Type          string            `json:"type"`
	// Digest is what the descriptor records (and a signature covers).
	Digest *component.DigestSpec `json:"digest,omitempty"`
	// How the resource crossed: "by value", "local", "by reference" or "none".
	How string `json:"how"`
	// Location is where the content is after the crossing: an image
	// reference, or the local blob's digest.
	Location string `json:"location,omitempty"`
	// Checked says the content was compared with Digest during the crossing.
	Checked bool `json:"checked"`
}

// Reference is one component reference of a component version.
type Reference struct {
	Name          string                `json:"name"`
	ComponentName string                `json:"componentName"`
	Version       string                `json:"version"`
	Digest        *component.DigestSpec `json:"digest,omitempty"`
}

// Image is one image (or other OCI artifact) that crossed, with everything
// below it.
type Image struct {
	Source    string          `json:"source"` // repository read from
	Target    string          `json:"target"` // repository written to
	Digest    v1.Hash         `json:"digest"`
	MediaType types.MediaType `json:"mediaType"`
	Size      int64           `json:"size"` // of the manifest or index
	Tags      []string        `json:"tags,omitempty"`
	// Platforms lists the platforms of an index's children ("linux/amd64").
	Platforms []string `json:"platforms,omitempty"`
	// FilteredFrom is the original index when only some platforms crossed.
	FilteredFrom *v1.Hash `json:"filteredFrom,omitempty"`
	// For says what asked for it ("example.com/podinfo:6.3.5 resource image").
	For        string      `json:"for,omitempty"`
	Signatures []Signature `json:"signatures,omitempty"`
	// Attachments counts the signatures, attestations, SBOMs and referrers
	// that crossed with the image.
	Attachments int `json:"attachments,omitempty"`
}

// The kinds of signature.
const (
	KindOCM    = "ocm"    // a signature in a component descriptor
	KindCosign = "cosign" // a cosign key-based image signature
)

// Signature is one signature found on a component version or an image.
type Signature struct {
	Kind string `json:"kind"`
	// Name is an OCM signature's name ("acme").
	Name string `json:"name,omitempty"`
	// Algorithm is how it was made (RSASSA-PKCS1-V1_5, ecdsa-p256-sha256, …).
	Algorithm string `json:"algorithm,omitempty"`
	// Digest is what the signature names: the descriptor digest an OCM
	// signature signs, or the cosign signature manifest's digest.
	Digest string `json:"digest,omitempty"`
	// Verified says ferry checked it during the crossing with Key.
	Verified bool `json:"verified"`
	// Key is the fingerprint of the public key that verified it.
	Key string `json:"key,omitempty"`
}

// KeyID is the fingerprint the BOM records for a public key:
// "sha256:" and the hex SHA-256 of its PKIX (SubjectPublicKeyInfo) form.
func KeyID(pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// OCMSignatures lists the signatures of a component descriptor; verified
// maps the names of those that were verified to the key (KeyID) that did.
func OCMSignatures(d *component.Descriptor, verified map[string]string) []Signature {
	var out []Signature
	for _, s := range d.Signatures {
		k, ok := verified[s.Name]
		out = append(out, Signature{Kind: KindOCM, Name: s.Name, Algorithm: s.Signature.Algorithm,
			Digest: s.Digest.Value, Verified: ok, Key: k})
	}
	return out
}

// Component returns b's entry for the component version name:version, or
// nil (also when b is nil).
func (b *BOM) Component(name, version string) *Component {
	if b == nil {
		return nil
	}
	for i := range b.Components {
		if b.Components[i].Name == name && b.Components[i].Version == version {
			return &b.Components[i]
		}
	}
	return nil
}

// Sort puts every list of b in its canonical order.
func (b *BOM) Sort() {
	slices.SortFunc(b.Components, func(x, y Component) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Version, y.Version))
	})
	for i := range b.Components {
		c := &b.Components[i]
		sortSignatures(c.Signatures)
		slices.SortStableFunc(c.Resources, func(x, y Resource) int { return cmp.Compare(x.Name, y.Name) })
		slices.SortStableFunc(c.References, func(x, y Reference) int { return cmp.Compare(x.Name, y.Name) })
	}
	slices.SortFunc(b.Images, func(x, y Image) int {
		return cmp.Or(cmp.Compare(x.Target, y.Target), cmp.Compare(x.Digest.String(), y.Digest.String()))
	})
	for i := range b.Images {
		sortSignatures(b.Images[i].Signatures)
	}
}

func sortSignatures(s []Signature) {
	slices.SortStableFunc(s, func(x, y Signature) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Digest, y.Digest))
	})
}

// Validate checks that b is a BOM ferry can read: the media type, and a
// name, version and digest on every entry.
func (b *BOM) Validate() error {
	if b.MediaType != MediaType {
		return fmt.Errorf("bill of materials: media type %q, want %q", b.MediaType, MediaType)
	}
	for i, c := range b.Components {
		if c.Name == "" || c.Version == "" || c.Digest.Value == "" {
			return fmt.Errorf("bill of materials: components[%d]: name, version and digest are required", i)
		}
	}
	for i, im := range b.Images {
		if im.Target == "" || im.Digest == (v1.Hash{}) {
			return fmt.Errorf("bill of materials: images[%d]: target and digest are required", i)
		}
	}
	return nil
}
