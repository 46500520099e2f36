package localize

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrUnknownResource: a rule names a resource (or a reference path) that the
// component version does not have, or one that is not an image.
var ErrUnknownResource = errors.New("unknown resource")

// Identity is the identity of a resource or of a component reference, as
// OCM defines it: its name plus its extraIdentity ({"name": "image"}).
type Identity map[string]string

// String returns the identity as "name" or "name{k=v,…}" (keys sorted).
func (id Identity) String() string {
	var extra []string
	for _, k := range slices.Sorted(maps.Keys(id)) {
		if k != "name" {
			extra = append(extra, k+"="+id[k])
		}
	}
	if len(extra) == 0 {
		return id["name"]
	}
	return id["name"] + "{" + strings.Join(extra, ",") + "}"
}

// Image is an image resource of the component version (or of a component it
// references), after transfer.
type Image struct {
	// Ref is the copy in the target, as the transferred descriptor's access
	// names it: "registry.local/air/stefanprodan/podinfo:6.3.5@sha256:…".
	Ref string `json:"ref"`
	// Digest is the manifest digest ("sha256:…"), used when Ref carries none.
	Digest string `json:"digest,omitempty"`
	// Original is the reference before transfer, for Options.Auto
	// ("ghcr.io/stefanprodan/podinfo:6.3.5"); "" when not known.
	Original string `json:"original,omitempty"`
	// Path is the repository path and tag the copy was named by, without
	// any registry ("stefanprodan/podinfo:6.3.5"): OCM names a copy
	// <target base>/<path of the original>, so when Original is not known
	// Options.Auto matches an image field whose repository path and tag (or
	// digest) are these, whatever its registry.
	Path string `json:"path,omitempty"`
}

// Images is what localization needs to know about the component's images.
// The CLI builds it from the transferred component descriptors; ImageList is
// the plain implementation.
type Images interface {
	// Lookup returns the image resource with identity id, in the component
	// reached through referencePath (a list of component reference
	// identities; empty for the component itself). It returns an error
	// wrapping ErrUnknownResource when there is none.
	Lookup(id Identity, referencePath []Identity) (Image, error)
	// All returns every image resource of the component and of the
	// components it references: the copies the coverage check accepts and
	// the originals Options.Auto matches.
	All() []Image
}

// ImageResource is one entry of an ImageList.
type ImageResource struct {
	Identity      Identity   // {"name": "image"} plus extraIdentity
	ReferencePath []Identity // component references to follow; empty for the component itself
	Image         Image
}

// ImageList is an Images held in memory. Lookup compares identities exactly
// (every key of the identity, as OCM does).
type ImageList []ImageResource

// Lookup implements Images.
func (l ImageList) Lookup(id Identity, referencePath []Identity) (Image, error) {
	for _, r := range l {
		if maps.Equal(r.Identity, id) && samePath(r.ReferencePath, referencePath) {
			return r.Image, nil
		}
	}
	where := ""
	if len(referencePath) > 0 {
		var p []string
		for _, r := range referencePath {
			p = append(p, r.String())
		}
		where = " in component reference " + strings.Join(p, "/")
	}
	return Image{}, fmt.Errorf("resource %s%s: %w", id, where, ErrUnknownResource)
}

// All implements Images.
func (l ImageList) All() []Image {
	out := make([]Image, len(l))
	for i, r := range l {
		out[i] = r.Image
	}
	return out
}

func samePath(a, b []Identity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !maps.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// imageRef is a reference split with go-containerregistry's name rules:
// Docker Hub defaults (index.docker.io, library/) and ports handled.
type imageRef struct {
	repo   name.Repository
	raw    string // the repository as written, without tag and digest
	tag    string // "" when the reference names none
	digest string // "" when the reference names none
}

func parseImageRef(s string) (imageRef, error) {
	base, _, hasDigest := strings.Cut(s, "@")
	var r imageRef
	if hasDigest {
		d, err := name.NewDigest(s)
		if err != nil {
			return r, fmt.Errorf("parsing image reference %q: %w", s, err)
		}
		r.digest = d.DigestStr()
	}
	r.raw = base
	// A tag is whatever follows the last ':' after the last '/', so a port
	// ("localhost:5000/x") is never taken for one.
	if i := strings.LastIndexByte(base, ':'); i > strings.LastIndexByte(base, '/') {
		t, err := name.NewTag(base)
		if err != nil {
			return r, fmt.Errorf("parsing image reference %q: %w", s, err)
		}
		r.repo, r.tag, r.raw = t.Context(), t.TagStr(), base[:i]
		return r, nil
	}
	repo, err := name.NewRepository(base)
	if err != nil {
		return r, fmt.Errorf("parsing image reference %q: %w", s, err)
	}
	r.repo = repo
	return r, nil
}

// keys returns the normalised forms under which r is known: "R:T" and
// "R@D" (R with Docker Hub defaults), each when r has the part.
func (r imageRef) keys(extraDigest string) []string {
	var k []string
	if r.tag != "" {
		k = append(k, r.repo.Name()+":"+r.tag)
	}
	if d := firstNonEmpty(r.digest, extraDigest); d != "" {
		k = append(k, r.repo.Name()+"@"+d)
	}
	return k
}

// key is the one normalised form an image field's value is checked by: the
// digest when it has one (that is what is pulled), else the tag ("latest"
// when none is written, as the runtime does).
func (r imageRef) key() string {
	if r.digest != "" {
		return r.repo.Name() + "@" + r.digest
	}
	return r.repo.Name() + ":" + firstNonEmpty(r.tag, "latest")
}

// pathKey is key without the registry: the repository path with the
// digest, or the tag.
func (r imageRef) pathKey() string {
	if r.digest != "" {
		return r.repo.RepositoryStr() + "@" + r.digest
	}
	return r.repo.RepositoryStr() + ":" + firstNonEmpty(r.tag, "latest")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// ruleValues are the values a rule writes, from go-containerregistry's
// Name/RegistryStr/RepositoryStr/Identifier of the copy's reference. The
// tag is kept unless Options.PinDigest asks for the digest (or the copy has
// no tag): without pinning, image is "repo:tag" and tag the tag; with it,
// image is "repo@sha256:…" and tag the digest, as ocm-controller writes a
// reference with a digest (INTEROP §6.2). digest is the copy's digest
// whichever is written ("" when none is known), for a chart's digest value.
type ruleValues struct {
	image, registry, repository, tag, digest string
	plainTag                                 string // the copy's tag, "" when it has none
}

func valuesOf(im Image, pin bool) (ruleValues, error) {
	r, err := parseImageRef(im.Ref)
	if err != nil {
		return ruleValues{}, err
	}
	d := firstNonEmpty(r.digest, im.Digest)
	if pin && d == "" {
		return ruleValues{}, fmt.Errorf("pinning %s: no digest known", im.Ref)
	}
	var ref name.Reference
	switch {
	case pin || (r.tag == "" && d != ""):
		ref, err = name.NewDigest(r.repo.Name() + "@" + d)
	default:
		ref, err = name.NewTag(r.repo.Name() + ":" + firstNonEmpty(r.tag, "latest"))
	}
	if err != nil {
		return ruleValues{}, fmt.Errorf("reference %s: %w", im.Ref, err)
	}
	return ruleValues{
		image:      ref.Name(),
		registry:   ref.Context().RegistryStr(),
		repository: ref.Context().RepositoryStr(),
		tag:        ref.Identifier(),
		digest:     d,
		plainTag:   r.tag,
	}, nil
}

// autoValue is what Options.Auto writes for a field whose value old matched
// the image: the copy by tag (as written in Ref), or by digest when pinning
// or when the field was pinned already.
func autoValue(im Image, old imageRef, pin bool) (string, error) {
	r, err := parseImageRef(im.Ref)
	if err != nil {
		return "", err
	}
	d := firstNonEmpty(r.digest, im.Digest)
	if pin || old.digest != "" || r.tag == "" {
		if d == "" {
			if r.tag == "" {
				return im.Ref, nil
			}
			return "", fmt.Errorf("pinning %s: no digest known", im.Ref)
		}
		return r.raw + "@" + d, nil
	}
	return r.raw + ":" + r.tag, nil
}

// SamePath reports whether the reference ref names the image im by its
// repository path and tag (or digest) whatever the registry: how OCM names
// a copy (<target>/<path of the original>), so a chart's default
// "ghcr.io/stefanprodan/podinfo:6.3.6" is the resource whose copy is
// "registry.local/air/stefanprodan/podinfo:6.3.6".
func SamePath(ref string, im Image) bool {
	r, err := parseImageRef(ref)
	if err != nil {
		return false
	}
	for _, s := range []string{im.Original, im.Ref} {
		if o, err := parseImageRef(s); err == nil && s != "" && o.repo.RepositoryStr() == r.repo.RepositoryStr() &&
			(o.tag != "" && o.tag == r.tag || o.digest != "" && o.digest == r.digest) {
			return true
		}
	}
	if im.Path == "" {
		return false
	}
	repo, tag, _ := strings.Cut(im.Path, ":")
	k := r.pathKey()
	return k == repo+":"+tag || im.Digest != "" && k == repo+"@"+im.Digest || strings.HasSuffix(repo, "/"+r.repo.RepositoryStr()) && r.tag == tag
}
