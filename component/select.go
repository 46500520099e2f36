package component

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ErrNoVersionMatches: a version constraint matched none of the versions a
// repository holds.
var ErrNoVersionMatches = errors.New("no version matches the constraint")

// ErrInvalidConstraint: a version constraint could not be parsed.
var ErrInvalidConstraint = errors.New("invalid version constraint")

// Constraint selects one version of a component: the highest version that
// satisfies a semver range, as Flux's `ref.semver` and the ocm-controller's
// `version.semver` select (Masterminds semver syntax: ">=6.3.5", "~6.3",
// "^6.3.0", "6.x", ">=1.0.0 <2.0.0", "6.2.3 || 6.3.5"). "latest" is the
// highest release. A pre-release is a candidate only when the constraint
// names one (">=7.0.0-0"), as in Masterminds semver.
type Constraint struct {
	text string
	c    *semver.Constraints
}

// ParseConstraint parses a version constraint.
func ParseConstraint(s string) (Constraint, error) {
	s = strings.TrimSpace(s)
	expr := s
	if s == "latest" {
		expr = "*"
	}
	if expr == "" {
		return Constraint{}, fmt.Errorf("version constraint is empty (want a semver range such as \">=6.3.0 <7\", \"~6.3\" or \"latest\"): %w", ErrInvalidConstraint)
	}
	c, err := semver.NewConstraint(expr)
	if err != nil {
		return Constraint{}, fmt.Errorf("version constraint %q: %v (want a semver range such as \">=6.3.0 <7\", \"~6.3\", \"^6.3.0\" or \"latest\"): %w", s, err, ErrInvalidConstraint)
	}
	return Constraint{text: s, c: c}, nil
}

// String returns the constraint as written.
func (c Constraint) String() string { return c.text }

// IsZero reports whether c is the zero Constraint (none given).
func (c Constraint) IsZero() bool { return c.c == nil }

// Selection is what a Constraint chose among the versions of a component.
type Selection struct {
	Component  string `json:"component"`
	Constraint string `json:"constraint"`
	// Version is the version chosen, as the repository spells it.
	Version string `json:"version"`
	// Matching are the versions that satisfy the constraint, lowest first;
	// Version is the last of them.
	Matching []string `json:"matching"`
	// Ignored are tags that are no semantic version (strict SemVer 2.0,
	// optionally with a leading "v", as Flux reads tags) and so were not
	// candidates.
	Ignored []string `json:"ignored,omitempty"`
}

// NoMatchError is a constraint that matched none of the versions that
// exist. It wraps ErrNoVersionMatches.
type NoMatchError struct {
	Component  string
	Constraint string
	Versions   []string // the versions that exist, lowest first
	Ignored    []string // tags that are no semantic version
}

func (e *NoMatchError) Error() string {
	have := "it has no versions"
	if len(e.Versions) > 0 {
		have = "the versions are " + strings.Join(e.Versions, ", ")
	}
	if len(e.Ignored) > 0 {
		have += fmt.Sprintf(" (and %d tag(s) that are no semantic version: %s)", len(e.Ignored), strings.Join(e.Ignored, ", "))
	}
	return fmt.Sprintf("component %s: no version matches %q; %s", e.Component, e.Constraint, have)
}

func (e *NoMatchError) Unwrap() error { return ErrNoVersionMatches }

// Select chooses, among the versions (or tags) of component name, the
// highest one that satisfies c. Entries that are not semantic versions are
// left out and listed in Selection.Ignored, never an error. When nothing
// matches the error is a *NoMatchError listing what exists.
func Select(name string, versions []string, c Constraint) (Selection, error) {
	if c.IsZero() {
		return Selection{}, fmt.Errorf("selecting a version of %s: %w", name, ErrInvalidConstraint)
	}
	type cand struct {
		v *semver.Version
		s string
	}
	var all []cand
	sel := Selection{Component: name, Constraint: c.text}
	for _, s := range versions {
		v, err := parseStrict(s)
		if err != nil {
			sel.Ignored = append(sel.Ignored, s)
			continue
		}
		all = append(all, cand{v, s})
	}
	slices.SortStableFunc(all, func(a, b cand) int { return a.v.Compare(b.v) })
	var existing []string
	for _, a := range all {
		existing = append(existing, a.s)
		if c.c.Check(a.v) {
			sel.Matching = append(sel.Matching, a.s)
		}
	}
	if len(sel.Matching) == 0 {
		return Selection{}, &NoMatchError{Component: name, Constraint: c.text, Versions: existing, Ignored: sel.Ignored}
	}
	sel.Version = sel.Matching[len(sel.Matching)-1]
	return sel, nil
}

// parseStrict reads a version as Flux reads a tag: strict SemVer 2.0,
// optionally with a leading "v".
func parseStrict(s string) (*semver.Version, error) {
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v")); err != nil {
		return nil, err
	}
	return semver.NewVersion(s)
}
