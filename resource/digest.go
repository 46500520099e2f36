package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
)

// The digest rules of a resource's content, in one place: what a recorded
// digest promises, and when content can be compared with it.

// LabelFilteredFrom is the label a transfer puts on a resource whose image
// landed as an index filtered to some platforms: its value is the digest of
// the index the resource's digest describes ("sha256:…").
const LabelFilteredFrom = "ferry.ferry-oci.github.io/filtered-from"

// IsFilteredCopy reports whether r is a copy filtered to some platforms
// (ferry transfer --platform): its access names another index than the one
// its digest describes, and its label LabelFilteredFrom says so. Its
// content cannot be proven against the signed digest: only the platforms it
// kept can be.
func IsFilteredCopy(r *component.Resource) bool {
	if r.Digest == nil {
		return false
	}
	for _, l := range r.Labels {
		var from string
		if l.Name == LabelFilteredFrom && json.Unmarshal(l.Value, &from) == nil && from == "sha256:"+r.Digest.Value {
			return true
		}
	}
	return false
}

// CheckArtifactDigest compares an artifact resource's recorded digest with
// got, the digest of the manifest the source holds. It reports whether it
// could compare them; a difference is an error wrapping
// component.ErrDigestChanged. A filtered copy (IsFilteredCopy) is not
// compared. A genericBlobDigest/v1 is the manifest digest for an image or
// an OCI-native local blob (as OCM v2 records them); for an OCM v1 artifact
// set it is of the set's bytes (CheckBlobDigest), or, when ferry stored an
// image OCM v2 recorded as a set, its main manifest's: only a match is
// reported then.
func CheckArtifactDigest(r *component.Resource, got v1.Hash) (bool, error) {
	if r.Digest == nil || r.Digest.IsExcluded() || IsFilteredCopy(r) {
		return false, nil
	}
	if r.Digest.NormalisationAlgorithm == component.GenericBlobDigestV1 && isArtifactSetBlob(r) {
		return isSHA256(r.Digest) && got.Algorithm == "sha256" && r.Digest.Value == got.Hex, nil
	}
	if !isSHA256(r.Digest) || got.Algorithm != "sha256" {
		return false, nil
	}
	if r.Digest.Value != got.Hex {
		return false, fmt.Errorf("the source artifact is %s, the descriptor records %s: %w", got, r.Digest, component.ErrDigestChanged)
	}
	return true, nil
}

// CheckBlobDigest compares a blob resource's recorded generic digest with
// the blob's own digest (equal for SHA-256; copying verifies the bytes). It
// reports whether it could compare them; a difference is an error wrapping
// component.ErrDigestChanged.
func CheckBlobDigest(r *component.Resource, blob v1.Hash) (bool, error) {
	if r.Digest == nil || r.Digest.IsExcluded() || r.Digest.NormalisationAlgorithm != component.GenericBlobDigestV1 {
		return false, nil
	}
	if !isSHA256(r.Digest) || blob.Algorithm != "sha256" {
		return false, nil
	}
	if r.Digest.Value != blob.Hex && isArtifactSetBlob(r) {
		return false, nil // it may name the set's image (CheckArtifactDigest compares that)
	}
	if r.Digest.Value != blob.Hex {
		return false, fmt.Errorf("the blob is %s, the descriptor records %s: %w", blob, r.Digest, component.ErrDigestChanged)
	}
	return true, nil
}

func isSHA256(d *component.DigestSpec) bool {
	return strings.EqualFold(d.HashAlgorithm, "sha-256") || strings.EqualFold(d.HashAlgorithm, "sha256")
}

// VerifyDigests recomputes the digest of every resource of the version
// from its content and compares it with the recorded one; a difference is
// an error wrapping component.ErrDigestChanged. Resources without a digest
// or content, filtered copies, and, when s.Images is nil, images in other
// registries are left out.
func (s *Content) VerifyDigests(ctx context.Context) error {
	d := s.Version.Descriptor
	for i := range d.Resources {
		r := &d.Resources[i]
		if r.Digest == nil || r.Digest.IsExcluded() || r.Access.IsNone() || IsFilteredCopy(r) {
			continue
		}
		if s.Images == nil && r.Access.Kind() == component.AccessOCIArtifact {
			continue
		}
		got, err := s.Digest(ctx, r, r.Digest)
		if err != nil {
			return fmt.Errorf("verifying content: %w", err)
		}
		if got.Value != r.Digest.Value {
			return fmt.Errorf("verifying %s: content digest %s differs from the signed %s: %w", s.Name(r), got, r.Digest, component.ErrDigestChanged)
		}
	}
	return nil
}
