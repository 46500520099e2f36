package release

import (
	"context"
	"fmt"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/repository"
)

// LocalizeVersion opens the repository of ref with o and localizes the
// version ref names (see Localize): its own, or the one its constraint or
// o.Selection.Semver selects. A ref that names none of them is a
// *UsageError.
func LocalizeVersion(ctx context.Context, ref component.Ref, lo LocalizeOptions, o repository.Options) (*Localized, error) {
	repo, err := repository.OpenRepo(ctx, ref.Repo, o)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	if ref, err = selectOne(ctx, repo, ref, o.Selection.Semver); err != nil {
		return nil, err
	}
	return Localize(ctx, repo, ref.Component, ref.Version, lo)
}

// selectOne settles the version of a reference that must name exactly
// one: its own, or the one its constraint or semver selects.
func selectOne(ctx context.Context, repo *repository.Repository, ref component.Ref, semver string) (component.Ref, error) {
	if ref.Version != "" {
		return ref, nil
	}
	if ref.Constraint == "" && semver == "" {
		return ref, &UsageError{fmt.Errorf("%s: name a version (REPO//NAME:VERSION), a constraint (REPO//NAME@CONSTRAINT) or --semver", ref)}
	}
	vs, err := repo.Versions(ctx, ref)
	if err != nil {
		return ref, err
	}
	ref.Version, ref.Constraint = vs[0], ""
	return ref, nil
}
