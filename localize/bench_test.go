package localize

import (
	"fmt"
	"strings"
	"testing"
)

// corpus returns files files holding docs Kubernetes documents in all: a
// Deployment with an app and a cache container, a Service and a ConfigMap
// in turn, with comments.
func corpus(files, docs int) Files {
	out := Files{}
	per := docs / files
	for f := 0; f < files; f++ {
		var b strings.Builder
		for d := 0; d < per; d++ {
			if d > 0 {
				b.WriteString("---\n")
			}
			switch d % 3 {
			case 0:
				fmt.Fprintf(&b, `# workload %d
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d-%d
  labels: {app: podinfo, tier: backend}
spec:
  replicas: 2
  template:
    spec:
      initContainers:
      - name: init
        image: "redis:7.0.7"
      containers:
      - name: app
        image: ghcr.io/stefanprodan/podinfo:6.3.5 # the app
        ports: [{containerPort: 9898}]
        env:
        - {name: A, value: "1"}
`, d, f, d)
			case 1:
				fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d-%d\nspec:\n  ports:\n  - port: 80\n", f, d)
			default:
				fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d-%d\ndata:\n  key: value\n", f, d)
			}
		}
		out[fmt.Sprintf("manifests/part-%03d.yaml", f)] = []byte(b.String())
	}
	return out
}

// BenchmarkLocalize5000 localizes 5,000 documents in 100 files (Auto mode: every image
// field of 1,700 Deployments rewritten, then the coverage check).
func BenchmarkLocalize5000(b *testing.B) {
	files := corpus(100, 5000)
	b.ResetTimer()
	for b.Loop() {
		res, err := Localize(files, nil, testImages, Options{Auto: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Changes) != 2*100*17 { // 17 Deployments in each 50-document file
			b.Fatalf("%d changes", len(res.Changes))
		}
	}
}

// BenchmarkRules5000 applies a rule that matches every Deployment of one
// 5,000-document file.
func BenchmarkRules5000(b *testing.B) {
	files := corpus(1, 5000)
	rules := []Rule{
		{Name: "app", File: "manifests/part-000.yaml", Image: "spec.template.spec.containers[name=app].image", Resource: ResourceRef{Name: "image"}},
		{Name: "init", File: "manifests/part-000.yaml", Image: "spec.template.spec.initContainers[0].image", Resource: ResourceRef{Name: "redis"}},
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Localize(files, rules, testImages, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
