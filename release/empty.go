package release

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/oci"
)

// emptyStore holds nothing and takes nothing: the target of a bundle's dry
// run, which plans into an empty archive and writes no file.
type emptyStore struct{}

func (emptyStore) Resolve(_ context.Context, ref oci.Ref) (v1.Descriptor, error) {
	return v1.Descriptor{}, fmt.Errorf("%s: %w", ref, oci.ErrNotFound)
}

func (emptyStore) Fetch(_ context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s@%s: %w", repo, d.Digest, oci.ErrNotFound)
}

func (emptyStore) Exists(context.Context, string, v1.Descriptor) (bool, error) { return false, nil }

func (emptyStore) Push(_ context.Context, repo string, _ v1.Descriptor, _ io.Reader) error {
	return fmt.Errorf("pushing to %s in a dry run: %w", repo, oci.ErrUnsupported)
}

func (emptyStore) Tag(_ context.Context, ref oci.Ref, _ v1.Descriptor) error {
	return fmt.Errorf("tagging %s in a dry run: %w", ref, oci.ErrUnsupported)
}
