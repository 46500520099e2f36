package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ferry-oci/ferry/oci"
)

// repoName is a repository a Store method was given, split for the API.
type repoName struct {
	full string        // as given: "127.0.0.1:5000/air/podinfo"
	host string        // as in references: "127.0.0.1:5000", "docker.io"
	reg  name.Registry // the registry the API is spoken to ("index.docker.io" for docker.io)
	path string        // "air/podinfo"
}

// parseRepo splits a repository that carries its registry host.
func (s *Store) parseRepo(repo string) (repoName, error) {
	r, err := oci.ParseRef(repo)
	if err != nil {
		return repoName{}, err
	}
	if r.Tag != "" || r.Digest != (v1.Hash{}) {
		return repoName{}, fmt.Errorf("repository %q carries a tag or digest: %w", repo, oci.ErrInvalidReference)
	}
	reg, err := s.registry(r.Registry)
	if err != nil {
		return repoName{}, err
	}
	return repoName{full: repo, host: r.Registry, reg: reg, path: r.Repository}, nil
}

// registry returns the registry host names, marked insecure (so that
// go-containerregistry's ping falls back to plain HTTP) only when plain
// HTTP is allowed to it.
func (s *Store) registry(host string) (name.Registry, error) {
	if host == "" {
		return name.Registry{}, fmt.Errorf("no registry host: %w", oci.ErrInvalidReference)
	}
	var opts []name.Option
	if pinned := s.schemeFor(host); pinned == "http" || pinned == "" && (s.core.plainHTTP || isLoopback(host)) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return name.Registry{}, fmt.Errorf("registry %q: %v: %w", host, err, oci.ErrInvalidReference)
	}
	return reg, nil
}

func pullScope(rn repoName) string { return "repository:" + rn.path + ":pull" }
func pushScope(rn repoName) string { return "repository:" + rn.path + ":pull,push" }

const catalogScope = "registry:catalog:*"

// client is an authenticated HTTP client for one registry and scope.
type client struct {
	host string // as in references, for errors
	base string // "https://ghcr.io"
	hc   *http.Client
}

// url returns the URL of an API path ("/v2/…").
func (c *client) url(path string) string { return c.base + path }

// do sends req. An error means no answer came; it is a *RequestError.
func (c *client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error repeats the URL, which for a redirect may be a signed
		// blob-storage URL; the RequestError names the request instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &RequestError{Host: c.host, Method: req.Method, Path: req.URL.Path, Err: fromTransportError(c.host, err)}
	}
	return resp, nil
}

// newRequest returns a request for a path or absolute URL.
func (c *client) newRequest(ctx context.Context, method, target string, body io.Reader) (*http.Request, error) {
	if strings.HasPrefix(target, "/") {
		target = c.url(target)
	}
	return http.NewRequestWithContext(ctx, method, target, body)
}

// client returns the client for registry reg (host as references name it)
// with the given scopes. It pings each registry once per Store, and
// resolves credentials (and exchanges them for a token) once per registry
// and set of scopes.
func (s *Store) client(ctx context.Context, reg name.Registry, host string, scopes ...string) (*client, error) {
	ch, err := s.challenge(ctx, reg, host)
	if err != nil {
		return nil, err
	}
	scheme := "https"
	if ch.Insecure && s.schemeFor(host) != "https" {
		scheme = "http"
	}
	scopes = slices.Clone(scopes)
	slices.Sort(scopes)
	key := reg.RegistryStr() + " " + strings.Join(scopes, " ")
	rt, err := s.auths.do(ctx, key, func() (http.RoundTripper, error) {
		auth, err := authn.Resolve(ctx, s.keychain, reg)
		if err != nil {
			return nil, fmt.Errorf("resolving credentials for %s: %w", host, err)
		}
		tok := &transport.Token{}
		if strings.EqualFold(ch.Scheme, "bearer") {
			tok, err = transport.Exchange(ctx, reg, auth, s.core, scopes, ch)
			if err != nil {
				var ue *url.Error
				if errors.As(err, &ue) {
					err = ue.Err
				}
				return nil, fromTransportError(host, fmt.Errorf("getting a token for %s: %w", host, err))
			}
			if tok.Token == "" {
				tok.Token = tok.AccessToken
			}
		}
		return transport.FromToken(reg, auth, s.core, ch, tok)
	})
	if err != nil {
		return nil, err
	}
	return &client{
		host: host,
		base: scheme + "://" + reg.RegistryStr(),
		hc:   &http.Client{Transport: rt, CheckRedirect: checkRedirect},
	}, nil
}

// challenge pings the registry reg once per Store and returns its
// authentication challenge; concurrent callers share one ping.
func (s *Store) challenge(ctx context.Context, reg name.Registry, host string) (*transport.Challenge, error) {
	return s.pings.do(ctx, reg.RegistryStr(), func() (*transport.Challenge, error) {
		ch, err := s.ping(ctx, reg, host)
		if err != nil {
			// A registry that answered (503, 401, …) is reported with its
			// status, so that callers can tell a temporary failure.
			var te *transport.Error
			if errors.As(err, &te) && retryableStatus(te.StatusCode) {
				return nil, fromTransportError(host, err)
			}
			// Otherwise, with plain HTTP allowed, this holds the answers of
			// both schemes (a certificate error and a plain-HTTP one, say).
			return nil, &RequestError{Host: host, Method: http.MethodGet, Path: "/v2/", Err: err}
		}
		return ch, nil
	})
}

// Connect pings the registry host ("127.0.0.1:5000", "ghcr.io") now, as
// the first request to it would: its challenge is kept for every later
// request and the connection goes back to the pool. A caller that will
// talk to a registry after other work runs Connect beside that work, so
// that on a distant registry the TLS handshake and the ping's round trip
// are off the critical path. A failure is not kept: the next request pings
// again and reports it.
func (s *Store) Connect(ctx context.Context, host string) error {
	reg, err := s.registry(host)
	if err == nil {
		_, err = s.challenge(ctx, reg, host)
	}
	if err != nil {
		return opError("connect", host, v1.Hash{}, err)
	}
	return nil
}

// flight is one computation that concurrent callers share.
type flight[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// group runs fn once per key and keeps its result; a failed run is
// forgotten, so a later call tries again.
type group[V any] struct {
	mu sync.Mutex
	m  map[string]*flight[V]
}

func (g *group[V]) do(ctx context.Context, key string, fn func() (V, error)) (V, error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*flight[V]{}
	}
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		select {
		case <-f.done:
			return f.v, f.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	f := &flight[V]{done: make(chan struct{})}
	g.m[key] = f
	g.mu.Unlock()
	f.v, f.err = fn()
	if f.err != nil {
		g.mu.Lock()
		delete(g.m, key)
		g.mu.Unlock()
	}
	close(f.done)
	return f.v, f.err
}
