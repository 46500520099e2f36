package release

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/atomicfile"
	"github.com/ferry-oci/ferry/resource"
)

// ErrNotBlob: the resource is an OCI artifact (an image, an index), not a
// blob that can be written to a file.
var ErrNotBlob = errors.New("an OCI artifact, not a blob")

// Download writes the content of the blob resource spec (see
// component.Descriptor.FindResource) of src's version to path, verified
// against its digest on the way, and renames it into place only when it is
// complete. It returns the blob's descriptor.
func Download(ctx context.Context, src *resource.Content, spec, path string) (v1.Descriptor, error) {
	r, err := src.Version.Descriptor.FindResource(spec)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if resource.IsArtifact(r) {
		return v1.Descriptor{}, fmt.Errorf("%s is %w", src.Name(r), ErrNotBlob)
	}
	rc, d, err := src.Open(ctx, r)
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer rc.Close()
	if _, err := atomicfile.Write(path, rc); err != nil {
		return v1.Descriptor{}, fmt.Errorf("downloading %s to %s: %w", src.Name(r), path, err)
	}
	return d, nil
}
