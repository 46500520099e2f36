package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/repository"
)

// ErrVersionExists: the repository holds the version with other content,
// and it was not to be overwritten.
var ErrVersionExists = errors.New("the version exists with other content")

// CreateOptions tune Create.
type CreateOptions struct {
	// File names the constructor (errors name it; relative input paths
	// start from its directory).
	File string
	// Vars are the values of ${NAME} in the constructor.
	Vars map[string]string
	// Scheme is the descriptor schema to write; "" means v2.
	Scheme component.Scheme
	// Now is the clock for creationTime; nil means time.Now.
	Now func() time.Time
	// SkipDigests writes resources without digests.
	SkipDigests bool
	// Overwrite replaces a version the repository holds with other content.
	Overwrite bool
	// UploadAs ocmtransfer.UploadAsLocalBlob copies each image into the
	// version's own OCI index (LocalBlob/v1 accesses, as the OCM v2 CLI
	// stores images); "" or ocmtransfer.UploadAsOCIArtifact keeps images by
	// reference.
	UploadAs string
	// Repository opens the target.
	Repository repository.Options
}

// CreatedVersion is one version Create made.
type CreatedVersion struct {
	Component string  `json:"component"`
	Version   string  `json:"version"`
	Digest    v1.Hash `json:"digest"`
	Target    string  `json:"target"`
	State     string  `json:"state"` // written, unchanged
}

// Create builds the component versions of an OCM constructor file (its
// bytes in data) and writes them to the repository target names, created
// when it is a CTF that does not exist. A version the repository holds
// with the same content is left as it is; with other content it is an
// error wrapping ErrVersionExists unless CreateOptions.Overwrite. Nothing
// is written unless every version is built.
func Create(ctx context.Context, data []byte, target string, o CreateOptions) ([]CreatedVersion, error) {
	if _, err := ocmtransfer.ParseUploadAs(o.UploadAs); err != nil {
		return nil, &UsageError{fmt.Errorf("--upload-as: %w", err)}
	}
	specs, err := construct.Parse(data, construct.ParseOptions{File: o.File, Vars: o.Vars})
	if err != nil {
		return nil, err
	}
	spec, err := component.ParseRepo(target)
	if err != nil {
		return nil, &UsageError{fmt.Errorf("--to: %w", err)}
	}
	ro := o.Repository
	ro.Write = true
	repo, err := repository.OpenRepo(ctx, spec, ro)
	if err != nil {
		return nil, err
	}
	if o.UploadAs == ocmtransfer.UploadAsLocalBlob {
		return createLocal(ctx, specs, repo, o)
	}
	var out []CreatedVersion
	for _, s := range specs {
		res, err := construct.Build(ctx, s, construct.Options{Resolver: repo.Registry(), Now: o.Now, Scheme: o.Scheme, SkipDigestGeneration: o.SkipDigests})
		if err == nil {
			var cv CreatedVersion
			cv, err = writeVersion(ctx, repo, res, o.Overwrite)
			out = append(out, cv)
		}
		if err != nil {
			repo.Abort()
			return nil, err
		}
	}
	if err := repo.Close(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", spec, err)
	}
	return out, nil
}

// writeVersion writes a built version, unless repo holds it already.
func writeVersion(ctx context.Context, repo *repository.Repository, res *construct.Result, overwrite bool) (CreatedVersion, error) {
	d := res.Descriptor
	var blobs []ocireg.LocalBlob
	var descs []v1.Descriptor
	seen := map[v1.Hash]bool{}
	for _, b := range res.Blobs {
		if seen[b.Descriptor.Digest] {
			continue
		}
		seen[b.Descriptor.Digest] = true
		descs = append(descs, b.Descriptor)
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: b.Descriptor, Open: func(context.Context) (io.ReadCloser, error) { return b.Open() }})
	}
	cv := CreatedVersion{Component: d.Name, Version: d.Version, Target: repo.String()}
	art, err := ocireg.Manifest(d, descs, ocireg.WriteOptions{})
	if err != nil {
		return cv, fmt.Errorf("encoding %s:%s: %w", d.Name, d.Version, err)
	}
	cv.Digest = art.Manifest.Digest
	have, err := repo.Resolve(ctx, d.Name, d.Version)
	switch {
	case err == nil && have.Digest == cv.Digest:
		cv.State = "unchanged"
		return cv, nil
	case err == nil && !overwrite:
		return cv, fmt.Errorf("%s:%s is in %s already, with other content (%s): %w", d.Name, d.Version, repo.Spec, have.Digest, ErrVersionExists)
	case err != nil && !errors.Is(err, oci.ErrNotFound):
		return cv, fmt.Errorf("looking up %s:%s in %s: %w", d.Name, d.Version, repo.Spec, err)
	}
	if _, err := repo.Write(ctx, d, blobs, ocireg.WriteOptions{}); err != nil {
		return cv, fmt.Errorf("writing %s:%s to %s: %w", d.Name, d.Version, repo.Spec, err)
	}
	cv.State = "written"
	return cv, nil
}

// createLocal writes built versions with their images stored in each
// version's OCI index (CreateOptions.UploadAs): the versions are staged in
// a temporary CTF as Create writes them, then carried into repo by the
// transfer engine with ocmtransfer.UploadAsLocalBlob, which copies each image
// into the version's repository and writes the version last. repo is
// committed (or discarded) here.
func createLocal(ctx context.Context, specs []construct.Spec, repo *repository.Repository, o CreateOptions) ([]CreatedVersion, error) {
	fail := func(err error) ([]CreatedVersion, error) {
		repo.Abort()
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "ferry-create-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	stage, err := repository.OpenRepo(ctx, component.Repo{Kind: component.KindCTF, Path: filepath.Join(tmp, "ctf")}, repository.Options{Write: true})
	if err != nil {
		return fail(err)
	}
	defer stage.Close()
	var refs []component.Ref
	for _, s := range specs {
		res, err := construct.Build(ctx, s, construct.Options{Resolver: repo.Registry(), Now: o.Now, Scheme: o.Scheme, SkipDigestGeneration: o.SkipDigests})
		if err == nil {
			_, err = writeVersion(ctx, stage, res, true)
		}
		if err != nil {
			return fail(err)
		}
		refs = append(refs, component.Ref{Component: res.Descriptor.Name, Version: res.Descriptor.Version})
	}
	res, err := TransferVersions(ctx, stage, refs, repo, Options{Overwrite: o.Overwrite, UploadAs: ocmtransfer.UploadAsLocalBlob, Images: repo.Registry()})
	if err != nil {
		if errors.Is(err, ocmtransfer.ErrVersionDiffers) {
			return nil, fmt.Errorf("%w: %w", ErrVersionExists, err)
		}
		return nil, err
	}
	var out []CreatedVersion
	for _, cv := range res.Plan.Components {
		state := "written"
		if cv.Skip {
			state = "unchanged"
		}
		out = append(out, CreatedVersion{Component: cv.Name, Version: cv.Version, Digest: cv.Digest, Target: repo.String(), State: state})
	}
	return out, nil
}

// CreatedVersions are the versions Create made, as a table prints them.
type CreatedVersions []CreatedVersion

// WriteTable writes one row per version: component, version, digest,
// target and state.
func (cs CreatedVersions) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("COMPONENT", "VERSION", "DIGEST", "TARGET", "")
	for _, c := range cs {
		t.Row(c.Component, c.Version, c.Digest.String(), c.Target, c.State)
	}
	return t.Flush()
}
