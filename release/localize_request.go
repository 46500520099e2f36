package release

import (
	"crypto"
	"fmt"
	"io"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/oci/remote"
)

// LocalizeRequest is a localize run as a user states it: the options
// Localize takes, with the rules and values named by file, the push target
// and chart repository as references users type (oci://REPO:TAG), and the
// GitOps artifact's format, creation time and signing key as text. Parse
// checks which go together and reads the rest.
type LocalizeRequest struct {
	LocalizeOptions
	RulesFile  string // --rules: a ConfigData file with the rules
	ValuesFile string // --values: the component's values file for a chart
	ChartMode  string // --chart-mode: values or chart
	ChartRepo  string // --chart-repo oci://REPO
	PushTo     string // --push oci://REPO:TAG
	Diff       bool   // --diff: show what changes, write nothing
	PublishRequest
}

// PublishRequest is a GitOps artifact's options as a user states them: the
// annotations, with the format, creation time and signing key as text.
type PublishRequest struct {
	Artifact gitops.Options // Source and Revision as given
	Format   string         // --format: oci or flux
	Created  string         // --created, RFC 3339
	SignKey  string         // --sign-key FILE (see LoadSignKey)
}

// Parse reads the artifact's options and loads the signing key (nil
// without one); a malformed format or time is a *UsageError.
func (p *PublishRequest) Parse() (gitops.Options, crypto.Signer, error) {
	o := p.Artifact
	var err error
	if o.Format, err = gitops.ParseFormat(p.Format); err != nil {
		return o, nil, &UsageError{fmt.Errorf("--format %w", err)}
	}
	if o.Created, err = gitops.ParseCreated(p.Created); err != nil {
		return o, nil, &UsageError{fmt.Errorf("--created %w", err)}
	}
	key, err := LoadSignKey(p.SignKey)
	return o, key, err
}

// Parse checks the request and reads it into the options of Localize
// for ref. registry returns the registry client, asked for only when the
// request pushes; plainHTTP marks its registries insecure for a chart's
// Flux objects. Options that do not go together, and files that cannot be
// read, are a *UsageError.
func (r *LocalizeRequest) Parse(ref component.Ref, registry func() (*remote.Store, error), plainHTTP bool) (LocalizeOptions, error) {
	lo := r.LocalizeOptions
	if err := r.check(); err != nil {
		return lo, err
	}
	var err error
	if lo.Rules, err = r.rules(); err != nil {
		return lo, err
	}
	if lo.Chart, err = r.chart(registry, plainHTTP); err != nil || r.Diff {
		lo.Out = "" // a diff writes nothing
		return lo, err
	}
	if lo.Publish, lo.Signer, err = r.PublishRequest.Parse(); err != nil {
		return lo, err
	}
	if lo.Publish.Source == "" {
		lo.Publish.Source = ref.String()
	}
	if r.PushTo != "" || r.ChartRepo != "" {
		if lo.Registry, err = registry(); err != nil {
			return lo, err
		}
	}
	if r.PushTo != "" {
		lo.Push, err = ParseImageRef(lo.Registry.(*remote.Store), r.PushTo, true)
	}
	return lo, err
}

// check refuses options that do not go together.
func (r *LocalizeRequest) check() error {
	switch {
	case r.Options.PullSecret.ServiceAccount != "" && r.Options.PullSecret.Secret == "":
		return usageError("--service-account says where --pull-secret goes: add --pull-secret NAME")
	case r.RulesFile != "" && r.Config != "":
		return usageError("--rules and --config both name the rules: give one")
	case r.Out == "" && r.PushTo == "" && !r.Diff:
		return usageError("say where the result goes: -O DIR, --push oci://REPO:TAG or --diff")
	case r.SignKey != "" && r.PushTo == "":
		return usageError("--sign-key signs what --push pushes: add --push oci://REPO:TAG")
	}
	return nil
}

// rules reads the rules of RulesFile, if one is named.
func (r *LocalizeRequest) rules() ([]localize.Rule, error) {
	if r.RulesFile == "" {
		return nil, nil
	}
	b, err := readFlagFile("--rules", r.RulesFile)
	if err != nil {
		return nil, err
	}
	rules, err := localize.ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("reading rules %s: %w", r.RulesFile, err)
	}
	return rules, nil
}

// chart reads the options for a helmChart resource.
func (r *LocalizeRequest) chart(registry func() (*remote.Store, error), plainHTTP bool) (ChartOptions, error) {
	co := r.Chart
	co.Mode, co.Insecure = helm.Mode(r.ChartMode), plainHTTP
	if co.Mode != helm.ModeValues && co.Mode != helm.ModeChart {
		return co, &UsageError{fmt.Errorf("--chart-mode %q: want %s or %s", r.ChartMode, helm.ModeValues, helm.ModeChart)}
	}
	if r.ValuesFile != "" {
		b, err := readFlagFile("--values", r.ValuesFile)
		if err != nil {
			return co, err
		}
		co.Values = b
	}
	if r.ChartRepo == "" {
		return co, nil
	}
	store, err := registry()
	if err != nil {
		return co, err
	}
	co.Repo, err = ParseImageRef(store, r.ChartRepo, false)
	return co, err
}

// LocalizeSummary is what Localize did, as JSON and YAML show it: the
// result, where it was pushed and the chart.
type LocalizeSummary struct {
	*localize.Result
	Pushed *Published      `json:"pushed,omitempty"`
	Chart  *LocalizedChart `json:"chart,omitempty"`
}

// Summary is l as JSON and YAML show it.
func (l *Localized) Summary() LocalizeSummary {
	return LocalizeSummary{Result: l.Result, Pushed: l.Pushed, Chart: l.Chart}
}

// WriteTable writes what Localize did: the summary line (fields rewritten,
// files changed, image fields checked), the chart, where the files went
// (out, when they were written to a directory) and what was pushed.
func (l *Localized) WriteTable(w io.Writer, out string) error {
	fmt.Fprintf(w, "localized %s: %s in %s rewritten; %s checked, %s\n", l.Name, human.Count(localize.Rewritten(l.Changes), "field"),
		human.Count(len(l.Changed), "file"), human.Count(l.Coverage.Checked, "image field"), l.Coverage.Summary())
	if c := l.Chart; c != nil {
		fmt.Fprintf(w, "chart %s %s (%s mode): %d values rewritten, rendered with helm\n", c.Chart, c.Version, c.Mode, localize.Rewritten(c.Changes))
		if c.Reference != "" {
			fmt.Fprintln(w, "chart "+c.Reference)
		}
	}
	if out != "" {
		fmt.Fprintln(w, "written to "+out)
	}
	if p := l.Pushed; p != nil {
		fmt.Fprintln(w, "pushed "+p.Reference)
		if p.Signature != nil {
			fmt.Fprintln(w, "signed "+p.Signature.Reference)
		}
	}
	return nil
}

// WriteDiff writes a unified diff of every file Localize changed.
func (l *Localized) WriteDiff(w io.Writer) error {
	for _, name := range l.Changed {
		if _, err := fmt.Fprint(w, localize.Diff(name, l.Original[name], l.Files[name])); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable writes the reference an artifact was pushed to, and its
// signature's when it was signed.
func (p *Published) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintln(w, p.Reference); err != nil || p.Signature == nil {
		return err
	}
	_, err := fmt.Fprintln(w, "signed "+p.Signature.Reference)
	return err
}
