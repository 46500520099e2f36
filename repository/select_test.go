package repository_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/fixture"
	"github.com/ferry-oci/ferry/repository"
)

// TestSelection: Expand selects by a reference's constraint and by
// Selection.Semver, tells OnSelect, leaves named versions alone, and a
// constraint that matches nothing lists what exists.
func TestSelection(t *testing.T) {
	ctx := t.Context()
	var told []component.Selection
	r, err := repository.Open(ctx, fixture.OCM(t, "ctf-dir"), repository.Options{Selection: repository.Selection{
		Semver: "<6.3.6", OnSelect: func(s component.Selection) { told = append(told, s) }}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Expand(ctx, []component.Ref{
		{Component: "example.com/podinfo", Constraint: "~6.3"}, // its own constraint wins
		{Component: "example.com/podinfo"},                     // --semver
		{Component: "example.com/app", Version: "1.0.0"},       // a version is a version
	})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, ref := range got {
		vs = append(vs, ref.Component+":"+ref.Version)
		if ref.Constraint != "" {
			t.Errorf("%s keeps its constraint %q after selection", ref.Component, ref.Constraint)
		}
	}
	if !slices.Equal(vs, []string{"example.com/podinfo:6.3.6", "example.com/podinfo:6.3.5", "example.com/app:1.0.0"}) {
		t.Errorf("expanded to %v", vs)
	}
	if len(told) != 2 || told[0].Version != "6.3.6" || told[1].Constraint != "<6.3.6" || !slices.Equal(told[1].Matching, []string{"6.3.5"}) {
		t.Errorf("OnSelect was told %+v", told)
	}
	_, err = r.Expand(ctx, []component.Ref{{Component: "example.com/podinfo", Constraint: ">=7"}})
	var nm *component.NoMatchError
	if !errors.As(err, &nm) || !slices.Equal(nm.Versions, []string{"6.3.5", "6.3.6"}) {
		t.Errorf("no match: %v", err)
	}
}
