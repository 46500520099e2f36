package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ReferrersTag returns the tag under which the referrers of the manifest
// dg are listed in stores without the OCI 1.1 referrers API: "<alg>-<hex>",
// with the algorithm cut to 32 and the hex to 64 characters (OCI
// distribution spec 1.1, "Referrers Tag Schema"). cosign's tags use it as
// their stem ("<alg>-<hex>.sig").
func ReferrersTag(dg v1.Hash) string {
	alg, hex := dg.Algorithm, dg.Hex
	if len(alg) > 32 {
		alg = alg[:32]
	}
	if len(hex) > 64 {
		hex = hex[:64]
	}
	return alg + "-" + hex
}

// TagReferrers reads the referrers of subject that the tag schema keeps in
// repo of r: the manifests the index tagged ReferrersTag(subject) lists. No
// such tag, or a tag of that name that is not an index, is no referrers.
// It is how referrers are read from stores without the API (CTF archives,
// bundles); a registry Store does it itself when its registry has none.
func TagReferrers(ctx context.Context, r Reader, repo string, subject v1.Hash) ([]v1.Descriptor, error) {
	ref, err := ParseRef(repo + ":" + ReferrersTag(subject))
	if err != nil {
		return nil, err
	}
	d, err := r.Resolve(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !IsIndex(d.MediaType) {
		return nil, nil
	}
	b, err := FetchBytes(ctx, r, repo, d, MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("decoding the referrers index %s: %w", ref, err)
	}
	return idx.Manifests, nil
}
