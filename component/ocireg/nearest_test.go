package ocireg

import (
	"slices"
	"testing"
)

func TestNearest(t *testing.T) {
	names := []string{"example.com/nginx", "example.com/podinfo", "example.com/podinfo-chart", "acme.org/other"}
	got := Nearest("example.com/podinfox", names, 5)
	if len(got) == 0 || got[0] != "example.com/podinfo" {
		t.Errorf("Nearest = %v, want example.com/podinfo first", got)
	}
	if slices.Contains(got, "acme.org/other") {
		t.Errorf("Nearest = %v lists a name far away", got)
	}
	if got := Nearest("zzz", []string{"example.com/podinfo"}, 5); !slices.Equal(got, []string{"example.com/podinfo"}) {
		t.Errorf("with nothing near, the nearest is still listed: %v", got)
	}
}

func TestNearestVersions(t *testing.T) {
	vs := []string{"0.9.1", "1.2.0", "6.3.5", "6.3.6", "6.4.0"}
	if got := nearestVersions("6.3.7", vs, 2); !slices.Equal(got, []string{"6.3.6", "6.4.0"}) {
		t.Errorf("nearestVersions(6.3.7) = %v", got)
	}
	if got := nearestVersions("9.9.9", vs, 2); !slices.Equal(got, []string{"6.4.0", "6.3.6"}) {
		t.Errorf("nearestVersions(9.9.9) = %v", got)
	}
	if got := nearestVersions("latest", vs, 1); len(got) != 1 {
		t.Errorf("nearestVersions(latest) = %v", got)
	}
}
