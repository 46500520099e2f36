package component

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// semverTags are the tags of the acceptance registry: three releases, a
// release candidate and a tag that is no semantic version.
var semverTags = []string{"6.2.3", "latest", "6.3.5", "7.0.0-rc.1", "6.3.6"}

// TestSelectAsFlux checks that each constraint form selects what Flux's
// semver filter selects (source-controller: tags parsed strictly with an
// optional "v", Masterminds constraint Check, highest match), with "latest"
// as the highest release.
func TestSelectAsFlux(t *testing.T) {
	tests := []struct {
		constraint string
		want       string
		matching   []string
	}{
		{"latest", "6.3.6", []string{"6.2.3", "6.3.5", "6.3.6"}},
		{"*", "6.3.6", []string{"6.2.3", "6.3.5", "6.3.6"}},
		{">=6.0", "6.3.6", []string{"6.2.3", "6.3.5", "6.3.6"}},
		{">=v6.3.5", "6.3.6", []string{"6.3.5", "6.3.6"}},
		{"~6.3", "6.3.6", []string{"6.3.5", "6.3.6"}},
		{"~6.2", "6.2.3", []string{"6.2.3"}},
		{"^6.3.0", "6.3.6", []string{"6.3.5", "6.3.6"}},
		{"6.3.5", "6.3.5", []string{"6.3.5"}},
		{"6.x", "6.3.6", []string{"6.2.3", "6.3.5", "6.3.6"}},
		{">=1.0.0 <2.0.0 || 6.2.x", "6.2.3", []string{"6.2.3"}},
		{">=6.3.0, <6.3.6", "6.3.5", []string{"6.3.5"}},
		{">=7.0.0-0", "7.0.0-rc.1", []string{"7.0.0-rc.1"}},
		{">=6.0.0-0", "7.0.0-rc.1", []string{"6.2.3", "6.3.5", "6.3.6", "7.0.0-rc.1"}},
		{"6.3", "6.3.6", []string{"6.3.5", "6.3.6"}}, // a partial version is a range (6.3.x), as in Masterminds
		{">=1.0.0 <2.0.0", "", nil},                  // the example of Flux's documentation: nothing here
		{">=7", "", nil},                             // the release candidate is no candidate: the constraint names no pre-release
		{"^7.0.0", "", nil},                          // likewise
	}
	for _, tc := range tests {
		c, err := ParseConstraint(tc.constraint)
		if err != nil {
			t.Fatalf("ParseConstraint(%q): %v", tc.constraint, err)
		}
		sel, err := Select("example.com/podinfo", semverTags, c)
		if tc.want == "" {
			var nm *NoMatchError
			if !errors.As(err, &nm) || !errors.Is(err, ErrNoVersionMatches) {
				t.Errorf("%q: got %+v, %v; want a NoMatchError", tc.constraint, sel, err)
				continue
			}
			if !slices.Equal(nm.Versions, []string{"6.2.3", "6.3.5", "6.3.6", "7.0.0-rc.1"}) || !slices.Equal(nm.Ignored, []string{"latest"}) {
				t.Errorf("%q: no-match lists %v, ignored %v", tc.constraint, nm.Versions, nm.Ignored)
			}
			for _, v := range []string{"6.2.3", "6.3.5", "6.3.6", "7.0.0-rc.1"} {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("%q: error %q does not list %s", tc.constraint, err, v)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.constraint, err)
			continue
		}
		if sel.Version != tc.want || !slices.Equal(sel.Matching, tc.matching) {
			t.Errorf("%q: selected %s of %v, want %s of %v", tc.constraint, sel.Version, sel.Matching, tc.want, tc.matching)
		}
		if !slices.Equal(sel.Ignored, []string{"latest"}) {
			t.Errorf("%q: ignored %v, want [latest]", tc.constraint, sel.Ignored)
		}
	}
}

func TestSelectKeepsSpelling(t *testing.T) {
	c, _ := ParseConstraint("~1.2")
	sel, err := Select("example.com/app", []string{"v1.2.0", "v1.2.10", "v1.2.9", "1.2", "1.2.3+build.1"}, c)
	if err != nil {
		t.Fatal(err)
	}
	// "1.2" is no strict semantic version (Flux ignores it too); build
	// metadata does not order.
	if sel.Version != "v1.2.10" || !slices.Equal(sel.Ignored, []string{"1.2"}) {
		t.Errorf("selected %s, ignored %v", sel.Version, sel.Ignored)
	}
}

func TestParseConstraintErrors(t *testing.T) {
	for _, in := range []string{"", "  ", ">>1", "~", "not a range"} {
		if _, err := ParseConstraint(in); !errors.Is(err, ErrInvalidConstraint) {
			t.Errorf("ParseConstraint(%q) = %v, want ErrInvalidConstraint", in, err)
		}
	}
}
