package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
)

// chartNeeds is what --chart-images adds for a helmChart resource: every
// image its rendered workloads name, and whether the component has it.
type chartNeeds struct {
	Component string       `json:"component"`
	Chart     string       `json:"chart"`
	Images    []helm.Needs `json:"images"`
}

// chartImages renders every helmChart resource of the version (default
// values) and lists the images it needs.
func (g *globals) chartImages(ctx context.Context, repo *componentRepo, name, version string) ([]chartNeeds, error) {
	cv, src, err := g.readVersion(ctx, repo, name, version)
	if err != nil {
		return nil, err
	}
	images, err := componentImages(ctx, repo, cv, nil, 0)
	if err != nil {
		return nil, err
	}
	var out []chartNeeds
	d := cv.Descriptor
	for i := range d.Resources {
		r := &d.Resources[i]
		if !helm.IsChart(r) {
			continue
		}
		c, _, err := helm.Open(ctx, src, r)
		if err != nil {
			return nil, err
		}
		needs, err := c.Closure(ctx, helm.RenderOptions{}, originals(images), localize.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name(r), err)
		}
		out = append(out, chartNeeds{Component: d.Name + ":" + d.Version, Chart: r.Name, Images: needs})
	}
	return out, nil
}

// originals lets a chart's default values (which name the public images)
// match the component's images by their originals as well as their copies.
func originals(l localize.ImageList) localize.ImageList {
	out := append(localize.ImageList(nil), l...)
	for _, r := range l {
		if r.Image.Original != "" && r.Image.Original != r.Image.Ref {
			x := r
			x.Image = localize.Image{Ref: r.Image.Original}
			out = append(out, x)
		}
	}
	return out
}

// printChartNeeds is the table of --chart-images.
func printChartNeeds(t *tableWriter, cs []chartNeeds) {
	t.row("")
	t.row("CHART", "IMAGE", "RESOURCE", "RENDERED AT")
	for _, c := range cs {
		for _, n := range c.Images {
			res := "yes"
			if !n.Resource {
				res = "MISSING"
			}
			var at []string
			for _, u := range n.Uses {
				at = append(at, u.File+" "+u.Path)
			}
			t.row(c.Chart, n.Image, res, strings.Join(at, ", "))
		}
	}
}
