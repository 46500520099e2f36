package resource

import (
	"context"
	"errors"
	"io"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/ctf"
)

// Download forms of a resource's content (Download).
const (
	FormBlob        = "blob"         // the blob as stored
	FormChart       = "chart"        // a Helm chart archive (.tgz)
	FormArtifactSet = "artifact set" // an OCI layout in a gzipped tar (ctf.WriteArtifactSet)
)

// Download streams a resource's content in the form a user saves it to a
// file: a blob as it is (Open); a Helm chart stored as an OCI artifact as
// its chart archive (Chart), so that `helm install` takes it; any other OCI
// artifact (an image, an index) as an OCM artifact set, as `ocm download
// resource` of the OCM v1 CLI writes one. Everything is verified while it
// streams; the caller closes the reader and keeps the file only when
// reading reached EOF without an error.
func (s *Content) Download(ctx context.Context, r *component.Resource) (io.ReadCloser, string, error) {
	if !IsArtifact(r) {
		rc, _, err := s.Open(ctx, r)
		return rc, FormBlob, err
	}
	rc, _, err := s.Chart(ctx, r)
	if err == nil {
		return rc, FormChart, nil
	}
	if !errors.Is(err, ErrNotChart) {
		return nil, "", err
	}
	a, err := s.Artifact(ctx, r)
	if err != nil {
		return nil, "", err
	}
	pr, pw := io.Pipe()
	go func() {
		defer a.Close()
		_, err := ctf.WriteArtifactSet(ctx, pw, a.Reader, a.Ref.Repo(), a.Descriptor, a.Tags)
		pw.CloseWithError(err)
	}()
	return readCloser{pr, pr}, FormArtifactSet, nil
}
