package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/release"
)

// chartFlags are localize's flags for helmChart resources.
type chartFlags struct {
	mode      string
	repo      string
	localized bool
	values    string
}

func (f *chartFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.mode, "chart-mode", string(helm.ModeValues), "for a helmChart resource: values (a values overlay; the chart stays as published) or chart (values.yaml rewritten, the chart republished)")
	fs.StringVar(&f.repo, "chart-repo", "", "for a helmChart resource: push the chart to oci://REPO/NAME:VERSION (needed with --chart-mode chart, and for a chart that is not in a registry)")
	fs.BoolVar(&f.localized, "localized-version", false, "with --chart-mode chart: give the chart version +localized build metadata")
	fs.StringVar(&f.values, "values", "", "for a helmChart resource: the component's values FILE, rendered under the localized values")
}

// options turns the flags into release.ChartOptions.
func (g *globals) chartOptions(f chartFlags) (release.ChartOptions, error) {
	co := release.ChartOptions{Mode: helm.Mode(f.mode), VersionSuffix: f.localized, Insecure: g.registry.PlainHTTP}
	if co.Mode != helm.ModeValues && co.Mode != helm.ModeChart {
		return co, usageErr(fmt.Errorf("--chart-mode %q: want %s or %s", f.mode, helm.ModeValues, helm.ModeChart))
	}
	if f.values != "" {
		b, err := os.ReadFile(f.values)
		if err != nil {
			return co, usageErr(fmt.Errorf("--values: %w", err))
		}
		co.Values = b
	}
	if f.repo != "" {
		r, err := g.parseOCIURL(f.repo, false)
		if err != nil {
			return co, err
		}
		co.Repo = r
	}
	return co, nil
}

// printChart adds a localized chart to the summary.
func printChart(t *tableWriter, c *release.LocalizedChart) {
	t.row(fmt.Sprintf("chart %s %s (%s mode): %d values rewritten, rendered with helm", c.Chart, c.Version, c.Mode, rewritten(c.Changes)))
	if c.Reference != "" {
		t.row("chart " + c.Reference)
	}
}

// coverageSummary says how the proof ended, for the summary line.
func coverageSummary(c localize.Coverage) string {
	if n := len(c.Unlocalized); n > 0 {
		return fmt.Sprintf("%d name no copy (allowed by --allow-unlocalized)", n)
	}
	return "all name copies"
}

// rewritten counts the changes that changed a value (a rule may find the
// value already right, as a tag that stays the same).
func rewritten(cs []localize.Change) int {
	n := 0
	for _, c := range cs {
		if c.Old != c.New {
			n++
		}
	}
	return n
}
