package ocireg

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNaming(t *testing.T) {
	tests := []struct {
		base, name, repo string
	}{
		{"127.0.0.1:5000/ocm", "example.com/podinfo", "127.0.0.1:5000/ocm/component-descriptors/example.com/podinfo"},
		{"ghcr.io/acme/", "github.com/acme/helloworld", "ghcr.io/acme/component-descriptors/github.com/acme/helloworld"},
		{"", "example.com/podinfo", "component-descriptors/example.com/podinfo"},
	}
	for _, tc := range tests {
		if got := ComponentRepo(tc.base, tc.name); got != tc.repo {
			t.Errorf("ComponentRepo(%q, %q) = %q, want %q", tc.base, tc.name, got, tc.repo)
		}
	}
	tags := []struct{ version, tag string }{
		{"1.2.3", "1.2.3"},
		{"1.2.3+ci.42", "1.2.3.build-ci.42"},
		{"v1.0-rc.1+build.5", "v1.0-rc.1.build-build.5"},
		{"1.0.0-x.build-y+z", "1.0.0-x.build-y.build-z"}, // the last ".build-" is the '+'
	}
	for _, tc := range tags {
		if got := VersionTag(tc.version); got != tc.tag {
			t.Errorf("VersionTag(%q) = %q, want %q", tc.version, got, tc.tag)
		}
		if got := TagVersion(tc.tag); got != tc.version {
			t.Errorf("TagVersion(%q) = %q, want %q", tc.tag, got, tc.version)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	// In SemVer 2.0 precedence order (§11 of semver.org and OCM's relaxed
	// forms); equal precedence is ordered as strings.
	ordered := []string{
		"0.0.1", "v0.9", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-alpha", "1.0.0-alpha.1",
		"1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
		"1", "1.0", "1.0.0", "1.0.0+build.1", "1.0.0+build.2", "v1.0.0", "1.0.1", "1.2", "1.10.0",
		"2.0.0", "18446744073709551616.0.0", "latest", "not-a-version",
	}
	for i := range 20 {
		shuffled := slices.Clone(ordered)
		rand.New(rand.NewPCG(uint64(i), 1)).Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		slices.SortFunc(shuffled, CompareVersions)
		if !slices.Equal(shuffled, ordered) {
			t.Fatalf("sorted:\n%v\nwant\n%v", shuffled, ordered)
		}
	}
	for _, v := range ordered {
		if CompareVersions(v, v) != 0 {
			t.Errorf("CompareVersions(%q, itself) != 0", v)
		}
	}
}
