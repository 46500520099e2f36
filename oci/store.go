package oci

import (
	"context"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Reader is the read side of a store.
//
// Repositories are named as in a Ref: with the registry host for a registry
// ("ghcr.io/stefanprodan/podinfo"), without one inside a CTF archive
// ("stefanprodan/podinfo"); see Ref.Repo.
type Reader interface {
	// Resolve returns the descriptor of the manifest that ref names, by tag or
	// by digest. It returns an error wrapping ErrNotFound when there is none.
	Resolve(ctx context.Context, ref Ref) (v1.Descriptor, error)

	// Fetch streams the blob or manifest d (chosen by d.MediaType, see
	// IsManifest) from repo. The caller closes the reader. Stores may return
	// the bytes unverified; callers that need proof wrap the reader with
	// VerifyReader.
	Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error)
}

// A ManifestReader reads a manifest by tag or digest in one round trip,
// where Resolve and then Fetch would take two. Stores that talk to a
// registry implement it; see ReadManifest.
type ManifestReader interface {
	// ReadManifest returns the descriptor of the manifest ref names and
	// its bytes, verified against the descriptor.
	ReadManifest(ctx context.Context, ref Ref) (v1.Descriptor, []byte, error)
}

// ReadManifest returns the descriptor and the verified bytes of the
// manifest ref names: in one request when r is a ManifestReader, else
// resolved, then fetched. A caller about to read what it resolves uses it
// instead of Resolve; one that only needs the digest keeps Resolve, which
// a registry answers without sending the manifest (and without counting it
// as a pull where pulls are rate-limited).
func ReadManifest(ctx context.Context, r Reader, ref Ref) (v1.Descriptor, []byte, error) {
	if mr, ok := r.(ManifestReader); ok {
		return mr.ReadManifest(ctx, ref)
	}
	d, err := r.Resolve(ctx, ref)
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	b, err := FetchBytes(ctx, r, ref.Repo(), d, MaxManifestBytes)
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	return d, b, nil
}

// Writer is the write side of a store.
type Writer interface {
	// Exists reports whether repo holds the blob or manifest d.
	Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error)

	// Push stores the content read from r as d in repo. It checks size and
	// digest while it streams and keeps nothing when they do not match: the
	// error then wraps ErrDigestMismatch or ErrSizeMismatch. Manifests (see
	// IsManifest) are stored untagged; use Tag to name them.
	Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error

	// Tag points ref (which must carry a tag) at the manifest d, which must
	// already be in ref's repository.
	Tag(ctx context.Context, ref Ref, d v1.Descriptor) error
}

// Store is a registry, a CTF archive or a bundle.
type Store interface {
	Reader
	Writer
}

// Mounter is an optional Writer extension: it makes the blob d, which the
// store holds in repository from, available in repository to without
// copying its bytes (a registry's cross-repository mount). It returns an
// error wrapping ErrNotFound when from does not hold d; callers then push.
type Mounter interface {
	Mount(ctx context.Context, from, to string, d v1.Descriptor) error
}

// AbsentPusher is an optional Writer extension for a caller that has just
// found, with Exists, that repo lacks the blob d: PushAbsent stores it as
// Push does, verifying size and digest the same way, but does not ask again
// whether repo already holds it. A caller that is not sure (a retry after a
// failed push that may have completed) uses Push.
type AbsentPusher interface {
	PushAbsent(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error
}

// TagLister is an optional Reader extension that lists the tags of a
// repository, in no particular order. A repository that does not exist has
// no tags: the result is empty, not an error.
type TagLister interface {
	Tags(ctx context.Context, repo string) ([]string, error)
}

// RepositoryLister is an optional Reader extension that lists the
// repositories a store holds (a registry's catalog, a CTF's index).
type RepositoryLister interface {
	Repositories(ctx context.Context) ([]string, error)
}
