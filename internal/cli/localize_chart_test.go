package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/registry"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
)

// chartRelease publishes a release whose chart is a helm input (the sample
// chart) with its two images in reg/pub, carries it to reg/air and returns
// the reference of the copy.
func chartRelease(t *testing.T, reg *registrytest.Registry) string {
	t.Helper()
	seed(t, reg, "pub/stefanprodan/podinfo", "6.3.6")
	seed(t, reg, "pub/library/busybox", "1.36")
	sample, _ := filepath.Abs("../../testdata/podinfo")
	dir := t.TempDir()
	ctor := filepath.Join(dir, "constructor.yaml")
	os.WriteFile(ctor, []byte(`components:
- name: example.com/podinfo
  version: 6.3.6
  provider: {name: example.com}
  resources:
  - {name: podinfo, type: ociImage, version: 6.3.6, access: {type: ociArtifact, imageReference: `+reg.Host+`/pub/stefanprodan/podinfo:6.3.6}}
  - {name: busybox, type: ociImage, version: "1.36", access: {type: ociArtifact, imageReference: `+reg.Host+`/pub/library/busybox:1.36}}
  - {name: chart, type: helmChart, input: {type: helm, path: `+sample+`/chart}}
  - {name: chart-config, type: PlainText, input: {type: file, path: `+sample+`/chart-config.yaml, mediaType: application/x-yaml}}
`), 0o644)
	if code, _, stderr := run(t, "component", "create", "-f", ctor, "--to", "http://"+reg.Host+"/pub"); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := run(t, "transfer", "http://"+reg.Host+"/pub//example.com/podinfo:6.3.6", "http://"+reg.Host+"/air"); code != 0 {
		t.Fatal(stderr)
	}
	return "http://" + reg.Host + "/air//example.com/podinfo:6.3.6"
}

// TestLocalizeChart: a chart made by `component create` from a helm input
// is carried, its images listed, localized both ways and published: the
// localized chart is pulled with helm's own registry client and renders
// only private images; the values-overlay artifact carries a HelmRelease
// (chartRef to an OCIRepository selecting the chart layer) and an Argo CD
// Application, and deploys the same rendered output.
func TestLocalizeChart(t *testing.T) {
	reg := registrytest.New(t)
	ref := chartRelease(t, reg)
	private := reg.Host + "/air/"

	// The closure: both images the chart renders are resources.
	code, stdout, stderr := run(t, "component", "resources", ref, "--chart-images", "-o", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var res struct{ Charts []release.ChartNeeds }
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Charts) != 1 || len(res.Charts[0].Images) != 2 {
		t.Fatalf("%v %s", err, stdout)
	}
	for _, n := range res.Charts[0].Images {
		if !n.Resource || n.Uses[0].File != "podinfo/templates/deployment.yaml" {
			t.Errorf("need %+v", n)
		}
	}

	// Localized chart, republished under the private registry.
	code, stdout, stderr = run(t, "localize", ref, "--resource", "chart", "--config", "chart-config", "--chart-mode", "chart",
		"--localized-version", "--chart-repo", "oci://"+reg.Host+"/air/charts", "-O", t.TempDir(), "-o", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var out struct {
		Chart struct {
			Version        string
			ChartReference string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.Chart.Version != "6.3.6+localized" ||
		!strings.HasPrefix(out.Chart.ChartReference, reg.Host+"/air/charts/podinfo:6.3.6_localized@sha256:") {
		t.Fatalf("%v %s", err, stdout)
	}
	hc, err := registry.NewClient(registry.ClientOptPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := hc.Pull(reg.Host + "/air/charts/podinfo:6.3.6_localized")
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Chart.Meta.Version != "6.3.6+localized" {
		t.Errorf("helm pulled version %s", pulled.Chart.Meta.Version)
	}
	c, err := helm.LoadArchive(bytes.NewReader(pulled.Chart.Data), localize.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := c.Render(t.Context(), helm.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	images, err := localize.ImageFields(rendered, nil)
	if err != nil || len(images) != 2 {
		t.Fatalf("%v %+v", err, images)
	}
	for _, f := range images {
		if !strings.HasPrefix(f.Image, private) {
			t.Errorf("the republished chart renders %s", f.Image)
		}
	}

	// Values overlay: the chart stays as the component has it (pushed to
	// --chart-repo byte for byte); the GitOps artifact holds the values and
	// the objects that deploy it.
	code, stdout, stderr = run(t, "localize", ref, "--resource", "chart", "--config", "chart-config",
		"--chart-repo", "oci://"+reg.Host+"/air/charts", "--push", "oci://"+reg.Host+"/air/deploy/podinfo:6.3.6", "-o", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var vout struct {
		Chart struct {
			Mode           string
			ChartReference string
		}
		Pushed struct{ Reference string }
	}
	if err := json.Unmarshal([]byte(stdout), &vout); err != nil || vout.Chart.Mode != "values" ||
		!strings.HasPrefix(vout.Chart.ChartReference, reg.Host+"/air/charts/podinfo:6.3.6@sha256:") ||
		!strings.HasPrefix(vout.Pushed.Reference, reg.Host+"/air/deploy/podinfo:6.3.6@sha256:") {
		t.Fatalf("%v %s", err, stdout)
	}
	// The chart is republished as the transfer left it: the same manifest.
	st, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	copyRef, _ := oci.ParseRef(reg.Host + "/air/example.com/podinfo/podinfo:6.3.6")
	cd, err := st.Resolve(t.Context(), copyRef)
	if err != nil || !strings.HasSuffix(vout.Chart.ChartReference, "@"+cd.Digest.String()) {
		t.Errorf("republished %s, the copy is %v (%v)", vout.Chart.ChartReference, cd.Digest, err)
	}
	dir := t.TempDir()
	if code, _, stderr := run(t, "artifact", "pull", "oci://"+reg.Host+"/air/deploy/podinfo:6.3.6", "-O", dir); code != 0 {
		t.Fatal(stderr)
	}
	for _, f := range []string{"values.yaml", "flux/helmrelease.yaml", "flux/ocirepository.yaml", "argocd/application.yaml", "configsync/rootsync.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		switch f {
		case "flux/ocirepository.yaml":
			if !strings.Contains(string(b), "mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip") ||
				!strings.Contains(string(b), "url: oci://"+reg.Host+"/air/charts/podinfo") {
				t.Errorf("%s:\n%s", f, b)
			}
		case "flux/helmrelease.yaml":
			if !strings.Contains(string(b), "chartRef:\n    kind: OCIRepository") || !strings.Contains(string(b), "repository: "+private+"stefanprodan/podinfo") {
				t.Errorf("%s:\n%s", f, b)
			}
		case "argocd/application.yaml":
			if !strings.Contains(string(b), "repoURL: oci://"+reg.Host+"/air/charts/podinfo") || !strings.Contains(string(b), "valuesObject:") {
				t.Errorf("%s:\n%s", f, b)
			}
		}
	}
	// The unchanged chart with the pulled values renders what the localized
	// chart renders.
	orig, err := hc.Pull(reg.Host + "/air/charts/podinfo:6.3.6")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := helm.LoadArchive(bytes.NewReader(orig.Chart.Data), localize.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	vb, _ := os.ReadFile(filepath.Join(dir, "values.yaml"))
	vals, err := helm.ParseValues(vb)
	if err != nil {
		t.Fatal(err)
	}
	viaOverlay, err := oc.Render(t.Context(), helm.RenderOptions{}, vals)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range rendered {
		if !bytes.Equal(viaOverlay[name], b) {
			t.Errorf("%s renders differently with the overlay:\n%s", name, localize.Diff(name, b, viaOverlay[name]))
		}
	}
}

// TestLocalizeChartArchiveBlob: a chart kept as a .tgz local blob in a CTF
// is localized there (values mode, -O), and the proof names a public image
// with its rendered file when a rule is missing.
func TestLocalizeChartArchiveBlob(t *testing.T) {
	sample, _ := filepath.Abs("../../testdata/podinfo")
	c, err := helm.LoadDir(filepath.Join(sample, "chart"))
	if err != nil {
		t.Fatal(err)
	}
	tgz, _ := c.Package()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "podinfo-6.3.6.tgz"), tgz, 0o644)
	ctor := filepath.Join(dir, "constructor.yaml")
	os.WriteFile(ctor, []byte(`name: example.com/podinfo
version: 6.3.6
provider: {name: example.com}
resources:
- {name: podinfo, type: ociImage, version: 6.3.6, access: {type: ociArtifact, imageReference: "ghcr.io/stefanprodan/podinfo:6.3.6@sha256:1111111111111111111111111111111111111111111111111111111111111111"}}
- {name: busybox, type: ociImage, version: "1.36", access: {type: ociArtifact, imageReference: "registry.local/mirror/library/busybox:1.36@sha256:2222222222222222222222222222222222222222222222222222222222222222"}}
- {name: chart, type: helmChart, input: {type: file, path: podinfo-6.3.6.tgz, mediaType: `+helm.ChartLayerMediaType+`}}
`), 0o644)
	ctf := filepath.Join(dir, "ctf")
	if code, _, stderr := run(t, "component", "create", "-f", ctor, "--to", ctf); code != 0 {
		t.Fatal(stderr)
	}
	ref := ctf + "//example.com/podinfo:6.3.6"
	out := t.TempDir()
	code, stdout, stderr := run(t, "localize", ref, "--resource", "chart", "--rules", filepath.Join(sample, "chart-config.yaml"), "-O", out)
	if code != 0 {
		t.Fatal(stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "values.yaml"))
	if err != nil || !bytes.Contains(b, []byte("repository: registry.local/mirror/library/busybox")) || !strings.Contains(stdout, "all name copies") {
		t.Fatalf("%v\n%s\n%s", err, b, stdout)
	}
	rules := filepath.Join(dir, "one-rule.yaml")
	os.WriteFile(rules, []byte("apiVersion: config.ocm.software/v1alpha1\nkind: ConfigData\nlocalization:\n- {name: app, file: values.yaml, repository: image.repository, tag: image.tag, resource: {name: podinfo}}\n"), 0o644)
	code, _, stderr = run(t, "localize", ref, "--resource", "chart", "--rules", rules, "--diff")
	if code != 1 || !strings.Contains(stderr, "podinfo/templates/deployment.yaml") || !strings.Contains(stderr, "spec.template.spec.initContainers[0].image") ||
		!strings.Contains(stderr, "docker.io/library/busybox:1.36") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
