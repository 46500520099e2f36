package gitops

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/localize"
)

// HelmChartLayerMediaType is the layer Flux's OCIRepository must select to
// hand a chart to helm-controller (Helm's chart content media type).
const HelmChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

// HelmDeployment is a chart in an OCI registry and the values to deploy it
// with, for HelmManifests.
type HelmDeployment struct {
	// Chart is the chart's repository without scheme, its last element the
	// chart's name: "registry.local:5000/air/charts/podinfo".
	Chart   string
	Version string // the chart version (its tag, "+" written "_" as helm does)
	Digest  string // the manifest digest ("sha256:…"); pins Flux's source when set
	// Values are the values to deploy with (the values overlay); nil for none.
	Values map[string]any
	// ReleaseName and Namespace of the release; default the chart's name.
	ReleaseName, Namespace string
	// Insecure marks a plain-HTTP registry (Flux's spec.insecure).
	Insecure bool
}

// HelmManifests writes the objects that deploy the chart from the private
// registry, one file each:
//
//   - flux/ocirepository.yaml: a Flux OCIRepository for the chart, whose
//     layerSelector picks the chart layer (operation copy: the .tgz as is);
//   - flux/helmrelease.yaml: a HelmRelease whose chartRef names that
//     OCIRepository, with the values;
//   - argocd/application.yaml: an Argo CD Application with the chart as
//     its OCI source (repoURL oci://…, path ".") and the values as
//     helm.valuesObject;
//   - configsync/rootsync.yaml: a Config Sync RootSync with sourceType helm
//     reading the chart from oci://… with the values.
func HelmManifests(d HelmDeployment) (localize.Files, error) {
	name := path.Base(d.Chart)
	if d.Chart == "" || name == "." || name == "/" || d.Version == "" {
		return nil, fmt.Errorf("helm deployment: chart %q version %q: want REGISTRY/PATH/NAME and a version", d.Chart, d.Version)
	}
	if strings.Contains(d.Chart, "://") {
		return nil, fmt.Errorf("helm deployment: chart %q: give it without a scheme", d.Chart)
	}
	release := firstNonEmpty(d.ReleaseName, name)
	ns := firstNonEmpty(d.Namespace, name)
	tag := strings.ReplaceAll(d.Version, "+", "_")
	url := "oci://" + d.Chart
	values := d.Values
	if values == nil {
		values = map[string]any{}
	}
	ref := map[string]any{"tag": tag}
	if d.Digest != "" {
		ref = map[string]any{"digest": d.Digest}
	}
	ociRepo := map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "OCIRepository",
		"metadata":   map[string]any{"name": release, "namespace": "flux-system"},
		"spec": withInsecure(map[string]any{
			"interval":      "10m",
			"url":           url,
			"ref":           ref,
			"layerSelector": map[string]any{"mediaType": HelmChartLayerMediaType, "operation": "copy"},
		}, d.Insecure),
	}
	helmRelease := map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2",
		"kind":       "HelmRelease",
		"metadata":   map[string]any{"name": release, "namespace": "flux-system"},
		"spec": map[string]any{
			"interval":         "10m",
			"releaseName":      release,
			"targetNamespace":  ns,
			"install":          map[string]any{"createNamespace": true},
			"chartRef":         map[string]any{"kind": "OCIRepository", "name": release, "namespace": "flux-system"},
			"values":           values,
			"storageNamespace": ns,
		},
	}
	app := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": release, "namespace": "argocd"},
		"spec": map[string]any{
			"project": "default",
			"source": map[string]any{
				"repoURL":        url,
				"targetRevision": tag,
				"path":           ".",
				"helm":           map[string]any{"releaseName": release, "valuesObject": values},
			},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns},
			"syncPolicy":  map[string]any{"automated": map[string]any{}, "syncOptions": []any{"CreateNamespace=true"}},
		},
	}
	rootSync := map[string]any{
		"apiVersion": "configsync.gke.io/v1beta1",
		"kind":       "RootSync",
		"metadata":   map[string]any{"name": release, "namespace": "config-management-system"},
		"spec": map[string]any{
			"sourceFormat": "unstructured",
			"sourceType":   "helm",
			"helm": map[string]any{
				"repo":        "oci://" + path.Dir(d.Chart),
				"chart":       name,
				"version":     d.Version,
				"releaseName": release,
				"namespace":   ns,
				"auth":        "none",
				"values":      values,
			},
		},
	}
	files := localize.Files{}
	for p, obj := range map[string]any{
		"flux/ocirepository.yaml":  ociRepo,
		"flux/helmrelease.yaml":    helmRelease,
		"argocd/application.yaml":  app,
		"configsync/rootsync.yaml": rootSync,
	} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("helm deployment: %s: %w", p, err)
		}
		files[p] = b
	}
	return files, nil
}

func withInsecure(spec map[string]any, insecure bool) map[string]any {
	if insecure {
		spec["insecure"] = true
	}
	return spec
}
