package release

import (
	"errors"
	"fmt"

	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// ParseImageRef parses an image reference as users type it
// (oci://REPO:TAG, http:// or https://; see remote.Store.ParseRef) for
// store. needTag asks for a tag. A malformed reference, or one without the
// tag asked for, is a *UsageError; plain HTTP off loopback is refused
// (*remote.PlainHTTPError) unless store allows it.
func ParseImageRef(store *remote.Store, s string, needTag bool) (oci.Ref, error) {
	r, err := store.ParseRef(s)
	if errors.Is(err, oci.ErrInvalidReference) {
		return r, &UsageError{err}
	}
	if err == nil && needTag && r.Tag == "" {
		return r, &UsageError{fmt.Errorf("%s: name a tag (oci://REPO:TAG)", s)}
	}
	return r, err
}
