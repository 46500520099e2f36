package ocireg

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// NotFoundError says a component, or one version of it, is not in a
// repository, and which names there come nearest, so that a typo can be
// seen at once. It wraps the store's error (which wraps oci.ErrNotFound)
// without repeating its text.
type NotFoundError struct {
	Name    string // the component asked for
	Version string // the version asked for; "" when any version was
	Repo    string // the OCI repository looked in (ComponentRepo of Base and Name)
	Base    string // the repository base (registry and path); "" in an archive
	// Versions are versions of Name that exist, nearest first, when the
	// component exists; Components are the nearest component names there,
	// when it does not (and the store can list them).
	Versions   []string
	Components []string
	Err        error
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	if e.Version != "" {
		fmt.Fprintf(&b, "component version %s:%s not found in %s", e.Name, e.Version, e.Repo)
		if len(e.Versions) > 0 {
			fmt.Fprintf(&b, "; the versions nearest it there: %s", strings.Join(e.Versions, ", "))
			return b.String()
		}
		b.WriteString(": ")
	}
	base := e.Base
	if base == "" {
		base = "the archive"
	}
	fmt.Fprintf(&b, "no component %s in %s", e.Name, base)
	if len(e.Components) > 0 {
		fmt.Fprintf(&b, "; the nearest names there: %s", strings.Join(e.Components, ", "))
	}
	return b.String()
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// maxNearest is how many names a NotFoundError lists.
const maxNearest = 5

// NotFound returns the error for component name (version, when not "")
// missing from the repository, with the nearest names that exist (best
// effort: a store that cannot list them gives none). cause is the store's
// error; nil means oci.ErrNotFound.
func (r *Repository) NotFound(ctx context.Context, name, version string, cause error) error {
	if cause == nil {
		cause = oci.ErrNotFound
	}
	e := &NotFoundError{Name: name, Version: version, Repo: ComponentRepo(r.base, name), Base: r.base, Err: cause}
	if vs, err := r.Versions(ctx, name); err == nil && len(vs) > 0 {
		if version == "" {
			return cause // the component exists; the caller asked for something else
		}
		e.Versions = nearestVersions(version, vs, maxNearest)
		return e
	}
	if names, err := r.Components(ctx); err == nil {
		e.Components = Nearest(name, names, maxNearest)
	}
	return e
}

// Nearest returns up to n of names ordered by edit distance to want (case
// ignored), nearest first; ties keep their order in names. Names further
// than half of want's length are left out unless nothing is nearer.
func Nearest(want string, names []string, n int) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, s := range names {
		if s == want {
			continue
		}
		cs = append(cs, cand{s, component.EditDistance(strings.ToLower(want), strings.ToLower(s))})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	limit := max(len(want)/2, 2)
	var out []string
	for i, c := range cs {
		if len(out) == n || i > 0 && c.d > limit {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// nearestVersions returns up to n of versions (sorted by CompareVersions)
// nearest to want in that order: the one just below where want would sort,
// the one just above, and so on outwards. A want that is no version is
// matched by spelling (Nearest).
func nearestVersions(want string, versions []string, n int) []string {
	if !IsVersion(want) {
		return Nearest(want, versions, n)
	}
	i, _ := slices.BinarySearchFunc(versions, want, CompareVersions)
	var out []string
	for lo, hi := i-1, i; len(out) < n && (lo >= 0 || hi < len(versions)); {
		if lo >= 0 {
			out = append(out, versions[lo])
			lo--
		}
		if hi < len(versions) && len(out) < n {
			if versions[hi] != want {
				out = append(out, versions[hi])
			}
			hi++
		}
	}
	return out
}

// catalogs is a store over many registries that lists one registry's
// repositories (remote.Store.Lister).
type catalogs interface {
	Lister(registry string) oci.RepositoryLister
}
