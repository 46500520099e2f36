package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ferry-oci/ferry/oci"
)

// RequireScheme pins the scheme ferry speaks to a registry host, as a
// reference that names it with http:// or https:// asks:
//
//   - "http": plain HTTP only, never an https attempt first (off loopback it
//     still needs WithPlainHTTP, as every plain-HTTP request does);
//   - "https": TLS only, never a fallback to plain HTTP, also on loopback;
//   - "" (a bare host): the default rule, https first and plain HTTP only
//     for loopback hosts or with WithPlainHTTP.
//
// It must be called before the first request to host. Naming one host with
// both schemes in a run is an error wrapping oci.ErrInvalidReference.
func (s *Store) RequireScheme(host, scheme string) error {
	switch scheme {
	case "", "oci":
		return nil
	case "http", "https":
	default:
		return fmt.Errorf("registry %s: unknown scheme %q (want http or https): %w", host, scheme, oci.ErrInvalidReference)
	}
	key := strings.ToLower(host)
	if prev, loaded := s.schemes.LoadOrStore(key, scheme); loaded && prev != scheme {
		return fmt.Errorf("registry %s is named both with %s:// and %s://; use one scheme for it: %w", host, prev, scheme, oci.ErrInvalidReference)
	}
	return nil
}

// schemeFor returns the scheme pinned for host, or "".
func (s *Store) schemeFor(host string) string {
	if v, ok := s.schemes.Load(strings.ToLower(host)); ok {
		return v.(string)
	}
	return ""
}

// ping asks a registry for its authentication challenge: over the pinned
// scheme alone when there is one, else as go-containerregistry does (https,
// then plain HTTP where reg allows it).
func (s *Store) ping(ctx context.Context, reg name.Registry, host string) (*transport.Challenge, error) {
	scheme := s.schemeFor(host)
	if scheme == "" {
		return transport.Ping(ctx, reg, s.core)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: s.core}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return &transport.Challenge{Insecure: scheme == "http"}, nil
	case http.StatusUnauthorized:
		ch := parseChallenge(resp.Header.Values("WWW-Authenticate"))
		ch.Insecure = scheme == "http"
		return ch, nil
	}
	return nil, transport.CheckError(resp, http.StatusOK, http.StatusUnauthorized)
}

// parseChallenge reads the first Basic or Bearer challenge of
// WWW-Authenticate headers (RFC 7235): a scheme and key="value" pairs.
func parseChallenge(headers []string) *transport.Challenge {
	var first *transport.Challenge
	for _, h := range headers {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		ch := &transport.Challenge{Scheme: scheme, Parameters: map[string]string{}}
		for rest = strings.TrimSpace(rest); rest != ""; {
			k, v, ok := strings.Cut(rest, "=")
			if !ok {
				break
			}
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, `"`) {
				end := 1
				for end < len(v) && (v[end] != '"' || v[end-1] == '\\') {
					end++
				}
				ch.Parameters[k] = strings.ReplaceAll(v[1:min(end, len(v))], `\"`, `"`)
				v = v[min(end+1, len(v)):]
			} else {
				val, tail, _ := strings.Cut(v, ",")
				ch.Parameters[k] = strings.TrimSpace(val)
				v = "," + tail
			}
			rest = strings.TrimLeft(strings.TrimSpace(v), ", ")
		}
		if first == nil {
			first = ch
		}
		if strings.EqualFold(scheme, "basic") || strings.EqualFold(scheme, "bearer") {
			return ch
		}
	}
	if first == nil {
		return &transport.Challenge{}
	}
	return first
}
