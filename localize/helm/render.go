package helm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/localize"
)

// RenderOptions name the release a chart is rendered for.
type RenderOptions struct {
	ReleaseName string // default "release"
	Namespace   string // default "default"
}

func (o RenderOptions) withDefaults() RenderOptions {
	if o.ReleaseName == "" {
		o.ReleaseName = "release"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	return o
}

// ParseValues reads a values file; empty input gives no values.
func ParseValues(b []byte) (map[string]any, error) {
	v := map[string]any{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return v, nil
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("reading values: %w", err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return v, nil
}

// Render renders the chart as `helm template` does, with helm's own
// loader, dependency processing, values coalescing (the chart's
// values.yaml, then each of values in order) and template engine, for an
// install of opts' release. Every rendered template that holds more than
// white space is returned by its name ("podinfo/templates/deployment.yaml",
// "podinfo/charts/redis/templates/master.yaml"); NOTES.txt is left out.
func (c *Chart) Render(ctx context.Context, opts RenderOptions, values ...map[string]any) (localize.Files, error) {
	opts = opts.withDefaults()
	ch, err := c.load()
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	for _, v := range values {
		vals = util.MergeTables(copyValues(v), vals)
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("rendering chart %s: dependencies: %w", c.Name, err)
	}
	top, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: opts.ReleaseName, Namespace: opts.Namespace, Revision: 1, IsInstall: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: values: %w", c.Name, err)
	}
	var e engine.Engine
	out, err := e.RenderWithContext(ctx, ch, top)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", c.Name, err)
	}
	files := localize.Files{}
	for name, s := range out {
		if strings.HasSuffix(name, "NOTES.txt") || strings.TrimSpace(s) == "" {
			continue
		}
		files[name] = []byte(s)
	}
	return files, nil
}

// copyValues copies the maps of v deeply, so merging never changes v.
func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			x = copyValues(m)
		}
		out[k] = x
	}
	return out
}

// Images renders the chart with values and lists every image field of
// every workload it renders (and of the extra fields, "KIND:PATH"), with
// the rendered file and path of each: the chart's image closure.
func (c *Chart) Images(ctx context.Context, opts RenderOptions, extra []string, values ...map[string]any) ([]localize.Finding, error) {
	files, err := c.Render(ctx, opts, values...)
	if err != nil {
		return nil, err
	}
	fs, err := localize.ImageFields(files, extra)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, err)
	}
	return fs, nil
}

// Needs is one image a chart renders, and whether the component has it.
type Needs struct {
	Image    string             `json:"image"`
	Resource bool               `json:"resource"` // one of the component's image resources
	Uses     []localize.Finding `json:"uses"`     // where it is rendered
}

// Closure renders the chart and tells, for every image it renders, whether
// it is one of images: a resource of the component, compared as the
// coverage proof compares, or by repository path and tag whatever the
// registry (localize.SamePath: a chart's defaults name the public registry,
// the component may name a mirror of it). Images are sorted by reference.
func (c *Chart) Closure(ctx context.Context, opts RenderOptions, images localize.Images, o localize.Options, values ...map[string]any) ([]Needs, error) {
	files, err := c.Render(ctx, opts, values...)
	if err != nil {
		return nil, err
	}
	all, err := localize.ImageFields(files, o.Fields)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, err)
	}
	o.AllowUnlocalized = true
	cov, err := localize.Check(files, images, o)
	if err != nil {
		return nil, err
	}
	missing := map[string]bool{}
	for _, f := range cov.Unlocalized {
		missing[f.Image] = true
	}
	byPath := func(ref string) bool {
		for _, im := range images.All() {
			if localize.SamePath(ref, im) {
				return true
			}
		}
		return false
	}
	by := map[string]*Needs{}
	for _, f := range all {
		n := by[f.Image]
		if n == nil {
			n = &Needs{Image: f.Image, Resource: !missing[f.Image] || byPath(f.Image)}
			by[f.Image] = n
		}
		n.Uses = append(n.Uses, f)
	}
	out := make([]Needs, 0, len(by))
	for _, n := range by {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out, nil
}
