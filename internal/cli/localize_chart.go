package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/localize/kustomize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
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

// localizeTree localizes a manifests tree: with kustomize when it holds a
// kustomization (the proof then runs on what kustomize builds).
func localizeTree(files localize.Files, rules []localize.Rule, images localize.Images, o localize.Options) (*localize.Result, error) {
	if kustomize.Has(files) {
		res, err := kustomize.Localize(files, rules, images, o)
		if res == nil {
			return nil, err
		}
		return res.Result, err
	}
	return localize.Localize(files.FS(), rules, images, o)
}

// chartOutput is what -o json prints for a chart.
type chartOutput struct {
	*helm.Result
	Chart  string  `json:"chartReference,omitempty"`
	Pushed *pushed `json:"pushed,omitempty"`
}

// runLocalizeChart localizes a helmChart resource.
func (g *globals) runLocalizeChart(ctx context.Context, r *component.Resource, in localizeInputs, o localizeOptions) error {
	c, loc, err := helm.Open(ctx, in.src, r)
	if err != nil {
		return err
	}
	var values []byte
	if o.chart.values != "" {
		if values, err = os.ReadFile(o.chart.values); err != nil {
			return usageErr(fmt.Errorf("--values: %w", err))
		}
	}
	mode := helm.Mode(o.chart.mode)
	if mode != helm.ModeValues && mode != helm.ModeChart {
		return usageErr(fmt.Errorf("--chart-mode %q: want %s or %s", o.chart.mode, helm.ModeValues, helm.ModeChart))
	}
	if o.auto {
		return usageErr(fmt.Errorf("%s is a Helm chart: --auto rewrites manifests, a chart is localized by rules on its values (--config or --rules)", in.src.Name(r)))
	}
	if mode == helm.ModeChart && o.chart.repo == "" && (o.push != "" || o.out == "" && !o.diff) {
		return usageErr(errors.New("--chart-mode chart republishes the chart: name where with --chart-repo oci://REPO"))
	}
	res, err := helm.Localize(ctx, c, in.rules, in.images, helm.Options{Mode: mode, Values: values, VersionSuffix: o.chart.localized,
		Localize: localize.Options{PinDigest: o.pinDigest, Fields: o.imageFields, Allow: o.allow, AllowUnlocalized: o.allowUnlocalized}})
	var cerr *localize.CoverageError
	if errors.As(err, &cerr) {
		g.printFindings(cerr.Unlocalized)
		return withHint(fmt.Errorf("localizing %s: %w", in.src.Name(r), err),
			"add a localization rule on the chart's values for each image listed, --allow an image that is provided otherwise, or pass --allow-unlocalized")
	}
	if err != nil {
		return fmt.Errorf("localizing %s: %w", in.src.Name(r), err)
	}
	if o.diff {
		if mode == helm.ModeChart {
			fmt.Fprint(g.stdout, localize.Diff("values.yaml", c.Files["values.yaml"], res.Localized.Files["values.yaml"]))
		} else {
			fmt.Fprint(g.stdout, localize.Diff("values.yaml", nil, res.Values))
		}
		return nil
	}
	out := chartOutput{Result: res}
	// Where the chart a cluster deploys is: pushed now, or the copy the
	// component names.
	var chartRef *oci.Ref
	if o.chart.repo != "" {
		base, err := g.parseOCIURL(o.chart.repo, false)
		if err != nil {
			return err
		}
		repo, err := oci.ParseRef(strings.TrimSuffix(base.Repo(), "/"+c.Name) + "/" + c.Name)
		if err != nil {
			return err
		}
		store, err := g.remoteStore()
		if err != nil {
			return err
		}
		ref, _, err := helm.Push(ctx, store, repo, res.Localized)
		if err != nil {
			return err
		}
		chartRef = &ref
	} else if loc != nil {
		chartRef = &loc.Ref
	}
	if chartRef != nil {
		out.Chart = chartRef.String()
	}
	var deploy localize.Files
	if chartRef != nil {
		if deploy, err = helm.DeployFiles(res, *chartRef, remote.IsLoopback(chartRef.Registry) || g.registry.plainHTTP); err != nil {
			return err
		}
	} else if len(res.Values) > 0 {
		deploy = localize.Files{"values.yaml": res.Values}
	}
	if o.out != "" {
		files := localize.Files{}
		for p, b := range deploy {
			files[p] = b
		}
		if mode == helm.ModeChart {
			for p, b := range res.Localized.Files {
				files[filepath.ToSlash(filepath.Join("chart", c.Name, p))] = b
			}
		}
		if err := localize.WriteFiles(o.out, files); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
	}
	if o.push != "" {
		if chartRef == nil {
			return usageErr(fmt.Errorf("%s holds the chart inside the component version only: name a registry for it with --chart-repo oci://REPO", in.src.Name(r)))
		}
		pref, err := g.parseOCIURL(o.push, true)
		if err != nil {
			return err
		}
		gopts := in.gitops
		if gopts.Revision == "" {
			gopts.Revision = in.revision
		}
		if gopts.Source == "" {
			gopts.Source = in.source
		}
		if out.Pushed, err = g.pushGitOps(ctx, deploy.FS(), pref, gopts, in.signer); err != nil {
			return err
		}
	}
	return g.print(out, func(t *tableWriter) {
		t.row(fmt.Sprintf("localized chart %s %s (%s mode): %d values rewritten; rendered with helm, %d image fields checked, %s",
			res.Chart, res.Version, res.Mode, rewritten(res.Changes), res.Coverage.Checked, coverageSummary(res.Coverage)))
		if out.Chart != "" {
			t.row("chart " + out.Chart)
		}
		if o.out != "" {
			t.row("written to " + o.out)
		}
		if out.Pushed != nil {
			t.row("pushed " + out.Pushed.Reference)
			if out.Pushed.Signature != nil {
				t.row("signed " + out.Pushed.Signature.Reference)
			}
		}
	})
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
