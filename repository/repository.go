// Package repository opens a component repository by its specification, as
// `ocm` and ferry's command line name it: an OCI registry path with or
// without a scheme ("registry.local:5000/air", "http://127.0.0.1:5000/ocm"),
// a CTF archive (a directory, a .tar or .tgz, with an optional type prefix
// such as "ctf+tar::"), or an offline bundle (a file or its first volume).
// It is the one place where a specification becomes a store.
package repository

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/resource"
)

// ErrNoArchive: a CTF archive to read does not exist.
var ErrNoArchive = errors.New("the CTF archive does not exist")

// Options tune Open. The zero value opens for reading, with a registry
// client made with remote.New's defaults when the specification names a
// registry.
type Options struct {
	// Registry is the registry client; nil makes one with remote.New's
	// defaults. Share one per run, so that each registry is pinged and
	// authenticated once.
	Registry *remote.Store
	// PlainHTTP allows http:// to registries off loopback.
	PlainHTTP bool
	// Write opens for writing, creating a CTF archive that does not exist
	// yet (in the format its specification gives: Repo.ArchiveFormat).
	Write bool
	// Bundle reads an archive as an offline bundle (bundle.Open): split
	// volumes, ferry's metadata and a differential bundle's left-out
	// content. Paths that name a volume (FILE.000) are read so anyway.
	Bundle bool
	// Selection selects versions by semver constraint (see Versions).
	Selection Selection
	// LockTimeout is how long a writer of a CTF archive waits while another
	// run writes it (ctf.WaitForLock, until the context of Open ends), and
	// release's bundle creates wait for another create of the same file; 0
	// fails at once, naming the other run's PID.
	LockTimeout time.Duration
	// Logger is told what a writer reclaimed of an interrupted write of the
	// same CTF archive (ctf.Archive.Reclaimed); nil means nobody.
	Logger *slog.Logger
}

// Repository is an opened component repository. Close commits what was
// written (a CTF tar is written then); Abort discards it.
type Repository struct {
	*ocireg.Repository
	// Spec is the specification it was opened by, its kind settled.
	Spec component.Repo
	// Bundle is the bundle, when it was opened as one; nil otherwise.
	Bundle *bundle.Bundle

	archive  *ctf.Archive  // nil for a registry
	registry *remote.Store // the registry client of Options.Registry, or made for a registry
	sel      Selection     // Options.Selection
	log      *slog.Logger  // Options.Logger
}

// Registry returns the registry client the repository was opened with
// (Options.Registry, or the one made for a registry), for reading images
// its versions name in other registries; nil when there is none.
func (r *Repository) Registry() oci.Reader {
	if r.registry == nil {
		return nil
	}
	return r.registry
}

// Open opens the repository spec names (see component.ParseRepo). A
// specification whose kind was guessed as a registry names a CTF when that
// path exists.
func Open(ctx context.Context, spec string, o Options) (*Repository, error) {
	s, err := component.ParseRepo(spec)
	if err != nil {
		return nil, err
	}
	return OpenRepo(ctx, s, o)
}

// OpenRepo is Open for a parsed specification.
func OpenRepo(ctx context.Context, spec component.Repo, o Options) (r *Repository, err error) {
	defer func() {
		if r != nil {
			r.sel = o.Selection
		}
	}()
	spec = settleKind(spec)
	if spec.Kind == component.KindRegistry {
		return openRegistry(spec, o)
	}
	if !o.Write && (o.Bundle || volumeName.MatchString(spec.Path)) {
		b, err := bundle.Open(ctx, spec.Path)
		if err != nil {
			return nil, err
		}
		return &Repository{Repository: ocireg.New(b.Archive, ""), Spec: spec, Bundle: b, archive: b.Archive, registry: o.Registry}, nil
	}
	opts := []ctf.Option{ctf.WaitForLock(ctx, o.LockTimeout)}
	if !o.Write {
		opts = append(opts, ctf.ReadOnly())
	}
	a, err := ctf.Open(spec.Path, opts...)
	if errors.Is(err, fs.ErrNotExist) && o.Write {
		a, err = ctf.Create(spec.Path, spec.ArchiveFormat(), opts...)
		if errors.Is(err, fs.ErrExist) { // made by the writer this one waited for
			a, err = ctf.Open(spec.Path, opts...)
		}
	}
	if errors.Is(err, fs.ErrNotExist) && !o.Write {
		return nil, fmt.Errorf("opening %s: %w", spec, noArchive{err})
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", spec, err)
	}
	return &Repository{Repository: ocireg.New(a, ""), Spec: spec, archive: a, registry: o.Registry, log: o.Logger}, nil
}

// noArchive is the error of a missing archive: errors.Is(err, ErrNoArchive).
type noArchive struct{ error }

func (e noArchive) Unwrap() error        { return e.error }
func (e noArchive) Is(target error) bool { return target == ErrNoArchive }

// volumeName matches the first volume of a split bundle.
var volumeName = regexp.MustCompile(`\.[0-9]{3}$`)

func openRegistry(spec component.Repo, o Options) (*Repository, error) {
	if spec.PlainHTTP() && !o.PlainHTTP && !remote.IsLoopback(spec.Host) {
		return nil, &remote.PlainHTTPError{Host: spec.Host}
	}
	s := o.Registry
	if s == nil {
		var err error
		if s, err = remote.New(remote.WithPlainHTTP(o.PlainHTTP)); err != nil {
			return nil, err
		}
	}
	// http:// is plain HTTP with no https attempt; https:// never falls back.
	if err := s.RequireScheme(spec.Host, spec.Scheme); err != nil {
		return nil, err
	}
	return &Repository{Repository: ocireg.New(s, spec.Base()), Spec: spec, registry: s}, nil
}

// settleKind settles a guessed repository kind by looking at the file
// system: a path that exists is a CTF.
func settleKind(spec component.Repo) component.Repo {
	if spec.Kind == component.KindRegistry && spec.Guessed() {
		if _, err := os.Stat(spec.String()); err == nil {
			return component.Repo{Kind: component.KindCTF, Path: spec.String()}
		}
	}
	return spec
}

// Connect starts the first contact with the repository's registry in the
// background (remote.Store.Connect), for a caller about to do other work
// before it talks to the registry; for an archive it does nothing.
func (r *Repository) Connect(ctx context.Context) {
	if r.archive == nil && r.registry != nil && r.Spec.Host != "" {
		// A failure is reported by the first real request, which pings again.
		go r.registry.Connect(ctx, r.Spec.Host)
	}
}

// Close commits what was written (a CTF tar is written then) and releases
// the repository.
func (r *Repository) Close() error {
	if r.Bundle != nil {
		return r.Bundle.Close()
	}
	if r.archive == nil {
		return nil
	}
	err := r.archive.Close()
	if rc := r.archive.Reclaimed(); rc != (ctf.Reclaim{}) && r.log != nil {
		r.log.Info("an interrupted write of "+r.Spec.Path+" left files behind: blobs whose digest checked out were reused, the rest removed",
			"reused", rc.Reused, "reusedBytes", rc.ReusedBytes, "removed", rc.Removed, "removedBytes", rc.RemovedBytes)
	}
	return err
}

// Abort discards what was written since Open (a CTF tar stays as it was)
// and releases the repository.
func (r *Repository) Abort() error {
	if r.Bundle != nil {
		return r.Bundle.Close()
	}
	if r.archive == nil {
		return nil
	}
	return r.archive.Abort()
}

// String names the repository as ocm lists it: the registry base, or the
// CTF with its type.
func (r *Repository) String() string {
	if r.archive != nil {
		return string(component.KindCTF) + "::" + r.Spec.Path
	}
	return r.Spec.Base()
}

// Intermediate reports whether the repository is an archive (a CTF or a
// bundle): OCM appends no repositoryContexts entry for it, and images in it
// are referenced relative to it.
func (r *Repository) Intermediate() bool { return r.archive != nil }

// Versions returns the versions ref names, in semver order: its version,
// the one its constraint (or Options.Selection.Semver) selects, or every
// version of its component. A component without versions is an error
// wrapping oci.ErrNotFound.
func (r *Repository) Versions(ctx context.Context, ref component.Ref) ([]string, error) {
	if vs, ok, err := r.selectVersion(ctx, ref); ok || err != nil {
		return vs, err
	}
	if ref.Version != "" {
		return []string{ref.Version}, nil
	}
	vs, err := r.Repository.Versions(ctx, ref.Component)
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s in %s: %w", ref.Component, r.Spec, err)
	}
	if len(vs) == 0 {
		return nil, r.NotFound(ctx, ref.Component, "", nil)
	}
	return vs, nil
}

// Expand expands refs into component versions: a ref without a component
// names every component of the repository, one without a version every
// version of its component.
func (r *Repository) Expand(ctx context.Context, refs []component.Ref) ([]component.Ref, error) {
	var out []component.Ref
	for _, ref := range refs {
		names := []string{ref.Component}
		if ref.Component == "" {
			var err error
			if names, err = r.Components(ctx); err != nil {
				return nil, fmt.Errorf("listing components in %s: %w (name them: REPO//NAME)", r.Spec, err)
			}
		}
		for _, n := range names {
			rr := ref
			rr.Component = n
			vs, err := r.Versions(ctx, rr)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				rr.Version, rr.Constraint = v, "" // selected: the version names it now
				out = append(out, rr)
			}
		}
	}
	return out, nil
}

// Read reads the component versions ref names (see Expand), in order.
func (r *Repository) Read(ctx context.Context, ref component.Ref) ([]*ocireg.Version, error) {
	refs, err := r.Expand(ctx, []component.Ref{ref})
	if err != nil {
		return nil, err
	}
	out := make([]*ocireg.Version, 0, len(refs))
	for _, v := range refs {
		cv, err := r.Get(ctx, v.Component, v.Version)
		if err != nil {
			return nil, fmt.Errorf("reading %s:%s from %s: %w", v.Component, v.Version, r.Spec, err)
		}
		out = append(out, cv)
	}
	return out, nil
}

// Source reads the component version name:version and returns the reader
// of its resources' content: local content from this repository, images in
// other registries through images (nil: local content only).
func (r *Repository) Source(ctx context.Context, name, version string, images oci.Reader) (*resource.Content, error) {
	cv, err := r.Get(ctx, name, version)
	if err != nil {
		return nil, fmt.Errorf("reading %s:%s from %s: %w", name, version, r.Spec, err)
	}
	return &resource.Content{Version: cv, Store: r.Store(), Images: images}, nil
}
