package transfer

import (
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestPlatformMatches(t *testing.T) {
	for _, c := range []struct {
		want, have string
		ok         bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"linux/amd64", "linux/arm64", false},
		{"linux/amd64", "windows/amd64", false},
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm/v7", "linux/arm/v6", false},
		{"linux/arm", "linux/arm/v6", true},
		{"linux/amd64", "linux/x86_64", true},
		{"windows/amd64:10.0.17763.1", "windows/amd64:10.0.20348.1", false},
		{"windows/amd64", "windows/amd64:10.0.20348.1", true},
	} {
		w, err := v1.ParsePlatform(c.want)
		if err != nil {
			t.Fatal(err)
		}
		h, err := v1.ParsePlatform(c.have)
		if err != nil {
			t.Fatal(err)
		}
		if got := platformMatches(*w, *h); got != c.ok {
			t.Errorf("%s on %s = %v, want %v", c.want, c.have, got, c.ok)
		}
	}
}

func TestDropManifestsKeepsTheRest(t *testing.T) {
	in := `{
  "schemaVersion": 2,
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aa", "size": 1},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:bb", "size": 2},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:cc", "size": 3}
  ],
  "annotations": {"x": "[1, 2]"}
}`
	for _, c := range []struct {
		keep []bool
		want string
	}{
		{[]bool{false, true, false}, `{
  "schemaVersion": 2,
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:bb", "size": 2}
  ],
  "annotations": {"x": "[1, 2]"}
}`},
		{[]bool{true, false, true}, `{
  "schemaVersion": 2,
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aa", "size": 1},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:cc", "size": 3}
  ],
  "annotations": {"x": "[1, 2]"}
}`},
	} {
		got, err := dropManifests([]byte(in), c.keep)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("keep %v:\n%s\nwant\n%s", c.keep, got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("keep %v: not JSON", c.keep)
		}
	}
	for _, bad := range []string{`[]`, `{"manifests": {}}`, `{"manifests": [{}], "manifests": [{}]}`, `{"manifests": [{}, {}]}`} {
		if _, err := dropManifests([]byte(bad), []bool{true}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
