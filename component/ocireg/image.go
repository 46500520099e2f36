package ocireg

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// ErrNoImage: a resource's access names no OCI image (it is a blob, or of a
// type that has none).
var ErrNoImage = errors.New("the access names no OCI image")

// Image is the OCI image a resource's access names: the one place ferry
// turns an access into an image reference.
type Image struct {
	// Ref is the image as the access names it, with no registry defaulted
	// (see oci.Ref.WithDefaultRegistry). A relative reference is joined to
	// the base of the repository the component version lives in, so inside
	// a CTF it has no registry.
	Ref oci.Ref
	// Scheme is the scheme an ociArtifact imageReference was written with
	// ("http", "https"), or "".
	Scheme string
	// Relative says the image lives in the store that holds the component
	// version (relativeOciReference).
	Relative bool
	// Access is the reference as the access writes it, scheme and all.
	Access string
}

// ImageOf returns the image a resource access names, for a component version
// stored under base (Version.Base; "" in a CTF): an ociArtifact's
// imageReference (an optional http:// or https:// kept apart in Scheme), a
// relativeOciReference joined to base, or the globalAccess of a local blob
// when that names an image. Any other access gives an error wrapping
// ErrNoImage.
func ImageOf(a component.Access, base string) (Image, error) {
	switch a.Kind() {
	case component.AccessOCIArtifact:
		acc, err := a.OCIArtifact()
		if err != nil {
			return Image{}, err
		}
		im := Image{Access: acc.ImageReference}
		ref := acc.ImageReference
		if scheme, rest, ok := strings.Cut(ref, "://"); ok && (scheme == "http" || scheme == "https") {
			im.Scheme, ref = scheme, rest
		}
		if im.Ref, err = oci.ParseRef(ref); err != nil {
			return Image{}, fmt.Errorf("imageReference: %w", err)
		}
		return im, nil
	case component.AccessRelativeOCIReference:
		acc, err := a.RelativeOCIReference()
		if err != nil {
			return Image{}, err
		}
		ref, err := oci.ParseRef(acc.Reference)
		if err != nil {
			return Image{}, fmt.Errorf("reference: %w", err)
		}
		if ref.Registry != "" {
			return Image{}, fmt.Errorf("relativeOciReference %q names a registry host", acc.Reference)
		}
		if base != "" {
			if ref, err = ref.InRepo(base + "/" + ref.Repository); err != nil {
				return Image{}, err
			}
		}
		return Image{Ref: ref, Relative: true, Access: acc.Reference}, nil
	case component.AccessLocalBlob:
		lb, err := a.LocalBlob()
		if err == nil && lb.GlobalAccess != nil {
			if im, err := ImageOf(*lb.GlobalAccess, base); err == nil {
				return im, nil
			}
		}
	}
	return Image{}, fmt.Errorf("access type %s: %w", a.Type, ErrNoImage)
}

// WithDigest returns the access a with the image digest from replaced by
// to (an ociArtifact or relativeOciReference access; others are returned
// as they are, with an error wrapping ErrNoImage).
func WithDigest(a component.Access, from, to string) (component.Access, error) {
	switch a.Kind() {
	case component.AccessOCIArtifact:
		acc, err := a.OCIArtifact()
		if err != nil {
			return a, err
		}
		return component.NewOCIArtifactAccess(strings.Replace(acc.ImageReference, "@"+from, "@"+to, 1)), nil
	case component.AccessRelativeOCIReference:
		acc, err := a.RelativeOCIReference()
		if err != nil {
			return a, err
		}
		acc.Reference = strings.Replace(acc.Reference, "@"+from, "@"+to, 1)
		return component.NewAccess(acc)
	}
	return a, fmt.Errorf("access type %s: %w", a.Type, ErrNoImage)
}

// Base returns the repository base the version was read from: its
// repository without the "component-descriptors/NAME" OCM puts below the
// base ("" in a CTF).
func (v *Version) Base() string {
	return BaseOf(v.Ref.Repo(), v.Descriptor.Name)
}

// BaseOf returns the base of repo, the repository that holds the versions
// of the component name ("reg.local/air/component-descriptors/x.org/a" →
// "reg.local/air"); "" when repo is the component's repository in a CTF or
// not a component repository at all.
func BaseOf(repo, name string) string {
	base, ok := strings.CutSuffix(repo, "/"+ComponentRepo("", name))
	if !ok {
		return ""
	}
	return base
}

// IsComponentRepo reports whether repo, a repository inside a CTF (no
// base), holds component versions.
func IsComponentRepo(repo string) bool {
	return strings.HasPrefix(repo, componentDescriptors+"/")
}
