package release

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/repository"
)

// DownloadedResource is a resource DownloadResource wrote.
type DownloadedResource struct {
	Resource string `json:"resource"` // NAME:VERSION resource SPEC
	File     string `json:"file"`
	Form     string `json:"form"` // see Downloaded
	Size     int64  `json:"size"`
}

// DownloadResource opens the repository of ref (which names its version)
// with o and writes the content of the resource spec of that version to
// path (see Download), reading images through the repository's registry
// client. A path of "" or a malformed spec is a *UsageError.
func DownloadResource(ctx context.Context, ref component.Ref, spec, path string, o repository.Options) (*DownloadedResource, error) {
	if path == "" {
		return nil, usageError("name the file to write with -O PATH")
	}
	repo, err := repository.OpenRepo(ctx, ref.Repo, o)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	src, err := repo.Source(ctx, ref.Component, ref.Version, repo.Registry())
	if err != nil {
		return nil, err
	}
	d, err := Download(ctx, src, spec, path)
	if errors.Is(err, component.ErrInvalidIdentity) {
		return nil, &UsageError{err}
	} else if err != nil {
		return nil, err
	}
	return &DownloadedResource{ref.Component + ":" + ref.Version + " resource " + spec, path, d.Form, d.Bytes}, nil
}

// WriteTable writes a line naming what was written where, as what.
func (d *DownloadedResource) WriteTable(w io.Writer) error {
	_, err := fmt.Fprintf(w, "downloaded %s to %s as %s: %s (verified)\n", d.Resource, d.File, d.Form, human.Bytes(d.Size))
	return err
}
