package helm

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/localize"
)

// bigChart is a chart with n templates: each a Deployment with an init
// container and an app container whose images come from values, through a
// helper, as real charts write them.
func bigChart(tb testing.TB, n int) *Chart {
	files := localize.Files{
		"Chart.yaml":             []byte("apiVersion: v2\nname: big\nversion: 1.0.0\n"),
		"values.yaml":            []byte("# images\nimage:\n  repository: ghcr.io/stefanprodan/podinfo\n  tag: \"6.3.6\"\n  digest: \"\"\ninit:\n  image:\n    repository: docker.io/library/busybox\n    tag: \"1.36\"\n    digest: \"\"\nreplicas: 2\n"),
		"templates/_helpers.tpl": []byte(`{{- define "big.image" -}}{{ .repository }}:{{ .tag }}{{ with .digest }}@{{ . }}{{ end }}{{- end -}}` + "\n"),
	}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("templates/deploy-%03d.yaml", i)] = []byte(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-app-%03d
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      initContainers:
      - name: init
        image: {{ include "big.image" .Values.init.image | quote }}
      containers:
      - name: app
        image: {{ include "big.image" .Values.image | quote }}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`, i))
	}
	c, err := LoadFiles(files)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkRenderAndCheck200 localizes a chart of 200 templates (values
// mode): rules applied, the chart rendered with helm's engine and every
// rendered image field checked. make bench reports it; the budget is 2 s.
func BenchmarkRenderAndCheck200(b *testing.B) {
	c := bigChart(b, 200)
	rules := loadRules(b, "testdata/digest/rules.yaml")
	for b.Loop() {
		res, err := Localize(context.Background(), c, rules, testImages, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Coverage.Checked != 400 {
			b.Fatalf("checked %d", res.Coverage.Checked)
		}
	}
}

// TestRenderAndCheck200 runs the same once and fails past the budget
// (2 s; with room for a loaded machine: it fails only at 4 × the budget).
func TestRenderAndCheck200(t *testing.T) {
	c := bigChart(t, 200)
	rules := loadRules(t, "testdata/digest/rules.yaml")
	start := time.Now()
	res, err := Localize(context.Background(), c, rules, testImages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	if res.Coverage.Checked != 400 || len(res.Rendered) != 200 {
		t.Fatalf("checked %d fields in %d files", res.Coverage.Checked, len(res.Rendered))
	}
	t.Logf("rendered and checked 200 templates in %v", d)
	if d > 8*time.Second {
		t.Errorf("took %v, budget 2 s", d)
	}
}
