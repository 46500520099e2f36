package ocireg

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// Select chooses the version of component name that c selects (the highest
// one satisfying it, see component.Select) among the tags of the
// component's repository. Tags that stand for digests are no candidates and
// not mentioned; other tags that are no semantic version (latest, main) are
// listed in Selection.Ignored. A constraint that matches nothing is a
// *component.NoMatchError listing the versions that exist.
func (r *Repository) Select(ctx context.Context, name string, c component.Constraint) (component.Selection, error) {
	repo := ComponentRepo(r.base, name)
	tl, ok := r.store.(oci.TagLister)
	if !ok {
		return component.Selection{}, fmt.Errorf("selecting a version of %s in %s: the store cannot list tags: %w", name, repo, oci.ErrUnsupported)
	}
	tags, err := tl.Tags(ctx, repo)
	if err != nil {
		return component.Selection{}, fmt.Errorf("selecting a version of %s in %s: %w", name, repo, err)
	}
	var candidates []string
	for _, t := range tags {
		if !versionCandidate(t) {
			continue
		}
		candidates = append(candidates, TagVersion(t))
	}
	return component.Select(name, candidates, c)
}

// versionCandidate reports whether a tag may stand for a version: tags that
// stand for digests (containing ':', starting with '@', or sha256-<hex>
// referrer and signature tags) do not.
func versionCandidate(t string) bool {
	return !strings.Contains(t, ":") && !strings.HasPrefix(t, "@") && !digestTag.MatchString(t)
}
