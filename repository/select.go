package repository

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/component"
)

// Selection selects component versions by semver constraint.
type Selection struct {
	// Semver, when set, is the constraint for every reference named
	// without a version or a constraint of its own (as REPO//NAME@CONSTRAINT
	// names one for itself).
	Semver string
	// OnSelect, when set, is told every version a constraint selected
	// (to print and record it).
	OnSelect func(component.Selection)
}

// selectVersion returns the version ref's constraint (or Selection.Semver)
// selects, and true; false when ref selects by no constraint.
func (r *Repository) selectVersion(ctx context.Context, ref component.Ref) ([]string, bool, error) {
	if ref.Version != "" {
		return nil, false, nil
	}
	text := ref.Constraint
	if text == "" {
		text = r.sel.Semver
	}
	if text == "" {
		return nil, false, nil
	}
	c, err := component.ParseConstraint(text)
	if err != nil {
		return nil, true, err
	}
	sel, err := r.Repository.Select(ctx, ref.Component, c)
	if err != nil {
		return nil, true, fmt.Errorf("in %s: %w", r.Spec, err)
	}
	if r.sel.OnSelect != nil {
		r.sel.OnSelect(sel)
	}
	return []string{sel.Version}, true, nil
}

// Check refuses a malformed Semver, and a Semver given with a reference
// among specs (REPO//NAME…, as component.ParseRef reads it) that names
// its own version or constraint: which of the two should select would be
// unclear. Specs that are no such reference are left to their reader.
func (s Selection) Check(specs []string) error {
	if s.Semver == "" {
		return nil
	}
	if _, err := component.ParseConstraint(s.Semver); err != nil {
		return err
	}
	for _, spec := range specs {
		if !strings.Contains(spec, "//") || strings.HasSuffix(spec, "//") {
			continue
		}
		if ref, err := component.ParseRef(spec); err == nil && (ref.Version != "" || ref.Constraint != "") {
			return fmt.Errorf("%q and %s: the reference names its version already; give one of them", s.Semver, spec)
		}
	}
	return nil
}
