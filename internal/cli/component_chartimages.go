package cli

import (
	"strings"

	"github.com/ferry-oci/ferry/release"
)

// printChartNeeds is the table of --chart-images.
func printChartNeeds(t *tableWriter, cs []release.ChartNeeds) {
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
