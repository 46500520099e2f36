package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Referrers lists the manifests in repo whose subject is the manifest
// subject (signatures, SBOMs, attestations), optionally only those of
// artifactType ("" for all). It asks the OCI 1.1 referrers API
// (GET /v2/<name>/referrers/<digest>, following pagination) and, when the
// registry answers 404 for it, reads the index that clients of older
// registries keep under the tag "<alg>-<hex>" (the referrers tag schema).
// No referrers is an empty list, not an error.
func (s *Store) Referrers(ctx context.Context, repo string, subject v1.Hash, artifactType string) ([]v1.Descriptor, error) {
	ds, api, err := s.ReferrersAPI(ctx, repo, subject, artifactType)
	if err != nil || api {
		return ds, err
	}
	rn, err := s.parseRepo(repo)
	if err != nil {
		return nil, opError("referrers", repo, subject, err)
	}
	c, err := s.client(ctx, rn.reg, rn.host, pullScope(rn))
	if err != nil {
		return nil, opError("referrers", repo, subject, err)
	}
	return s.referrersTag(ctx, c, rn, subject, artifactType)
}

// ReferrersAPI lists the referrers of subject through the OCI 1.1 referrers
// API only. api is false when the registry has none (it answered 404, which
// a registry with the API never does): the Store remembers that per
// registry and asks no more, so that a caller who listed the repository's
// tags already, and knows whether the tag schema holds an index, sends no
// request at all.
//
// The first request to a registry goes alone: concurrent callers wait for
// its answer rather than each learning that the registry has no API.
func (s *Store) ReferrersAPI(ctx context.Context, repo string, subject v1.Hash, artifactType string) (ds []v1.Descriptor, api bool, err error) {
	rn, err := s.parseRepo(repo)
	if err != nil {
		return nil, true, opError("referrers", repo, subject, err)
	}
	v, _ := s.referrersProbes.LoadOrStore(rn.host, &referrersProbe{})
	p := v.(*referrersProbe)
	p.mu.Lock()
	if !p.answered {
		defer p.mu.Unlock()
		ds, api, err = s.referrersAPI(ctx, rn, repo, subject, artifactType)
		p.answered = err == nil
		return ds, api, err
	}
	p.mu.Unlock()
	return s.referrersAPI(ctx, rn, repo, subject, artifactType)
}

// referrersProbe lets one request find out whether a registry has the
// referrers API.
type referrersProbe struct {
	mu       sync.Mutex
	answered bool
}

func (s *Store) referrersAPI(ctx context.Context, rn repoName, repo string, subject v1.Hash, artifactType string) ([]v1.Descriptor, bool, error) {
	fail := func(err error) ([]v1.Descriptor, bool, error) {
		return nil, true, opError("referrers", repo, subject, err)
	}
	if _, none := s.noReferrersAPI.Load(rn.host); none {
		return nil, false, nil
	}
	c, err := s.client(ctx, rn.reg, rn.host, pullScope(rn))
	if err != nil {
		return fail(err)
	}
	target := c.url("/v2/" + rn.path + "/referrers/" + subject.String())
	if artifactType != "" {
		target += "?" + url.Values{"artifactType": {artifactType}}.Encode()
	}
	var out []v1.Descriptor
	for range maxPages {
		req, err := c.newRequest(ctx, http.MethodGet, target, nil)
		if err != nil {
			return fail(err)
		}
		req.Header.Set("Accept", oci.MediaTypeOCIIndex)
		resp, err := c.do(req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode == http.StatusNotFound && out == nil {
			resp.Body.Close()
			s.noReferrersAPI.Store(rn.host, true)
			return nil, false, nil
		}
		if resp.StatusCode != http.StatusOK {
			return fail(responseError(rn.host, resp))
		}
		var idx v1.IndexManifest
		if err := decodeJSON(resp, &idx); err != nil {
			return fail(&RequestError{Host: rn.host, Method: req.Method, Path: req.URL.Path, Err: err})
		}
		out = append(out, filterArtifactType(idx.Manifests, artifactType)...)
		next, ok := nextLink(resp)
		if !ok {
			if out == nil {
				out = []v1.Descriptor{}
			}
			return out, true, nil
		}
		target = next
	}
	return fail(fmt.Errorf("more than %d pages of referrers", maxPages))
}

// referrersTag reads the referrers index kept under the tag schema.
func (s *Store) referrersTag(ctx context.Context, c *client, rn repoName, subject v1.Hash, artifactType string) ([]v1.Descriptor, error) {
	tag := ReferrersTag(subject)
	b, _, err := s.getManifest(ctx, c, rn, tag, types.OCIImageIndex)
	if errors.Is(err, oci.ErrNotFound) {
		return []v1.Descriptor{}, nil
	}
	if err != nil {
		return nil, opError("referrers", rn.full+":"+tag, subject, err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, opError("referrers", rn.full+":"+tag, subject, fmt.Errorf("decoding the referrers index: %w", err))
	}
	out := filterArtifactType(idx.Manifests, artifactType)
	if out == nil {
		out = []v1.Descriptor{}
	}
	return out, nil
}

// ReferrersTag is oci.ReferrersTag.
func ReferrersTag(dg v1.Hash) string { return oci.ReferrersTag(dg) }

func filterArtifactType(ds []v1.Descriptor, artifactType string) []v1.Descriptor {
	if artifactType == "" {
		return ds
	}
	var out []v1.Descriptor
	for _, d := range ds {
		if d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	return out
}
