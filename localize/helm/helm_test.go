package helm

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/localize"
)

var update = flag.Bool("update", false, "rewrite the want/ files of testdata from the current output")

const (
	digestApp    = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestBusy   = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	digestRedis  = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	digestWorker = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
)

// testImages are the copies of the component's images in the private
// registry, as a transferred descriptor names them.
var testImages = localize.ImageList{
	{Identity: localize.Identity{"name": "podinfo"}, Image: localize.Image{
		Ref: "registry.local/air/stefanprodan/podinfo:6.3.6@" + digestApp, Original: "ghcr.io/stefanprodan/podinfo:6.3.6"}},
	{Identity: localize.Identity{"name": "busybox"}, Image: localize.Image{
		Ref: "registry.local/air/library/busybox:1.36@" + digestBusy, Original: "docker.io/library/busybox:1.36"}},
	{Identity: localize.Identity{"name": "redis"}, Image: localize.Image{
		Ref: "registry.local/air/bitnami/redis:7.2.4@" + digestRedis, Original: "docker.io/bitnami/redis:7.2.4"}},
	{Identity: localize.Identity{"name": "worker"}, Image: localize.Image{
		Ref: "registry.local/air/example/worker:1.0@" + digestWorker, Original: "ghcr.io/example/worker:1.0"}},
}

func chartDir(t testing.TB, dir string) string {
	if filepath.Base(dir) == "digest" {
		return "../../testdata/podinfo/chart"
	}
	return filepath.Join(dir, "chart")
}

func loadChart(t testing.TB, dir string) *Chart {
	t.Helper()
	files, err := localize.ReadFS(os.DirFS(dir), localize.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadRules(t testing.TB, file string) []localize.Rule {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := localize.ParseRules(b)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// joined is the rendered output as one stream, by template name.
func joined(files localize.Files) []byte {
	var b bytes.Buffer
	for _, n := range files.Names() {
		b.WriteString("---\n# Source: " + n + "\n")
		b.Write(files[n])
		if !bytes.HasSuffix(files[n], []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the output:\n%s", file, localize.Diff(file, want, got))
	}
}

// TestGolden localizes every testdata case both ways and compares the
// values overlay, the localized chart's values.yaml and the rendered
// output with want/ byte for byte. Both ways render the same output, and it
// names only copies.
func TestGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*/rules.yaml")
	if len(cases) < 4 {
		t.Fatalf("want 4 golden cases, got %v", cases)
	}
	for _, rf := range cases {
		dir := filepath.Dir(rf)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			c := loadChart(t, chartDir(t, dir))
			rules := loadRules(t, rf)
			// Before: the chart renders public images, which the proof lists.
			before, err := Localize(ctx, c, nil, testImages, Options{})
			var cerr *localize.CoverageError
			if !errors.As(err, &cerr) || len(before.Coverage.Unlocalized) == 0 {
				t.Fatalf("the chart as published passed the proof: %v", err)
			}
			vres, err := Localize(ctx, c, rules, testImages, Options{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "want", "values.yaml"), vres.Values)
			golden(t, filepath.Join(dir, "want", "rendered.yaml"), joined(vres.Rendered))
			cres, err := Localize(ctx, c, rules, testImages, Options{Mode: ModeChart, VersionSuffix: true})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "want", "chart", "values.yaml"), cres.Localized.Files["values.yaml"])
			if !bytes.Equal(joined(vres.Rendered), joined(cres.Rendered)) {
				t.Errorf("the overlay and the localized chart render differently:\n%s",
					localize.Diff("rendered", joined(vres.Rendered), joined(cres.Rendered)))
			}
			if cres.Version != c.Version+"+localized" || cres.Localized.Version != cres.Version {
				t.Errorf("version %q", cres.Version)
			}
			if vres.Coverage.Checked == 0 || len(vres.Coverage.Unlocalized) != 0 {
				t.Errorf("coverage %+v", vres.Coverage)
			}
			// Only the values changed: every other file is the input's.
			for p, b := range c.Files {
				if p != "values.yaml" && p != "Chart.yaml" && !bytes.Equal(b, cres.Localized.Files[p]) {
					t.Errorf("%s changed", p)
				}
			}
			// values.yaml kept its comments and its other lines: one line
			// per change differs.
			d := localize.Diff("values.yaml", c.Files["values.yaml"], cres.Localized.Files["values.yaml"])
			real := 0
			for _, ch := range cres.Changes {
				if ch.Old != ch.New {
					real++
				}
			}
			if n := strings.Count(d, "\n-"); n != real {
				t.Errorf("%d lines changed for %d changes:\n%s", n, real, d)
			}
		})
	}
}

// TestPinDigestInvalidReference: with --pin-digest a tag rule writes the
// digest, which a "repo:tag" template renders as an invalid reference: the
// error names the rule, the values file and path, and the rendered value.
func TestPinDigestInvalidReference(t *testing.T) {
	c := loadChart(t, "testdata/repo-tag/chart")
	rules := loadRules(t, "testdata/repo-tag/rules.yaml")
	_, err := Localize(context.Background(), c, rules, testImages, Options{Localize: localize.Options{PinDigest: true}})
	var rerr *localize.RuleError
	if !errors.As(err, &rerr) || !errors.Is(err, ErrInvalidReference) {
		t.Fatalf("got %v", err)
	}
	for _, s := range []string{"rule web", "values.yaml", "image.tag", "web/templates/deployment.yaml", `"registry.local/air/stefanprodan/podinfo:sha256:1111`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	// The chart with a digest value takes the digest there and keeps the tag.
	c = loadChart(t, "../../testdata/podinfo/chart")
	res, err := Localize(context.Background(), c, loadRules(t, "testdata/digest/rules.yaml"), testImages, Options{Localize: localize.Options{PinDigest: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(joined(res.Rendered), []byte(`"registry.local/air/stefanprodan/podinfo:6.3.6@`+digestApp+`"`)) {
		t.Errorf("rendered:\n%s", joined(res.Rendered))
	}
}

// TestSubchartImageMissing: a sub-chart's image that is not a resource of
// the component is named with its rendered file and path.
func TestSubchartImageMissing(t *testing.T) {
	c := loadChart(t, "testdata/global-registry/chart")
	rules := loadRules(t, "testdata/global-registry/rules.yaml")
	images := localize.ImageList{testImages[0]} // no worker
	_, err := Localize(context.Background(), c, rules[:1], images, Options{})
	var cerr *localize.CoverageError
	if !errors.As(err, &cerr) {
		t.Fatalf("got %v", err)
	}
	f := cerr.Unlocalized[0]
	if len(cerr.Unlocalized) != 1 || f.File != "shop/charts/worker/templates/job.yaml" || f.Path != "spec.template.spec.containers[0].image" ||
		f.Image != "registry.local/example/worker:1.0" {
		t.Errorf("findings %+v", cerr.Unlocalized)
	}
	if !strings.Contains(err.Error(), "shop/charts/worker/templates/job.yaml") {
		t.Errorf("error %q", err)
	}
	// The closure lists what the chart needs, and which is not a resource.
	needs, err := c.Closure(context.Background(), RenderOptions{}, localize.ImageList{
		{Identity: localize.Identity{"name": "podinfo"}, Image: localize.Image{Ref: "ghcr.io/stefanprodan/podinfo:6.3.6"}},
	}, localize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(needs) != 2 || !needs[1].Resource || needs[0].Resource || needs[0].Image != "ghcr.io/example/worker:1.0" ||
		needs[0].Uses[0].File != "shop/charts/worker/templates/job.yaml" {
		t.Errorf("closure %+v", needs)
	}
}

// TestValuesModeRefusesTemplates: a rule on a template cannot be an
// overlay; the error says to localize the chart itself.
func TestValuesModeRefusesTemplates(t *testing.T) {
	c := loadChart(t, "testdata/repo-tag/chart")
	rules := []localize.Rule{{Name: "x", File: "Chart.yaml", Image: "name", Resource: localize.ResourceRef{Name: "podinfo"}}}
	_, err := Localize(context.Background(), c, rules, testImages, Options{})
	if !errors.Is(err, ErrNotValues) || !strings.Contains(err.Error(), "Chart.yaml") {
		t.Fatalf("got %v", err)
	}
}

// TestPackageRoundTrip: a packaged chart loads back with the same files
// (helm's loader), and packaging is deterministic.
func TestPackageRoundTrip(t *testing.T) {
	c := loadChart(t, "../../testdata/podinfo/chart")
	a, err := c.Package()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Package()
	if !bytes.Equal(a, b) {
		t.Error("two packages differ")
	}
	c2, err := LoadArchive(bytes.NewReader(a), localize.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Name != "podinfo" || c2.Version != "6.3.6" || len(c2.Files) != len(c.Files) {
		t.Errorf("loaded %s %s %v", c2.Name, c2.Version, c2.Files.Names())
	}
	if _, err := LoadArchive(strings.NewReader("not a chart"), localize.Limits{}); err == nil {
		t.Error("garbage loaded")
	}
}
