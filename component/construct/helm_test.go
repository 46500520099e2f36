package construct_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/localize/helm"
)

// TestHelmInput: a helm input (chart directory or .tgz) becomes the chart's
// OCI artifact set, with OCM's reference hint and an ociArtifactDigest/v1
// of the chart manifest; the set holds a chart helm loads. Directory and
// archive give the same chart manifest.
func TestHelmInput(t *testing.T) {
	chartDir, _ := filepath.Abs("../../testdata/podinfo/chart")
	c, err := helm.LoadDir(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := c.Package()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "podinfo-6.3.6.tgz"), tgz, 0o644)
	res := build(t, dir, `
- name: chart
  type: helmChart
  input: {type: helm, path: `+chartDir+`}
- name: packed
  type: helmChart
  input: {type: helm, path: podinfo-6.3.6.tgz, version: 6.3.6, repository: charts/podinfo}
`, construct.Options{})
	var manifests []string
	for i, name := range []string{"chart", "packed"} {
		r := res.Descriptor.Resources[i]
		lb, err := r.Access.LocalBlob()
		if err != nil {
			t.Fatal(err)
		}
		hint := map[string]string{"chart": "example.com/demo/podinfo:6.3.6", "packed": "example.com/demo/charts/podinfo:6.3.6"}[name]
		if !ctf.IsArtifactSet(lb.MediaType) || lb.ReferenceName != hint {
			t.Errorf("%s: access %+v", name, lb)
		}
		if r.Digest == nil || r.Digest.NormalisationAlgorithm != component.OCIArtifactDigestV1 {
			t.Fatalf("%s: digest %+v", name, r.Digest)
		}
		manifests = append(manifests, r.Digest.Value)
		rc, err := res.Blobs[i].Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		set, err := ctf.OpenArtifactSet(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := gitops.FetchChart(context.Background(), set, "podinfo", set.Main())
		set.Close()
		if err != nil || got.Name != "podinfo" || got.Version != "6.3.6" || !bytes.Equal(got.Files["values.yaml"], c.Files["values.yaml"]) {
			t.Fatalf("%s: chart %v %v", name, got, err)
		}
	}
	if manifests[0] != manifests[1] {
		t.Errorf("directory and archive give different charts: %v", manifests)
	}
}
