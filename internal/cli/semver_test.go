package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// semverRelease starts a registry holding example.com/podinfo in the
// versions 6.2.3, 6.3.5, 6.3.6 and 7.0.0-rc.1, and the tag "latest" (no
// semantic version) on 6.3.6. Each version's "notes" resource is a
// Deployment naming the image the version carries.
func semverRelease(t *testing.T) (*registrytest.Registry, string) {
	t.Helper()
	p635, p636 := podinfoSample(t)
	var rels []testRelease
	for _, v := range []struct {
		version string
		image   testimage.Named
	}{{"6.2.3", p635}, {"6.3.5", p635}, {"6.3.6", p636}, {"7.0.0-rc.1", p636}} {
		rels = append(rels, testRelease{name: "example.com/podinfo", version: v.version, images: []testimage.Named{v.image},
			text: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  labels:\n    version: " + v.version +
				"\nspec:\n  template:\n    spec:\n      containers:\n      - name: podinfo\n        image: IMAGE\n"})
	}
	reg := registrytest.New(t)
	for i := range rels {
		im := rels[i].images[0]
		rels[i].text = strings.Replace(rels[i].text, "IMAGE", reg.Host+"/"+im.Name+":"+im.Tag, 1)
	}
	repo := seedReleaseIn(t, reg, testimage.Set{p635, p636}, rels...)
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	cd := reg.Host + "/ocm/component-descriptors/example.com/podinfo"
	from, _ := oci.ParseRef(cd + ":6.3.6")
	d, err := s.Resolve(t.Context(), from)
	if err != nil {
		t.Fatal(err)
	}
	to, _ := oci.ParseRef(cd + ":latest")
	if err := s.Tag(t.Context(), to, d); err != nil {
		t.Fatal(err)
	}
	return reg, repo
}

// plannedVersions returns the component versions a dry run plans.
func plannedVersions(t *testing.T, stdout string) []string {
	t.Helper()
	var plan struct {
		Components []struct{ Name, Version string }
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("--dry-run -o json printed %q: %v", stdout, err)
	}
	var out []string
	for _, c := range plan.Components {
		out = append(out, c.Version)
	}
	return out
}

// TestSemverSelection runs each constraint form through transfer (as a
// reference and as --semver), bundle create and localize: each selects
// what Flux's semver filter selects, the non-semver tag is ignored with a
// note, and a constraint that matches nothing lists what exists.
func TestSemverSelection(t *testing.T) {
	_, repo := semverRelease(t)
	name := repo + "//example.com/podinfo"
	reg2 := registrytest.New(t)
	dst := "http://" + reg2.Host + "/air"
	tests := []struct{ constraint, want string }{
		{"latest", "6.3.6"},
		{">=6.0", "6.3.6"},
		{"~6.3", "6.3.6"},
		{"^6.3.0", "6.3.6"},
		{"~6.2", "6.2.3"},
		{">=6.3.0 <6.3.6", "6.3.5"},
		{">=7.0.0-0", "7.0.0-rc.1"},
	}
	for _, tc := range tests {
		for _, args := range [][]string{
			{"transfer", name + "@" + tc.constraint, dst, "--dry-run", "-o", "json"},
			{"transfer", name, dst, "--semver", tc.constraint, "--dry-run", "-o", "json"},
		} {
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			if got := plannedVersions(t, stdout); len(got) != 1 || got[0] != tc.want {
				t.Errorf("%v planned %v, want [%s]", args, got, tc.want)
			}
			if !strings.Contains(stderr, "selected example.com/podinfo:"+tc.want) || !strings.Contains(stderr, "ignored tag(s) that are no semantic version: latest") {
				t.Errorf("%v: stderr does not print the selection and the ignored tag: %s", args, stderr)
			}
		}
	}

	// component get and inventory read the selected version too.
	if out := mustRun(t, "component", "get", name+"@^6.2.0", "-o", "json"); !strings.Contains(out, `"version": "6.3.6"`) || strings.Contains(out, `"version": "6.3.5"`) {
		t.Errorf("component get @^6.2.0:\n%s", out)
	}
	if out := mustRun(t, "component", "get", name, "--semver", "~6.2", "-o", "json"); !strings.Contains(out, `"version": "6.2.3"`) || strings.Contains(out, `"version": "6.3.6"`) {
		t.Errorf("component get --semver ~6.2:\n%s", out)
	}
	if out := mustRun(t, "inventory", name+"@>=7.0.0-0"); !strings.Contains(out, "7.0.0-rc.1") || strings.Contains(out, "6.3.6") {
		t.Errorf("inventory @>=7.0.0-0:\n%s", out)
	}

	// No match: an error listing the versions that exist; the release
	// candidate is no candidate for a constraint that names no pre-release.
	code, _, stderr := run(t, "transfer", name+"@>=7", dst, "--dry-run")
	if code != 1 || !strings.Contains(stderr, `no version matches ">=7"`) || !strings.Contains(stderr, "6.2.3, 6.3.5, 6.3.6, 7.0.0-rc.1") {
		t.Errorf("no match: exit %d: %s", code, stderr)
	}
	// A version and --semver together are a usage error.
	if code, _, stderr := run(t, "transfer", name+":6.3.5", dst, "--semver", "~6.3", "--dry-run"); code != 2 {
		t.Errorf("version and --semver: exit %d: %s", code, stderr)
	}
	// A malformed constraint is a usage error.
	if code, _, stderr := run(t, "transfer", name+"@>>6", dst, "--dry-run"); code != 2 || !strings.Contains(stderr, "constraint") {
		t.Errorf("bad constraint: exit %d: %s", code, stderr)
	}

	// A real transfer records the selection in its report.
	report := filepath.Join(t.TempDir(), "report.json")
	mustRun(t, "transfer", name+"@~6.3", dst, "--report", report)
	var rep struct {
		Components []struct{ Version string }
		Selected   []struct{ Component, Constraint, Version string }
	}
	if err := json.Unmarshal(readFile(t, report), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Components) != 1 || rep.Components[0].Version != "6.3.6" || len(rep.Selected) != 1 ||
		rep.Selected[0].Version != "6.3.6" || rep.Selected[0].Constraint != "~6.3" {
		t.Errorf("report: %+v", rep)
	}

	// bundle create selects the same way and records it.
	for _, tc := range tests[4:] {
		file := filepath.Join(t.TempDir(), "b.tar")
		report := filepath.Join(t.TempDir(), "create.json")
		mustRun(t, "bundle", "create", name, "--semver", tc.constraint, "-o", file, "--report", report)
		var res struct {
			Report struct {
				Components []struct{ Version string }
				Selected   []struct{ Version string }
			}
		}
		if err := json.Unmarshal(readFile(t, report), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Report.Components) != 1 || res.Report.Components[0].Version != tc.want || len(res.Report.Selected) != 1 || res.Report.Selected[0].Version != tc.want {
			t.Errorf("bundle create --semver %q: %+v", tc.constraint, res.Report)
		}
	}

	// localize reads the selected version: its Deployment, rewritten to
	// the private copy the transfer made.
	code, diff, stderr := run(t, "localize", "http://"+reg2.Host+"/air//example.com/podinfo@latest", "--resource", "notes", "--auto", "--diff")
	if code != 0 || !strings.Contains(stderr, "selected example.com/podinfo:6.3.6") ||
		!strings.Contains(diff, "+        image: "+reg2.Host+"/air/stefanprodan/podinfo:6.3.6") {
		t.Errorf("localize @latest: exit %d\n%s%s", code, diff, stderr)
	}
	// --pull-secret names the secret in the pod spec; the secret itself is not written.
	out := t.TempDir()
	mustRun(t, "localize", "http://"+reg2.Host+"/air//example.com/podinfo@latest", "--resource", "notes", "--auto", "--pull-secret", "regcred", "-O", out)
	if b := string(readFile(t, filepath.Join(out, "notes.yaml"))); !strings.Contains(b, "      imagePullSecrets:\n      - name: regcred\n") || strings.Contains(b, "kind: Secret") {
		t.Errorf("--pull-secret wrote:\n%s", b)
	}
	if code, _, stderr := run(t, "localize", "http://"+reg2.Host+"/air//example.com/podinfo@latest", "--resource", "notes", "--auto", "--pull-secret", "regcred", "--service-account", "podinfo", "--diff"); code != 1 || !strings.Contains(stderr, "ServiceAccount") {
		t.Errorf("--service-account that the manifests lack: exit %d: %s", code, stderr)
	}
	code, _, stderr = run(t, "localize", "http://"+reg2.Host+"/air//example.com/podinfo", "--semver", "~6.2", "--resource", "notes", "--auto", "--diff")
	if code != 1 || !strings.Contains(stderr, `no version matches "~6.2"`) || !strings.Contains(stderr, "the versions are 6.3.6") {
		t.Errorf("localize --semver ~6.2 in a registry holding only 6.3.6: exit %d: %s", code, stderr)
	}
}
