package release

import (
	"context"
	"fmt"

	"github.com/ferry-oci/ferry/internal/atomicfile"
	"github.com/ferry-oci/ferry/resource"
)

// Downloaded is what Download wrote.
type Downloaded struct {
	// Form is how the content was written: resource.FormBlob,
	// resource.FormChart or resource.FormArtifactSet.
	Form  string
	Bytes int64
}

// Download writes the content of resource spec (see
// component.Descriptor.FindResource) of src's version to path, verified on
// the way, and renames it into place only when it is complete: a blob as it
// is, a Helm chart stored as an OCI artifact as its chart archive, any other
// OCI artifact as an OCM artifact set (resource.Content.Download).
func Download(ctx context.Context, src *resource.Content, spec, path string) (Downloaded, error) {
	r, err := src.Version.Descriptor.FindResource(spec)
	if err != nil {
		return Downloaded{}, err
	}
	rc, form, err := src.Download(ctx, r)
	if err != nil {
		return Downloaded{}, err
	}
	defer rc.Close()
	n, err := atomicfile.Write(path, rc)
	if err != nil {
		return Downloaded{}, fmt.Errorf("downloading %s to %s: %w", src.Name(r), path, err)
	}
	return Downloaded{Form: form, Bytes: n}, nil
}
