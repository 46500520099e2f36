package release

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/localize/kustomize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/resource"
)

// ErrChartRepo: a chart must be pushed (ModeChart, or a chart that is only
// inside the component version and is to be deployed) and no repository
// was named for it.
var ErrChartRepo = errors.New("no repository to push the chart to")

// ChartOptions say how a helmChart resource is localized.
type ChartOptions struct {
	// Mode is helm.ModeValues (the default: a values overlay, the chart
	// untouched) or helm.ModeChart (values.yaml rewritten, the chart
	// republished).
	Mode helm.Mode
	// Repo, when it names a repository, is where the chart is pushed as an
	// OCI Helm chart, as Repo/NAME:VERSION, through Registry. Without it a
	// chart that is an OCI artifact is deployed from where the component
	// names it.
	Repo oci.Ref
	// VersionSuffix gives a localized chart "+localized" build metadata.
	VersionSuffix bool
	// Values is the component's values file for the chart.
	Values []byte
	// Insecure marks plain-HTTP registries for the generated Flux objects;
	// loopback registries are marked always.
	Insecure bool
}

// LocalizedChart is a localized helmChart resource.
type LocalizedChart struct {
	*helm.Result
	// Reference is where the chart a cluster deploys is
	// (REPO/NAME:TAG@DIGEST); "" when it is only inside the version.
	Reference string `json:"chartReference,omitempty"`
	// Deploy are the files that deploy it (helm.DeployFiles): what --push
	// publishes.
	Deploy localize.Files `json:"-"`
}

// localizeTree localizes a manifests tree; a tree with a kustomization is
// proven on what kustomize builds (package localize/kustomize).
func localizeTree(files localize.Files, rules []localize.Rule, images localize.Images, o localize.Options) (*localize.Result, error) {
	if !kustomize.Has(files) {
		return localize.Localize(files.FS(), rules, images, o)
	}
	res, err := kustomize.Localize(files, rules, images, o)
	if res == nil {
		return nil, err
	}
	return res.Result, err
}

// localizeChart localizes a helmChart resource (helm.Localize), pushes the
// chart when o.Chart.Repo says where, and writes the files that deploy it:
// -O gets them (and, in ModeChart, the chart below chart/NAME/), --push
// publishes them as a GitOps artifact.
func localizeChart(ctx context.Context, repo *repository.Repository, src *resource.Content, r *component.Resource, rules []localize.Rule, o LocalizeOptions) (*Localized, error) {
	name := src.Name(r)
	if o.Options.Auto {
		return nil, fmt.Errorf("%s is a Helm chart: Auto rewrites manifests, a chart is localized by rules on its values", name)
	}
	c, original, loc, err := openChart(ctx, src, r)
	if err != nil {
		return nil, err
	}
	images, err := ComponentImages(ctx, repo.Repository, src.Version)
	if err != nil {
		return nil, err
	}
	hr, err := helm.Localize(ctx, c, rules, images, helm.Options{Localize: o.Options, Mode: o.Chart.Mode, Values: o.Chart.Values, VersionSuffix: o.Chart.VersionSuffix})
	out := &Localized{Name: name, Version: src.Version, Original: localize.Files{"values.yaml": nil}}
	if hr != nil {
		out.Chart = &LocalizedChart{Result: hr}
		out.Result = &localize.Result{Files: localize.Files{}, Changes: hr.Changes, Changed: []string{}, Coverage: hr.Coverage}
	}
	if err != nil {
		return out, fmt.Errorf("localizing %s: %w", name, err)
	}
	if hr.Mode == helm.ModeChart {
		out.Original["values.yaml"] = c.Files["values.yaml"]
		out.Files["values.yaml"] = hr.Localized.Files["values.yaml"]
	} else {
		out.Files["values.yaml"] = hr.Values
	}
	if string(out.Original["values.yaml"]) != string(out.Files["values.yaml"]) {
		out.Changed = []string{"values.yaml"}
	}
	if o.Out == "" && o.Push.Repository == "" {
		return out, nil // a diff: nothing is pushed or written
	}
	var chartRef *oci.Ref
	switch {
	case o.Chart.Repo.Repository != "":
		repoRef, err := oci.ParseRef(strings.TrimSuffix(o.Chart.Repo.Repo(), "/"+c.Name) + "/" + c.Name)
		if err != nil {
			return out, err
		}
		a := original
		if hr.Mode == helm.ModeChart || a == nil {
			if a, err = gitops.BuildChart(hr.Localized); err != nil {
				return out, err
			}
		}
		ref, err := gitops.PushChart(ctx, o.Registry, repoRef, a)
		if err != nil {
			return out, err
		}
		chartRef = &ref
	case hr.Mode == helm.ModeChart:
		return out, fmt.Errorf("localizing %s: the localized chart must be republished: %w", name, ErrChartRepo)
	case loc != nil:
		chartRef = loc
	}
	deploy := localize.Files{}
	if len(hr.Values) > 0 {
		deploy["values.yaml"] = hr.Values
	}
	if chartRef != nil {
		out.Chart.Reference = chartRef.String()
		if deploy, err = deployFiles(hr, *chartRef, o.Chart.Insecure || remote.IsLoopback(chartRef.Registry)); err != nil {
			return out, err
		}
	}
	out.Chart.Deploy = deploy
	files := localize.Files{}
	for p, b := range deploy {
		files[p] = b
	}
	if hr.Mode == helm.ModeChart {
		for p, b := range hr.Localized.Files {
			files[path.Join("chart", c.Name, p)] = b
		}
	}
	if o.Out != "" {
		if err := localize.WriteFiles(o.Out, files); err != nil {
			return out, fmt.Errorf("writing %s: %w", o.Out, err)
		}
	}
	if o.Push.Repository != "" {
		if chartRef == nil {
			return out, fmt.Errorf("localizing %s: the chart is only inside the component version: %w", name, ErrChartRepo)
		}
		if o.Publish.Revision == "" {
			o.Publish.Revision = src.Version.Descriptor.Version + "@" + src.Version.Manifest.Digest.String()
		}
		if out.Pushed, err = Publish(ctx, o.Registry, deploy.FS(), o.Push, o.Publish, o.Signer); err != nil {
			return out, err
		}
	}
	return out, nil
}

// ChartNeeds are the images a helmChart resource renders (default values).
type ChartNeeds struct {
	Component string       `json:"component"`
	Chart     string       `json:"chart"`
	Images    []helm.Needs `json:"images"`
}

// ChartImages renders every helmChart resource of cv with its default
// values and lists the images its workloads name, and whether each is an
// image of the component (helm.Chart.Closure).
func ChartImages(ctx context.Context, repo *repository.Repository, cv *ocireg.Version) ([]ChartNeeds, error) {
	d := cv.Descriptor
	src, err := repo.Source(ctx, d.Name, d.Version, repo.Registry())
	if err != nil {
		return nil, err
	}
	images, err := ComponentImages(ctx, repo.Repository, cv)
	if err != nil {
		return nil, err
	}
	var out []ChartNeeds
	for i := range d.Resources {
		r := &d.Resources[i]
		if !isChart(r) {
			continue
		}
		c, _, _, err := openChart(ctx, src, r)
		if err != nil {
			return nil, err
		}
		needs, err := c.Closure(ctx, helm.RenderOptions{}, images, localize.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name(r), err)
		}
		out = append(out, ChartNeeds{Component: d.Name + ":" + d.Version, Chart: r.Name, Images: needs})
	}
	return out, nil
}

// chartType is OCM's resource type of a Helm chart.
const chartType = "helmChart"

// isChart reports whether the resource is a Helm chart.
func isChart(r *component.Resource) bool { return r.Type == chartType }

// openChart reads the chart of a helmChart resource: an OCI Helm chart
// (ociArtifact or relativeOciReference access, or a local blob holding its
// artifact set; the artifact is returned as read) or a chart archive (a
// local blob .tgz). For a chart in a registry it returns where it is.
func openChart(ctx context.Context, src *resource.Content, r *component.Resource) (*helm.Chart, *gitops.ChartArtifact, *oci.Ref, error) {
	if resource.IsArtifact(r) {
		a, err := src.Artifact(ctx, r)
		if err != nil {
			return nil, nil, nil, err
		}
		defer a.Close()
		c, art, err := gitops.FetchChart(ctx, a.Reader, a.Ref.Repo(), a.Descriptor)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", src.Name(r), err)
		}
		var loc *oci.Ref
		if r.Access.Kind() != component.AccessLocalBlob {
			ref := a.Ref
			ref.Digest = a.Descriptor.Digest
			loc = &ref
		}
		return c, art, loc, nil
	}
	rc, _, err := src.Open(ctx, r)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rc.Close()
	c, err := helm.LoadArchive(rc, localize.Limits{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", src.Name(r), err)
	}
	return c, nil, nil, nil
}

// deployFiles are the files of the GitOps artifact that deploys a
// localized chart from chart (its repository, tag and digest): values.yaml
// (the values the result deploys with, when there are any) and the Flux,
// Argo CD and Config Sync objects of gitops.HelmManifests.
func deployFiles(res *helm.Result, chart oci.Ref, insecure bool) (localize.Files, error) {
	vals, err := helm.ParseValues(res.Values)
	if err != nil {
		return nil, err
	}
	d := gitops.HelmDeployment{Chart: chart.Repo(), Version: res.Version, Values: vals, Insecure: insecure}
	if chart.Digest != (oci.Ref{}).Digest {
		d.Digest = chart.Digest.String()
	}
	files, err := gitops.HelmManifests(d)
	if err != nil {
		return nil, err
	}
	if len(res.Values) > 0 {
		files["values.yaml"] = res.Values
	}
	return files, nil
}
