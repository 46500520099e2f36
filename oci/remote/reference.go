package remote

import (
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/oci"
)

// ParseRef parses an image reference as users type it, optionally with a
// scheme in front: "http://" (plain HTTP only), "https://" (TLS only) or
// "oci://" (the default rule), and pins the scheme for its registry (see
// RequireScheme). A reference without a registry names Docker Hub's. Plain
// HTTP to a registry off loopback is refused (*PlainHTTPError) unless the
// Store allows it (WithPlainHTTP). Errors in the reference itself wrap
// oci.ErrInvalidReference.
func (s *Store) ParseRef(ref string) (oci.Ref, error) {
	text, scheme := ref, ""
	if sc, rest, ok := strings.Cut(ref, "://"); ok {
		switch sc {
		case "http", "https", "oci":
			text, scheme = rest, sc
		default:
			return oci.Ref{}, fmt.Errorf("reference %q: unknown scheme %q (want http, https or oci): %w", ref, sc, oci.ErrInvalidReference)
		}
	}
	r, err := oci.ParseRef(text)
	if err != nil {
		return oci.Ref{}, err
	}
	r = r.WithDefaultRegistry()
	if scheme == "http" && !s.core.plainHTTP && !isLoopback(r.Registry) {
		return oci.Ref{}, &PlainHTTPError{Host: r.Registry}
	}
	return r, s.RequireScheme(r.Registry, scheme)
}
