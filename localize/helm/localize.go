package helm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/localize"
)

// ErrInvalidReference: a localization rule made the chart render an image
// field that is not a valid image reference.
var ErrInvalidReference = errors.New("renders an invalid image reference")

// ErrNotValues: in values mode, a rule rewrites a file that is not a values
// file, which an overlay cannot express.
var ErrNotValues = errors.New("not a values file")

// Mode is how a chart is localized.
type Mode string

const (
	// ModeValues (the default) leaves the chart untouched (and its
	// signature valid) and produces a values overlay that names the copies.
	ModeValues Mode = "values"
	// ModeChart rewrites the chart's values.yaml byte for byte (comments
	// kept) so the chart renders the copies with no extra values.
	ModeChart Mode = "chart"
)

// Options control Localize.
type Options struct {
	// Localize holds what applies to manifests too: PinDigest, Fields,
	// Allow, AllowUnlocalized, Limits. Auto is not used: charts are
	// localized by rules on their values.
	Localize localize.Options
	Mode     Mode
	// Values are the component's values for the chart (a values file), given
	// at deploy time in both modes and rendered under the localized values.
	Values []byte
	// VersionSuffix, in ModeChart, appends "+localized" build metadata to
	// the chart version; without it the version is unchanged.
	VersionSuffix bool
	Render        RenderOptions
}

// Result is what Localize did.
type Result struct {
	Chart   string            `json:"chart"`
	Version string            `json:"version"` // of the result: the chart's, or with +localized
	Mode    Mode              `json:"mode"`
	Changes []localize.Change `json:"changes"`
	// Values is the values file to deploy with: in ModeValues, the overlay
	// (the component's values with the localized values over them); in
	// ModeChart, the component's values (nil when there are none).
	Values []byte `json:"-"`
	// Localized is the chart to deploy: the input in ModeValues, the chart
	// with values.yaml rewritten in ModeChart.
	Localized *Chart `json:"-"`
	// Rendered is the chart's output with Values: what the proof checked.
	Rendered localize.Files    `json:"-"`
	Coverage localize.Coverage `json:"coverage"`
}

// Localize applies rules to the chart's values (rules name files of the
// chart, "values.yaml", or "charts/redis/values.yaml" for a sub-chart
// kept as a directory) and proves the result on the rendered output: the
// chart is rendered with helm's engine under the localized values and every
// workload image must name a copy among images.
//
// A rule that makes an image field render as something that is not an
// image reference (a digest written into a "repo:tag" template) fails with
// a *localize.RuleError wrapping ErrInvalidReference, naming the rule, the
// values file and path, and the rendered value. Unlocalized images fail
// with a *localize.CoverageError (with the Result) unless
// Options.Localize.AllowUnlocalized.
func Localize(ctx context.Context, c *Chart, rules []localize.Rule, images localize.Images, o Options) (*Result, error) {
	if o.Mode == "" {
		o.Mode = ModeValues
	}
	if o.Mode != ModeValues && o.Mode != ModeChart {
		return nil, fmt.Errorf("localizing chart %s: mode %q: want %s or %s", c.Name, o.Mode, ModeValues, ModeChart)
	}
	rules = chartRules(c, rules)
	lo := o.Localize
	lo.Auto, lo.AllowUnlocalized = false, true
	lr, err := localize.Localize(c.Files, rules, images, lo)
	if err != nil {
		return nil, fmt.Errorf("localizing chart %s: %w", c.Name, err)
	}
	compVals, err := ParseValues(o.Values)
	if err != nil {
		return nil, fmt.Errorf("localizing chart %s: component values: %w", c.Name, err)
	}
	res := &Result{Chart: c.Name, Version: c.Version, Mode: o.Mode, Changes: lr.Changes}
	var renderVals []map[string]any
	switch o.Mode {
	case ModeValues:
		overlay, err := overlayOf(c, lr)
		if err != nil {
			return nil, err
		}
		merged := mergeValues(compVals, overlay)
		if res.Values, err = yaml.Marshal(merged); err != nil {
			return nil, fmt.Errorf("localizing chart %s: writing values: %w", c.Name, err)
		}
		res.Localized = c
		renderVals = []map[string]any{merged}
	case ModeChart:
		nc := &Chart{Name: c.Name, Version: c.Version, Files: lr.Files, meta: c.meta}
		if o.VersionSuffix {
			if nc, err = nc.withVersion(c.Version + "+localized"); err != nil {
				return nil, err
			}
		}
		res.Localized, res.Version = nc, nc.Version
		if len(o.Values) > 0 {
			res.Values = o.Values
		}
		renderVals = []map[string]any{compVals}
	}
	res.Rendered, err = res.Localized.Render(ctx, o.Render, renderVals...)
	if err != nil {
		return nil, fmt.Errorf("localizing chart %s: %w", c.Name, err)
	}
	if err := invalidRefs(res.Rendered, res.Changes, o.Localize.Fields); err != nil {
		return nil, fmt.Errorf("localizing chart %s: %w", c.Name, err)
	}
	if res.Coverage, err = localize.Check(res.Rendered, images, o.Localize); err != nil {
		return nil, fmt.Errorf("localizing chart %s: %w", c.Name, err)
	}
	if len(res.Coverage.Unlocalized) > 0 && !o.Localize.AllowUnlocalized {
		return res, &localize.CoverageError{Unlocalized: res.Coverage.Unlocalized}
	}
	return res, nil
}

// chartRules lets a rule name a chart file with the chart's directory in
// front ("podinfo/values.yaml"), as a rule written against the archive does.
func chartRules(c *Chart, rules []localize.Rule) []localize.Rule {
	out := make([]localize.Rule, len(rules))
	for i, r := range rules {
		f := strings.TrimPrefix(r.File, "/")
		if rest, ok := strings.CutPrefix(f, c.Name+"/"); ok {
			if _, inChart := c.Files[f]; !inChart {
				r.File = rest
			}
		}
		out[i] = r
	}
	return out
}

// withVersion returns the chart with Chart.yaml's version rewritten in
// place (every other byte kept).
func (c *Chart) withVersion(v string) (*Chart, error) {
	b, err := localize.SetScalar("Chart.yaml", c.Files["Chart.yaml"], "version", v)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, err)
	}
	files := localize.Files{}
	for p, x := range c.Files {
		files[p] = x
	}
	files["Chart.yaml"] = b
	return LoadFiles(files)
}

// overlayOf turns the changed values into an overlay: for each change, the
// values path with its new value, placed under the sub-chart's key when
// the file is a sub-chart's values. A path through a list carries the
// whole list (Helm replaces lists, it does not merge them).
func overlayOf(c *Chart, lr *localize.Result) (map[string]any, error) {
	out := map[string]any{}
	for _, ch := range lr.Changes {
		prefix, err := valuesPrefix(ch.File)
		if err != nil {
			return nil, &localize.RuleError{Rule: ch.Rule, File: ch.File, Path: ch.Path, Err: err}
		}
		localized, err := ParseValues(lr.Files[ch.File])
		if err != nil {
			return nil, fmt.Errorf("chart %s: %s: %w", c.Name, ch.File, err)
		}
		p, err := localize.ParsePath(ch.Path)
		if err != nil {
			return nil, err
		}
		var keys []string
		var val any = ch.New
		cur := any(localized)
		for _, st := range p {
			if st.Kind != localize.Key {
				val = cur // from the first list on, the whole localized subtree
				break
			}
			keys = append(keys, st.Key)
			m, _ := cur.(map[string]any)
			cur = m[st.Key]
		}
		if len(keys) == 0 {
			return nil, &localize.RuleError{Rule: ch.Rule, File: ch.File, Path: ch.Path, Err: fmt.Errorf("a list at the top of a values file cannot be overlaid")}
		}
		setIn(out, append(prefix, keys...), val)
	}
	return out, nil
}

// valuesPrefix is where a values file's keys go in the parent's values:
// none for values.yaml, ["redis"] for charts/redis/values.yaml.
func valuesPrefix(file string) ([]string, error) {
	var prefix []string
	f := file
	for {
		if f == "values.yaml" {
			return prefix, nil
		}
		rest, ok := strings.CutPrefix(f, "charts/")
		if !ok {
			break
		}
		sub, more, ok := strings.Cut(rest, "/")
		if !ok {
			break
		}
		prefix, f = append(prefix, sub), more
	}
	return nil, fmt.Errorf("%s: %w: a values overlay can only set values (values.yaml of the chart or of a sub-chart directory); localize the chart itself (mode %s)", file, ErrNotValues, ModeChart)
}

func setIn(m map[string]any, keys []string, v any) {
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// mergeValues returns base with over merged in (maps merged key by key,
// everything else replaced by over's).
func mergeValues(base, over map[string]any) map[string]any {
	out := copyValues(base)
	for k, v := range over {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
			out[k] = copyValues(om)
			continue
		}
		out[k] = v
	}
	return out
}

// invalidRefs fails when a rendered image field is not an image reference
// and a rule's value is part of it: the rule made it so.
func invalidRefs(rendered localize.Files, changes []localize.Change, extra []string) error {
	fields, err := localize.ImageFields(rendered, extra)
	if err != nil {
		return err
	}
	byLen := append([]localize.Change(nil), changes...)
	sort.SliceStable(byLen, func(i, j int) bool { return len(byLen[i].New) > len(byLen[j].New) })
	for _, f := range fields {
		verr := localize.ValidReference(f.Image)
		if verr == nil {
			continue
		}
		for _, ch := range byLen {
			if ch.New != "" && strings.Contains(f.Image, ch.New) {
				return &localize.RuleError{Rule: ch.Rule, File: ch.File, Path: ch.Path,
					Err: fmt.Errorf("%w: %s %s renders %q (%v)", ErrInvalidReference, f.File, f.Path, f.Image, verr)}
			}
		}
	}
	return nil
}
