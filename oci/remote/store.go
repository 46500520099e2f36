package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// smallBlob is the size up to which a blob is read and verified in memory
// before its upload starts, so that a failed upload can be started again.
// Larger blobs stream.
const smallBlob = 1 << 20

// Store is an oci.Store over OCI registries (it also implements oci.Mounter
// and oci.TagLister). It is safe for concurrent use; one Store serves a
// whole run, so that authentication happens once per registry and scope.
type Store struct {
	core      *core
	keychain  authn.Keychain
	pings     group[*transport.Challenge]
	auths     group[http.RoundTripper]
	manifests *manifestCache
	// noReferrersAPI holds the registries (hosts) that answered 404 for the
	// OCI 1.1 referrers API.
	noReferrersAPI  sync.Map
	referrersProbes sync.Map // host -> *referrersProbe
	// schemes holds the hosts a reference named with http:// or https://
	// (see RequireScheme).
	schemes sync.Map
}

var (
	_ oci.Store        = (*Store)(nil)
	_ oci.Mounter      = (*Store)(nil)
	_ oci.AbsentPusher = (*Store)(nil)
	_ oci.TagLister    = (*Store)(nil)
)

// New returns a Store configured by opts; see each Option for its default.
// It reads the files the options name (CA, client certificate, registry
// config) now, so that a bad one fails here, and contacts no registry.
func New(opts ...Option) (*Store, error) {
	s, err := build(opts)
	if err != nil {
		return nil, fmt.Errorf("configuring registry access: %w", err)
	}
	base, err := s.baseTransport()
	if err != nil {
		return nil, fmt.Errorf("configuring registry access: %w", err)
	}
	kc, err := s.keychainFor()
	if err != nil {
		return nil, fmt.Errorf("configuring registry access: %w", err)
	}
	return &Store{
		core: &core{
			base:        base,
			plainHTTP:   s.plainHTTP,
			userAgent:   s.userAgent,
			maxAttempts: s.maxAttempts,
			backoff:     s.backoff,
			log:         s.logger,
			listBudget:  s.listBudget,
		},
		keychain:  kc,
		manifests: newManifestCache(),
	}, nil
}

// manifestAccept lists the manifest types ferry reads, for the Accept header.
var manifestAccept = []string{oci.MediaTypeOCIManifest, oci.MediaTypeOCIIndex, oci.MediaTypeDockerManifest, oci.MediaTypeDockerIndex}

func acceptFor(mt types.MediaType) string {
	a := manifestAccept
	if mt != "" && !slices.Contains(a, string(mt)) {
		a = append([]string{string(mt)}, a...)
	}
	return strings.Join(a, ", ")
}

func manifestPath(rn repoName, ident string) string { return "/v2/" + rn.path + "/manifests/" + ident }
func blobPath(rn repoName, dg v1.Hash) string       { return "/v2/" + rn.path + "/blobs/" + dg.String() }

// Requests returns how many HTTP requests the Store has sent, each retry
// counted: what a run cost the registries.
func (s *Store) Requests() int64 { return s.core.requests.Load() }

// Resolve returns the descriptor of the manifest ref names, asking with HEAD
// and falling back to GET when the registry's answer lacks the digest, the
// size or the media type.
func (s *Store) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	fail := func(err error) (v1.Descriptor, error) {
		return v1.Descriptor{}, opError("resolve", ref.String(), ref.Digest, err)
	}
	rn, c, err := s.manifestClient(ctx, ref)
	if err != nil {
		return fail(err)
	}
	req, err := c.newRequest(ctx, http.MethodHead, manifestPath(rn, ref.Identifier()), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", acceptFor(""))
	resp, err := c.do(req)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(responseError(rn.host, resp))
	}
	resp.Body.Close()
	d := v1.Descriptor{MediaType: contentType(resp.Header), Size: resp.ContentLength, Digest: ref.Digest}
	if d.Digest == (v1.Hash{}) {
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
			d.Digest = h
		}
	}
	if d.Digest != (v1.Hash{}) && d.Size > 0 && oci.IsManifest(d.MediaType) {
		return d, nil
	}
	// The answer was incomplete: read the manifest itself.
	d, _, err = s.readManifest(ctx, c, rn, ref)
	if err != nil {
		return fail(err)
	}
	return d, nil
}

// ReadManifest implements oci.ManifestReader: one GET, where Resolve and
// Fetch take a HEAD and a GET. The manifest is kept for a Fetch of it that
// follows.
func (s *Store) ReadManifest(ctx context.Context, ref oci.Ref) (v1.Descriptor, []byte, error) {
	fail := func(err error) (v1.Descriptor, []byte, error) {
		return v1.Descriptor{}, nil, opError("resolve", ref.String(), ref.Digest, err)
	}
	rn, c, err := s.manifestClient(ctx, ref)
	if err != nil {
		return fail(err)
	}
	d, b, err := s.readManifest(ctx, c, rn, ref)
	if err != nil {
		return fail(err)
	}
	return d, bytes.Clone(b), nil // the cache keeps b
}

// manifestClient parses ref's repository, which must come with a tag or a
// digest, and returns the client that reads it.
func (s *Store) manifestClient(ctx context.Context, ref oci.Ref) (repoName, *client, error) {
	if ref.Identifier() == "" {
		return repoName{}, nil, fmt.Errorf("no tag or digest: %w", oci.ErrInvalidReference)
	}
	rn, err := s.parseRepo(ref.Repo())
	if err != nil {
		return repoName{}, nil, err
	}
	c, err := s.client(ctx, rn.reg, rn.host, pullScope(rn))
	return rn, c, err
}

// readManifest GETs the manifest ref names from rn, checks it against ref's
// digest when it has one (otherwise its digest is the sha256 of the bytes
// received), and keeps it in the manifest cache.
func (s *Store) readManifest(ctx context.Context, c *client, rn repoName, ref oci.Ref) (v1.Descriptor, []byte, error) {
	if ref.Digest != (v1.Hash{}) {
		if b, mt, ok := s.manifests.get(rn.full, ref.Digest); ok {
			return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: ref.Digest}, b, nil
		}
	}
	b, mt, err := s.getManifest(ctx, c, rn, ref.Identifier(), "")
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	d := v1.Descriptor{Digest: ref.Digest, Size: int64(len(b))}
	if d.Digest != (v1.Hash{}) {
		if err := verifyBytes(b, v1.Descriptor{Digest: ref.Digest, Size: -1}); err != nil {
			return v1.Descriptor{}, nil, err
		}
	} else {
		d.Digest = oci.Digest(b)
	}
	if !oci.IsManifest(mt) {
		mt = oci.MediaTypeOf(b)
	}
	d.MediaType = mt
	s.manifests.put(rn.full, d.Digest, mt, b)
	return d, b, nil
}

// contentType returns the media type of a Content-Type header, without
// parameters.
func contentType(h http.Header) types.MediaType {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return types.MediaType(mt)
}

// getManifest GETs the manifest ident (tag or digest) of rn, bounded by
// oci.MaxManifestBytes, and returns it with the media type the registry
// named. It does not verify the bytes.
func (s *Store) getManifest(ctx context.Context, c *client, rn repoName, ident string, mt types.MediaType) ([]byte, types.MediaType, error) {
	req, err := c.newRequest(ctx, http.MethodGet, manifestPath(rn, ident), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", acceptFor(mt))
	resp, err := c.do(req)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", responseError(rn.host, resp)
	}
	defer resp.Body.Close()
	if resp.ContentLength > oci.MaxManifestBytes {
		return nil, "", fmt.Errorf("manifest of %d bytes, more than %d: %w", resp.ContentLength, oci.MaxManifestBytes, oci.ErrTooLarge)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, oci.MaxManifestBytes+1))
	if err != nil {
		return nil, "", &RequestError{Host: rn.host, Method: req.Method, Path: req.URL.Path, Err: err}
	}
	if len(b) > oci.MaxManifestBytes {
		return nil, "", fmt.Errorf("manifest larger than %d bytes: %w", oci.MaxManifestBytes, oci.ErrTooLarge)
	}
	return b, contentType(resp.Header), nil
}

// sizeIfKnown returns the manifest descriptor d for verification: a size
// of 0 (no manifest is empty) means the caller did not know it.
func sizeIfKnown(d v1.Descriptor) v1.Descriptor {
	if d.Size <= 0 {
		d.Size = -1
	}
	return d
}

// verifyBytes checks b against d's digest and, when d.Size >= 0, its size.
func verifyBytes(b []byte, d v1.Descriptor) error {
	vr, err := oci.VerifyReader(bytes.NewReader(b), d)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, vr)
	return err
}

// Fetch streams the blob d from repo, or returns the manifest d (read whole,
// bounded by oci.MaxManifestBytes, and verified). The caller closes the
// reader. Blob bytes are not verified; wrap the reader with
// oci.VerifyReader. A read that fails mid-stream returns an *oci.Error that
// oci.Temporary recognises when a retry may help.
func (s *Store) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	fail := func(err error) (io.ReadCloser, error) { return nil, opError("fetch", repo, d.Digest, err) }
	rn, err := s.parseRepo(repo)
	if err != nil {
		return fail(err)
	}
	c, err := s.client(ctx, rn.reg, rn.host, pullScope(rn))
	if err != nil {
		return fail(err)
	}
	if oci.IsManifest(d.MediaType) {
		if b, _, ok := s.manifests.get(rn.full, d.Digest); ok {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		b, mt, err := s.getManifest(ctx, c, rn, d.Digest.String(), d.MediaType)
		if err != nil {
			return fail(err)
		}
		if err := verifyBytes(b, sizeIfKnown(d)); err != nil {
			return fail(err)
		}
		if !oci.IsManifest(mt) {
			mt = d.MediaType
		}
		s.manifests.put(rn.full, d.Digest, mt, b)
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	req, err := c.newRequest(ctx, http.MethodGet, blobPath(rn, d.Digest), nil)
	if err != nil {
		return fail(err)
	}
	resp, err := c.do(req)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(responseError(rn.host, resp))
	}
	if d.Size >= 0 && resp.ContentLength >= 0 && resp.ContentLength != d.Size {
		resp.Body.Close()
		return fail(fmt.Errorf("%s announced %d bytes, want %d: %w", rn.host, resp.ContentLength, d.Size, oci.ErrSizeMismatch))
	}
	return &bodyReader{ctx: ctx, rc: resp.Body, repo: repo, d: d, host: rn.host, path: req.URL.Path}, nil
}

// bodyReader turns the read errors of a blob's body into *oci.Error, and
// stops at the first read after ctx is done, whatever the connection has
// buffered already.
type bodyReader struct {
	ctx  context.Context
	rc   io.ReadCloser
	repo string
	d    v1.Descriptor
	host string
	path string
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, opError("fetch", b.repo, b.d.Digest, err)
	}
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = opError("fetch", b.repo, b.d.Digest, &RequestError{Host: b.host, Method: http.MethodGet, Path: b.path, Err: err})
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }

// Exists reports whether repo holds the blob or manifest d, asking with HEAD.
func (s *Store) Exists(ctx context.Context, repo string, d v1.Descriptor) (bool, error) {
	rn, err := s.parseRepo(repo)
	if err != nil {
		return false, opError("exists", repo, d.Digest, err)
	}
	c, err := s.client(ctx, rn.reg, rn.host, pullScope(rn))
	if err != nil {
		return false, opError("exists", repo, d.Digest, err)
	}
	ok, err := s.head(ctx, c, rn, d)
	if err != nil {
		return false, opError("exists", repo, d.Digest, err)
	}
	return ok, nil
}

// head asks whether rn holds d: true for 200, false for 404.
func (s *Store) head(ctx context.Context, c *client, rn repoName, d v1.Descriptor) (bool, error) {
	path := blobPath(rn, d.Digest)
	if oci.IsManifest(d.MediaType) {
		path = manifestPath(rn, d.Digest.String())
	}
	req, err := c.newRequest(ctx, http.MethodHead, path, nil)
	if err != nil {
		return false, err
	}
	if oci.IsManifest(d.MediaType) {
		req.Header.Set("Accept", acceptFor(d.MediaType))
	}
	resp, err := c.do(req)
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		resp.Body.Close()
		return true, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return false, nil
	}
	return false, responseError(rn.host, resp)
}

// Push stores the content of r as d in repo. A blob the repository already
// holds is not uploaded again (r is then not read). Blobs up to 1 MiB are
// verified in memory first (and a failed upload of one that a retry may
// cure is started again, up to the WithRetry attempts); larger ones stream
// through oci.VerifyReader
// with their last bytes held back until they verify, so content that does
// not match d never completes an upload: the error then wraps
// oci.ErrDigestMismatch or oci.ErrSizeMismatch and the upload is cancelled.
// A streamed upload cannot be replayed, so a failure that a retry may cure
// (a 5xx, a reset connection) is returned at once as an error oci.Temporary
// recognises, for the caller to push again with a fresh reader. Manifests
// (see oci.IsManifest) are read whole, verified and put by digest.
func (s *Store) Push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	return s.push(ctx, repo, d, r, true)
}

// PushAbsent is Push without the HEAD that asks whether repo already holds
// the blob d: for a caller that has just been told it does not (see
// oci.AbsentPusher). The upload still commits with d's digest, so the
// registry checks the content as it does for Push. Manifests are pushed as
// by Push, which does not ask first either.
func (s *Store) PushAbsent(ctx context.Context, repo string, d v1.Descriptor, r io.Reader) error {
	return s.push(ctx, repo, d, r, false)
}

// push is Push; askFirst makes it skip blobs repo already holds.
func (s *Store) push(ctx context.Context, repo string, d v1.Descriptor, r io.Reader, askFirst bool) error {
	fail := func(err error) error { return opError("push", repo, d.Digest, err) }
	rn, err := s.parseRepo(repo)
	if err != nil {
		return fail(err)
	}
	if _, err := oci.NewHasher(d.Digest.Algorithm); err != nil {
		return fail(err)
	}
	c, err := s.client(ctx, rn.reg, rn.host, pushScope(rn))
	if err != nil {
		return fail(err)
	}
	switch {
	case oci.IsManifest(d.MediaType):
		err = s.pushManifest(ctx, c, rn, d, r)
	case askFirst:
		err = s.pushMissingBlob(ctx, c, rn, d, r)
	default:
		err = s.pushBlob(ctx, c, rn, d, r)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

func (s *Store) pushManifest(ctx context.Context, c *client, rn repoName, d v1.Descriptor, r io.Reader) error {
	b, err := readVerified(r, d, oci.MaxManifestBytes)
	if err != nil {
		return err
	}
	if err := s.putManifest(ctx, c, rn, d.Digest.String(), d.MediaType, b); err != nil {
		return err
	}
	s.manifests.put(rn.full, d.Digest, d.MediaType, b)
	return nil
}

// readVerified reads r whole, at most limit bytes, and checks it against d.
func readVerified(r io.Reader, d v1.Descriptor, limit int64) ([]byte, error) {
	if d.Size > limit {
		return nil, fmt.Errorf("%d bytes, more than the %d read into memory: %w", d.Size, limit, oci.ErrTooLarge)
	}
	vr, err := oci.VerifyReader(io.LimitReader(r, limit+1), d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if d.Size > 0 {
		buf.Grow(int(d.Size))
	}
	if _, err := io.Copy(&buf, vr); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, oci.ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// putManifest PUTs b under ident (a digest or a tag).
func (s *Store) putManifest(ctx context.Context, c *client, rn repoName, ident string, mt types.MediaType, b []byte) error {
	if mt == "" {
		mt = oci.MediaTypeOf(b)
	}
	if mt == "" {
		return fmt.Errorf("manifest has no media type: %w", oci.ErrUnsupported)
	}
	req, err := c.newRequest(ctx, http.MethodPut, manifestPath(rn, ident), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", string(mt))
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return responseError(rn.host, resp)
	}
	resp.Body.Close()
	return nil
}

// pushMissingBlob pushes the blob d unless rn already holds it.
func (s *Store) pushMissingBlob(ctx context.Context, c *client, rn repoName, d v1.Descriptor, r io.Reader) error {
	if ok, err := s.head(ctx, c, rn, d); err != nil || ok {
		return err
	}
	return s.pushBlob(ctx, c, rn, d, r)
}

// pushBlob uploads the blob d, verified on the way; see Push.
func (s *Store) pushBlob(ctx context.Context, c *client, rn repoName, d v1.Descriptor, r io.Reader) error {
	if d.Size < 0 || d.Size > smallBlob {
		vr, err := oci.VerifyReader(r, d)
		if err != nil {
			return err
		}
		return s.upload(ctx, c, rn, d, &holdBack{r: vr, size: d.Size})
	}
	b, err := readVerified(r, d, smallBlob)
	if err != nil {
		return err
	}
	// The bytes are at hand, so a failed upload is started again as a
	// whole: a session the registry answered 5xx for may be gone.
	for attempt := 1; ; attempt++ {
		err := s.upload(ctx, c, rn, d, &holdBack{r: bytes.NewReader(b), size: -1})
		if err == nil || !uploadAgain(err) || attempt >= s.core.maxAttempts {
			return err
		}
		var re *RequestError
		wait := s.core.backoffFor(attempt)
		if errors.As(err, &re) && re.retryAfter > 0 {
			wait = re.retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// uploadAgain reports whether an upload that failed with err is worth
// starting again.
func uploadAgain(err error) bool {
	var re *RequestError
	if errors.As(err, &re) && re.Status != 0 {
		return retryableStatus(re.Status) || re.Code == "BLOB_UPLOAD_UNKNOWN"
	}
	return oci.Temporary(err)
}

// upload sends the content of hb as d in one monolithic upload (POST, then
// PUT with the digest), with Content-Length d.Size when it is known. The
// body is read once (the transport does not replay it). A failed upload is
// cancelled.
func (s *Store) upload(ctx context.Context, c *client, rn repoName, d v1.Descriptor, hb *holdBack) error {
	loc, err := s.startUpload(ctx, c, rn, nil)
	if err != nil {
		return err
	}
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("upload location %q: %w", loc, err)
	}
	q := u.Query()
	q.Set("digest", d.Digest.String())
	u.RawQuery = q.Encode()
	req, err := c.newRequest(ctx, http.MethodPut, u.String(), hb)
	if err != nil {
		return err
	}
	req.ContentLength = max(d.Size, -1) // -1: unknown, sent chunked
	if req.ContentLength == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req)
	if hb.err != nil {
		// The content, not the registry, failed: it did not verify, or
		// the reader it came from broke.
		if resp != nil {
			resp.Body.Close()
		}
		s.cancelUpload(ctx, c, u.String())
		if errors.Is(hb.err, oci.ErrDigestMismatch) || errors.Is(hb.err, oci.ErrSizeMismatch) {
			return hb.err
		}
		return fmt.Errorf("reading the content: %w", hb.err)
	}
	if err != nil {
		s.cancelUpload(ctx, c, u.String())
		return err
	}
	if resp.StatusCode/100 != 2 {
		re := responseError(rn.host, resp)
		s.cancelUpload(ctx, c, u.String())
		return re
	}
	resp.Body.Close()
	return nil
}

// startUpload opens an upload session in rn (with extra query parameters,
// e.g. a mount) and returns the absolute URL of its location. A 201
// (a mount that happened) returns "", nil.
func (s *Store) startUpload(ctx context.Context, c *client, rn repoName, query url.Values) (string, error) {
	target := c.url("/v2/" + rn.path + "/blobs/uploads/")
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := c.newRequest(ctx, http.MethodPost, target, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.do(req)
	if err != nil {
		return "", err
	}
	switch resp.StatusCode {
	case http.StatusCreated:
		resp.Body.Close()
		return "", nil
	case http.StatusAccepted:
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if loc == "" {
			return "", &RequestError{Host: rn.host, Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode,
				Message: "no Location header in the answer"}
		}
		u, err := resp.Request.URL.Parse(loc)
		if err != nil {
			return "", fmt.Errorf("upload location %q: %w", loc, err)
		}
		if u.Host == resp.Request.URL.Host && u.Scheme == "http" && resp.Request.URL.Scheme == "https" {
			// A registry behind a TLS proxy that does not say so
			// (X-Forwarded-Proto) names itself with http: stay on TLS.
			u.Scheme = "https"
		}
		return u.String(), nil
	}
	return "", responseError(rn.host, resp)
}

// cancelUpload deletes an upload session, best effort, even when ctx is
// cancelled: the registry would keep the partial upload until it purges it.
func (s *Store) cancelUpload(ctx context.Context, c *client, loc string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodDelete, loc, nil)
	if err != nil {
		return
	}
	if resp, err := c.do(req); err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}
}

// holdBack passes a VerifyReader through to an upload but keeps the last
// bytes of a stream of known size back until the VerifyReader has confirmed
// the end (it returns io.EOF only for content that verified): a registry
// never receives the whole body of content that does not verify, so it
// cannot commit it, whatever it checks itself.
type holdBack struct {
	r    io.Reader
	size int64 // -1 when unknown: the registry's digest check is all there is
	n    int64
	err  error // the first error of r other than io.EOF
	done bool
}

func (h *holdBack) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	if h.done {
		return 0, io.EOF
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	switch {
	case err == io.EOF:
		h.done = true
		return n, io.EOF
	case err != nil:
		h.err = err
		return 0, err
	case h.size >= 0 && h.n >= h.size:
		if err := h.confirmEnd(); err != nil {
			h.err = err
			return 0, err
		}
		h.done = true
	}
	return n, nil
}

// confirmEnd reads past the announced size: a verified end is io.EOF.
func (h *holdBack) confirmEnd() error {
	var one [1]byte
	for range 100 {
		m, err := h.r.Read(one[:])
		switch {
		case err == io.EOF && m == 0:
			return nil
		case err != nil && err != io.EOF:
			return err
		case m > 0:
			return fmt.Errorf("more than %d bytes: %w", h.size, oci.ErrSizeMismatch)
		}
	}
	return io.ErrNoProgress
}

// Tag points ref at the manifest d, which must be in ref's repository: it
// PUTs the manifest's bytes under the tag, taken from a cache of manifests
// this Store recently pushed or fetched, or else fetched by digest. A
// manifest the repository lacks gives an error wrapping oci.ErrNotFound.
func (s *Store) Tag(ctx context.Context, ref oci.Ref, d v1.Descriptor) error {
	fail := func(err error) error { return opError("tag", ref.String(), d.Digest, err) }
	if ref.Tag == "" {
		return fail(fmt.Errorf("no tag: %w", oci.ErrInvalidReference))
	}
	rn, err := s.parseRepo(ref.Repo())
	if err != nil {
		return fail(err)
	}
	c, err := s.client(ctx, rn.reg, rn.host, pushScope(rn))
	if err != nil {
		return fail(err)
	}
	b, mt, ok := s.manifests.get(rn.full, d.Digest)
	if !ok {
		b, mt, err = s.getManifest(ctx, c, rn, d.Digest.String(), d.MediaType)
		if err != nil {
			return fail(err)
		}
		if err := verifyBytes(b, sizeIfKnown(d)); err != nil {
			return fail(err)
		}
	}
	if d.MediaType != "" {
		mt = d.MediaType
	}
	if !oci.IsManifest(mt) {
		mt = oci.MediaTypeOf(b)
	}
	if err := s.putManifest(ctx, c, rn, ref.Tag, mt, b); err != nil {
		return fail(err)
	}
	return nil
}

// Mount makes the blob d, held in repository from, available in repository
// to of the same registry without copying it (POST …/blobs/uploads/?mount=
// &from=). When the registry does not mount (it answers 202: from lacks d, or
// the registry does not mount across repositories) the upload session it
// opened is cancelled and the error wraps oci.ErrNotFound, so the caller
// pushes instead. Repositories on two registries give the same error.
func (s *Store) Mount(ctx context.Context, from, to string, d v1.Descriptor) error {
	fail := func(err error) error { return opError("mount", to, d.Digest, err) }
	src, err := s.parseRepo(from)
	if err != nil {
		return fail(err)
	}
	dst, err := s.parseRepo(to)
	if err != nil {
		return fail(err)
	}
	if src.reg.RegistryStr() != dst.reg.RegistryStr() {
		return fail(fmt.Errorf("%s is on another registry than %s: %w", from, to, oci.ErrNotFound))
	}
	c, err := s.client(ctx, dst.reg, dst.host, pushScope(dst), pullScope(src))
	if err != nil {
		return fail(err)
	}
	loc, err := s.startUpload(ctx, c, dst, url.Values{"mount": {d.Digest.String()}, "from": {src.path}})
	if err != nil {
		return fail(err)
	}
	if loc != "" {
		s.cancelUpload(ctx, c, loc)
		return fail(fmt.Errorf("%s did not mount it from %s: %w", dst.host, from, oci.ErrNotFound))
	}
	return nil
}

// pageSize is how many tags or repositories a listing asks for per page.
var pageSize = 1000

// maxPages bounds a listing, against a registry whose pages never end.
const maxPages = 10000

// Tags lists the tags of repo, following the registry's pagination. A
// repository that does not exist has none. The pages are read one at a
// time and decoded as they stream, within the listing budget
// (WithListBudget): a registry that sends more, or links back to a page
// already read, gets an error naming it (wrapping oci.ErrTooLarge or
// ErrListLoop) instead of the memory of the machine.
func (s *Store) Tags(ctx context.Context, repo string) ([]string, error) {
	fail := func(err error) ([]string, error) { return nil, opError("list", repo, v1.Hash{}, err) }
	rn, err := s.parseRepo(repo)
	if err != nil {
		return fail(err)
	}
	c, err := s.client(ctx, rn.reg, rn.host, pullScope(rn))
	if err != nil {
		return fail(err)
	}
	tags := []string{}
	err = s.paginate(ctx, c, rn.host, "/v2/"+rn.path+"/tags/list", "tags", func(tag string) {
		tags = append(tags, tag)
	})
	if errors.Is(err, oci.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return fail(err)
	}
	return tags, nil
}

// Catalog lists the repositories of registry (a host as in references,
// "127.0.0.1:5000"), each with the host in front as Store methods take
// them. Registries may restrict or not offer the catalog API: errors then
// wrap oci.ErrUnauthorized, oci.ErrDenied, oci.ErrNotFound or
// oci.ErrUnsupported. The listing is bounded as Tags' is.
func (s *Store) Catalog(ctx context.Context, registry string) ([]string, error) {
	fail := func(err error) ([]string, error) { return nil, opError("list", registry, v1.Hash{}, err) }
	reg, err := s.registry(registry)
	if err != nil {
		return fail(err)
	}
	c, err := s.client(ctx, reg, registry, catalogScope)
	if err != nil {
		return fail(err)
	}
	repos := []string{}
	err = s.paginate(ctx, c, registry, "/v2/_catalog", "repositories", func(r string) {
		repos = append(repos, registry+"/"+r)
	})
	if err != nil {
		return fail(err)
	}
	return repos, nil
}

// Lister returns the catalog of one registry as an oci.RepositoryLister
// (a Store serves many registries, so it is not one itself).
func (s *Store) Lister(registry string) oci.RepositoryLister {
	return catalogLister{s: s, registry: registry}
}

type catalogLister struct {
	s        *Store
	registry string
}

func (l catalogLister) Repositories(ctx context.Context) ([]string, error) {
	return l.s.Catalog(ctx, l.registry)
}

// paginate GETs path?n=pageSize and then every page its Link headers name
// (rel="next"), streaming the strings of each page's field (an array) to
// each. Every byte of every page, and every string kept (its length and a
// string header's 16 bytes), counts against the store's listing budget; a
// page URL seen before is a loop.
func (s *Store) paginate(ctx context.Context, c *client, host, path, field string, each func(string)) error {
	next := c.url(path) + "?n=" + strconv.Itoa(pageSize)
	budget := s.core.listBudget
	seen := map[string]bool{}
	for range maxPages {
		if seen[next] {
			u, _ := url.Parse(next)
			return &RequestError{Host: host, Method: http.MethodGet, Path: path,
				Err: fmt.Errorf("%w: the registry links back to %s, a page already read", ErrListLoop, redactURL(u))}
		}
		seen[next] = true
		req, err := c.newRequest(ctx, http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		resp, err := c.do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return responseError(host, resp)
		}
		err = decodeList(resp.Body, field, &budget, each)
		resp.Body.Close()
		if errors.Is(err, oci.ErrTooLarge) {
			return &RequestError{Host: host, Method: req.Method, Path: req.URL.Path,
				Err: fmt.Errorf("the listing is larger than the %d bytes ferry reads: %w", s.core.listBudget, err)}
		}
		if err != nil {
			return &RequestError{Host: host, Method: req.Method, Path: req.URL.Path, Err: err}
		}
		n, ok := nextLink(resp)
		if !ok {
			return nil
		}
		next = n
	}
	return &RequestError{Host: host, Method: http.MethodGet, Path: path,
		Err: fmt.Errorf("more than %d pages: %w", maxPages, oci.ErrTooLarge)}
}

// decodeList reads a JSON object from r as it streams and passes each
// string of the array under field to each; other members are skipped. The
// bytes read and the strings kept are taken from *budget; going below zero
// is an error wrapping oci.ErrTooLarge. A null or missing field is an empty
// list.
func decodeList(r io.Reader, field string, budget *int64, each func(string)) error {
	cr := &budgetReader{r: r, left: budget}
	dec := json.NewDecoder(cr)
	tok, err := dec.Token()
	if err != nil {
		return listErr(cr, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("the answer is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return listErr(cr, err)
		}
		key, _ := tok.(string)
		if key != field {
			if err := skipValue(dec); err != nil {
				return listErr(cr, err)
			}
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return listErr(cr, err)
		}
		if tok == nil {
			continue
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("%q is not a list", field)
		}
		for dec.More() {
			var v string
			if err := dec.Decode(&v); err != nil {
				return listErr(cr, fmt.Errorf("%q: %w", field, err))
			}
			*budget -= int64(len(v)) + 16
			if *budget < 0 {
				return oci.ErrTooLarge
			}
			each(v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return listErr(cr, err)
		}
	}
	return nil
}

// skipValue reads past the next value of dec, however nested.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func listErr(cr *budgetReader, err error) error {
	if cr.over {
		return oci.ErrTooLarge
	}
	return err
}

// budgetReader reads from r while *left stays positive, taking what it
// reads from *left.
type budgetReader struct {
	r    io.Reader
	left *int64
	over bool
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if *b.left <= 0 {
		b.over = true
		return 0, oci.ErrTooLarge
	}
	if int64(len(p)) > *b.left {
		p = p[:*b.left]
	}
	n, err := b.r.Read(p)
	*b.left -= int64(n)
	return n, err
}

// decodeJSON decodes resp's body, bounded by oci.MaxManifestBytes, into v
// and closes it.
func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, oci.MaxManifestBytes+1))
	if err != nil {
		return err
	}
	if len(b) > oci.MaxManifestBytes {
		return fmt.Errorf("answer larger than %d bytes: %w", oci.MaxManifestBytes, oci.ErrTooLarge)
	}
	return json.Unmarshal(b, v)
}

// nextLink returns the absolute URL of a Link header's rel="next" target.
func nextLink(resp *http.Response) (string, bool) {
	for _, h := range resp.Header.Values("Link") {
		for _, l := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(l), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			target = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
			u, err := resp.Request.URL.Parse(target)
			if err != nil {
				return "", false
			}
			return u.String(), true
		}
	}
	return "", false
}
