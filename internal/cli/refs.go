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

// plainHTTP reports whether the reference asks for plain HTTP, and refuses
// that for a registry off loopback unless --plain-http allows it.
func (g *globals) plainHTTP(refs ...imageRef) (bool, error) {
	want := false
	for _, r := range refs {
		if r.scheme != "http" {
			continue
		}
		if !g.registry.plainHTTP && !remote.IsLoopback(r.Registry) {
			return false, &remote.PlainHTTPError{Host: r.Registry}
		}
		want = true
	}
	return want, nil
}
