package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// componentRepo is an opened component repository: a registry path or a
// CTF archive. Close commits what was written (a CTF tar is written then);
// Abort discards it.
type componentRepo struct {
	*ocireg.Repository
	spec    component.Repo
	archive *ctf.Archive // nil for a registry
}

func (r *componentRepo) Close() error {
	if r.archive == nil {
		return nil
	}
	return r.archive.Close()
}

func (r *componentRepo) Abort() error {
	if r.archive == nil {
		return nil
	}
	return r.archive.Abort()
}

// display names the repository as ocm lists it: the registry base, or the
// CTF with its type.
func (r *componentRepo) display() string {
	if r.archive != nil {
		return string(component.KindCTF) + "::" + r.spec.Path
	}
	return r.spec.Base()
}

// intermediate reports whether the repository is a CTF, into which OCM
// appends no repositoryContexts entry.
func (r *componentRepo) intermediate() bool { return r.archive != nil }

// resolveKind settles a guessed repository kind by looking at the file
// system: a path that exists is a CTF.
func resolveKind(spec component.Repo) component.Repo {
	if spec.Kind == component.KindRegistry && spec.Guessed() {
		if _, err := os.Stat(spec.String()); err == nil {
			return component.Repo{Kind: component.KindCTF, Path: spec.String()}
		}
	}
	return spec
}

// openComponentRepo opens spec for reading, or with write for writing
// (creating a CTF that does not exist yet).
func (g *globals) openComponentRepo(spec component.Repo, write bool) (*componentRepo, error) {
	spec = resolveKind(spec)
	if spec.Kind == component.KindRegistry {
		if spec.PlainHTTP() && !g.registry.plainHTTP && !remote.IsLoopback(spec.Host) {
			return nil, &remote.PlainHTTPError{Host: spec.Host}
		}
		s, err := g.remoteStore()
		if err != nil {
			return nil, err
		}
		return &componentRepo{Repository: ocireg.New(s, spec.Base()), spec: spec}, nil
	}
	var opts []ctf.Option
	if !write {
		opts = append(opts, ctf.ReadOnly())
	}
	a, err := ctf.Open(spec.Path, opts...)
	if errors.Is(err, fs.ErrNotExist) && write {
		a, err = ctf.Create(spec.Path, ctfFormat(spec))
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, withHint(fmt.Errorf("opening %s: %w", spec, err),
				"the CTF archive does not exist; for a registry, name its host (registry.local:5000/path) or use the OCIRegistry:: prefix")
		}
		return nil, fmt.Errorf("opening %s: %w", spec, err)
	}
	return &componentRepo{Repository: ocireg.New(a, ""), spec: spec, archive: a}, nil
}

// ctfFormat is the format of a CTF to create: named by the type prefix, or
// a tar for a .tar path, else a directory.
func ctfFormat(spec component.Repo) ctf.Format {
	switch {
	case spec.Format == component.FormatTar, spec.Format == "" && strings.HasSuffix(spec.Path, ".tar"):
		return ctf.FormatTar
	case spec.Format == component.FormatTGZ, spec.Format == "" && (strings.HasSuffix(spec.Path, ".tgz") || strings.HasSuffix(spec.Path, ".tar.gz")):
		return ctf.FormatTGZ
	}
	return ctf.FormatDirectory
}

// versionsOf returns the versions a reference names: its version, or every
// version of its component, in semver order.
func versionsOf(ctx context.Context, repo *componentRepo, ref component.Ref) ([]string, error) {
	if ref.Version != "" {
		return []string{ref.Version}, nil
	}
	vs, err := repo.Versions(ctx, ref.Component)
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s in %s: %w", ref.Component, repo.spec, err)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("component %s in %s: no versions: %w", ref.Component, repo.spec, oci.ErrNotFound)
	}
	return vs, nil
}
