package release

import (
	"context"
	"crypto"
	"fmt"
	"io/fs"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/oci"
)

// Published is where Publish put a GitOps artifact.
type Published struct {
	Reference string  `json:"reference"` // REPO:TAG@DIGEST, to pin in the GitOps tool
	Digest    v1.Hash `json:"digest"`
	// Signature is the cosign signature attached, when a signer was given.
	Signature *PublishedSignature `json:"signature,omitempty"`
}

// PublishedSignature is a cosign signature Publish attached.
type PublishedSignature struct {
	Reference string `json:"reference"` // the signature manifest, by tag and digest
	Key       string `json:"key"`       // the public key's fingerprint
}

// Publish builds the GitOps artifact of files (gitops.Build), pushes it to
// ref (gitops.Push)
// and, when signer is set, signs it as cosign does (cosign.Sign).
func Publish(ctx context.Context, store oci.Store, files fs.FS, ref oci.Ref, o gitops.Options, signer crypto.Signer) (*Published, error) {
	a, err := gitops.Build(files, o)
	if err != nil {
		return nil, fmt.Errorf("packing the manifests: %w", err)
	}
	d, err := gitops.Push(ctx, store, ref, a)
	if err != nil {
		return nil, fmt.Errorf("pushing %s: %w", ref, err)
	}
	p := &Published{Reference: ref.Repo() + ":" + ref.Tag + "@" + d.Digest.String(), Digest: d.Digest}
	if signer != nil {
		sig, err := cosign.Sign(ctx, store, ref.Repo(), d, signer)
		if err != nil {
			return nil, fmt.Errorf("signing %s: %w", p.Reference, err)
		}
		p.Signature = &PublishedSignature{Reference: ref.Repo() + ":" + sig.Tag + "@" + sig.Digest.String(), Key: sig.KeyID}
	}
	return p, nil
}
