package cli

import (
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// imageRef is an OCI reference as users type it: optionally with a scheme
// (http://, https:// or oci://) in front.
type imageRef struct {
	oci.Ref
	scheme string
}

func parseImageRef(s string) (imageRef, error) {
	var r imageRef
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		switch scheme {
		case "http", "https", "oci":
			r.scheme, s = scheme, rest
		default:
			return r, usageErr(fmt.Errorf("reference %q: unknown scheme %q (want http, https or oci)", s, scheme))
		}
	}
	ref, err := oci.ParseRef(s)
	if err != nil {
		return r, usageErr(err)
	}
	r.Ref = ref.WithDefaultRegistry()
	return r, nil
}

// checkPlainHTTP refuses a reference that asks for plain HTTP (http://) to
// a registry off loopback, unless --plain-http allows it, and pins the
// scheme a reference names for its registry (remote.Store.RequireScheme).
func (g *globals) checkPlainHTTP(refs ...imageRef) error {
	for _, r := range refs {
		if r.scheme == "http" && !g.registry.PlainHTTP && !remote.IsLoopback(r.Registry) {
			return &remote.PlainHTTPError{Host: r.Registry}
		}
		if r.scheme == "http" || r.scheme == "https" {
			s, err := g.remoteStore()
			if err != nil {
				return err
			}
			if err := s.RequireScheme(r.Registry, r.scheme); err != nil {
				return usageErr(err)
			}
		}
	}
	return nil
}
