package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/release"
)

type localizeOptions struct {
	resource         string
	config           string
	rules            string
	auto             bool
	pinDigest        bool
	imageFields      []string
	allow            []string
	allowUnlocalized bool
	out              string
	push             string
	diff             bool
	gitops           gitopsFlags
	pullSecret       localize.PullSecretOptions
	chart            chartFlags
}

// localizeOutput is what -o json prints.
type localizeOutput struct {
	*localize.Result
	Pushed *release.Published      `json:"pushed,omitempty"`
	Chart  *release.LocalizedChart `json:"chart,omitempty"`
}

func newLocalizeCmd(g *globals) *cobra.Command {
	var o localizeOptions
	cmd := &cobra.Command{
		Use:   "localize REF --resource NAME",
		Short: "Rewrite a component's Kubernetes manifests to name the transferred images, and prove none is left out",
		Long: `localize reads the manifests resource of a component version (a directory tree, a
tar or tgz, or a single YAML file), applies the component's localization rules (the
ConfigData resource that ocm-controller reads, or --rules FILE, or --auto) so that
every image field names the copy the transferred descriptor records, and then checks
every image field of every workload: an image that is not one of the component's
copies fails the run (the air-gap closure proof) unless --allow-unlocalized.

Only the rewritten values change: comments, key order, quoting and every document
of a multi-document file stay as they were. The result goes to a directory (-O DIR),
to a registry as a GitOps artifact (--push oci://REPO:TAG, for Flux, Argo CD and
Config Sync), or is shown as a diff (--diff, which writes nothing).`,
		Example: `  ferry localize registry.local:5000/air//example.com/podinfo:6.3.5 --resource deployment --diff
  ferry localize registry.local:5000/air//example.com/podinfo:6.3.5 --resource deployment \
    --push oci://registry.local:5000/air/deploy/podinfo:6.3.5
  ferry localize ./ctf//example.com/podinfo:6.3.5 --resource deployment --auto --pin-digest -O out/`,
		Args: exactArgs("REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runLocalize(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.resource, "resource", "", "the resource holding the manifests (required)")
	f.StringVar(&o.config, "config", "", "the resource holding the ConfigData rules (default: the one whose content is a ConfigData)")
	f.StringVar(&o.rules, "rules", "", "a ConfigData file with the rules, instead of the component's")
	f.BoolVar(&o.auto, "auto", false, "no rules: rewrite every workload image that names one of the component's images")
	f.BoolVar(&o.pinDigest, "pin-digest", false, "write digests (repo@sha256:…) where the rules write tags; without it the copy's tag is kept")
	f.StringArrayVar(&o.imageFields, "image-field", nil, "another image field to check (and rewrite with --auto), KIND:PATH, e.g. Certificate:spec.image")
	f.StringArrayVar(&o.allow, "allow", nil, "an image (or a prefix ending in /) that counts as localized")
	f.BoolVar(&o.allowUnlocalized, "allow-unlocalized", false, "report images that name no copy, but do not fail")
	f.StringVarP(&o.out, "out", "O", "", "write the localized files into this directory")
	f.StringVar(&o.push, "push", "", "push the localized files as a GitOps artifact to oci://REPO:TAG")
	f.BoolVar(&o.diff, "diff", false, "print a unified diff of what changes and write nothing")
	o.gitops.add(cmd)
	g.addSemverFlag(cmd)
	f.StringVar(&o.pullSecret.Secret, "pull-secret", "", "name this Secret (which ferry never writes) in imagePullSecrets of every workload's pod spec, keeping the entries there")
	f.StringVar(&o.pullSecret.ServiceAccount, "service-account", "", "with --pull-secret: add it to this ServiceAccount of the manifests instead of the pod specs")
	o.chart.add(cmd)
	_ = cmd.MarkFlagRequired("resource")
	return cmd
}

func (g *globals) runLocalize(cmd *cobra.Command, refArg string, o localizeOptions) error {
	ctx := cmd.Context()
	ref, lo, err := g.localizeOptions(refArg, o)
	if err != nil {
		return err
	}
	repo, err := g.openRepo(ctx, ref.Repo, false)
	if err != nil {
		return err
	}
	defer repo.Close()
	if ref, err = g.selectVersion(ctx, repo, ref); err != nil {
		return err
	}
	res, err := release.Localize(ctx, repo, ref.Component, ref.Version, lo)
	if err != nil {
		return g.localizeHint(err)
	}
	if len(res.Coverage.Unlocalized) > 0 {
		g.logger().Warn("images that name no copy in the target (allowed by --allow-unlocalized)", "count", len(res.Coverage.Unlocalized))
		g.printFindings(res.Coverage.Unlocalized)
	}
	if o.diff {
		return g.printDiff(res)
	}
	return g.printLocalized(res, o.out)
}

// printLocalized prints what localize rewrote, checked, wrote and pushed.
func (g *globals) printLocalized(res *release.Localized, out string) error {
	return g.print(localizeOutput{Result: res.Result, Pushed: res.Pushed, Chart: res.Chart}, func(t *tableWriter) {
		t.row(fmt.Sprintf("localized %s: %s in %s rewritten; %s checked, %s",
			res.Name, human.Count(rewritten(res.Changes), "field"), human.Count(len(res.Changed), "file"), human.Count(res.Coverage.Checked, "image field"), coverageSummary(res.Coverage)))
		if res.Chart != nil {
			printChart(t, res.Chart)
		}
		if out != "" {
			t.row("written to " + out)
		}
		if res.Pushed != nil {
			t.row("pushed " + res.Pushed.Reference)
			if res.Pushed.Signature != nil {
				t.row("signed " + res.Pushed.Signature.Reference)
			}
		}
	})
}

// printDiff prints a unified diff of what localize changed.
func (g *globals) printDiff(res *release.Localized) error {
	for _, name := range res.Changed {
		if _, err := fmt.Fprint(g.stdout, localize.Diff(name, res.Original[name], res.Files[name])); err != nil {
			return err
		}
	}
	return nil
}

// localizeOptions reads the flags: the reference, the rules, where the
// result goes and how it is published.
func (g *globals) localizeOptions(refArg string, o localizeOptions) (component.Ref, release.LocalizeOptions, error) {
	ref, lo, err := o.parse(refArg)
	if err != nil {
		return ref, lo, err
	}
	if lo.Chart, err = g.chartOptions(o.chart); err != nil || o.diff {
		return ref, lo, err
	}
	lo.Out = o.out
	if lo.Publish, err = o.gitops.options(); err != nil {
		return ref, lo, err
	}
	if lo.Signer, err = o.gitops.signer(); err != nil {
		return ref, lo, err
	}
	if lo.Publish.Source == "" {
		lo.Publish.Source = ref.String()
	}
	if o.push != "" {
		if lo.Push, err = g.parseOCIURL(o.push, true); err != nil {
			return ref, lo, err
		}
	}
	if o.push != "" || o.chart.repo != "" {
		lo.Registry, err = g.remoteStore()
	}
	return ref, lo, err
}

// parse checks the flags and reads the reference and the rules.
func (o localizeOptions) parse(refArg string) (component.Ref, release.LocalizeOptions, error) {
	lo := release.LocalizeOptions{Resource: o.resource, Config: o.config, Options: localize.Options{Auto: o.auto, PinDigest: o.pinDigest,
		Fields: o.imageFields, Allow: o.allow, AllowUnlocalized: o.allowUnlocalized, PullSecret: o.pullSecret}}
	ref, err := parseComponentRef(refArg, false)
	switch {
	case err != nil:
		return ref, lo, err
	case o.pullSecret.ServiceAccount != "" && o.pullSecret.Secret == "":
		return ref, lo, usageErr(errors.New("--service-account says where --pull-secret goes: add --pull-secret NAME"))
	case o.rules != "" && o.config != "":
		return ref, lo, usageErr(errors.New("--rules and --config both name the rules: give one"))
	case o.out == "" && o.push == "" && !o.diff:
		return ref, lo, usageErr(errors.New("say where the result goes: -O DIR, --push oci://REPO:TAG or --diff"))
	case o.gitops.signKey != "" && o.push == "":
		return ref, lo, usageErr(errors.New("--sign-key signs what --push pushes: add --push oci://REPO:TAG"))
	case o.rules != "":
		b, err := os.ReadFile(o.rules)
		if err != nil {
			return ref, lo, usageErr(fmt.Errorf("--rules: %w", err))
		}
		if lo.Rules, err = localize.ParseRules(b); err != nil {
			return ref, lo, fmt.Errorf("reading rules %s: %w", o.rules, err)
		}
	}
	return ref, lo, nil
}

// localizeHint explains a failed localize.
func (g *globals) localizeHint(err error) error {
	var cerr *localize.CoverageError
	switch {
	case errors.As(err, &cerr):
		g.printFindings(cerr.Unlocalized)
		return withHint(err, "add a localization rule for each image listed, --allow an image that is provided otherwise, or pass --allow-unlocalized")
	case errors.Is(err, release.ErrChartRepo):
		return withHint(err, "name a registry for the chart with --chart-repo oci://REPO (it is pushed as REPO/NAME:VERSION)")
	case errors.Is(err, release.ErrNoRules):
		return withHint(err, "name the rules with --config RESOURCE or --rules FILE, or rewrite by image name with --auto")
	case errors.Is(err, component.ErrInvalidIdentity):
		return usageErr(err)
	}
	return err
}

// printFindings lists image fields that name no copy, on stderr.
func (g *globals) printFindings(fs []localize.Finding) {
	t := newTable(g.stderr)
	t.row("FILE", "DOC", "KIND", "NAME", "PATH", "IMAGE")
	for _, f := range fs {
		t.row(f.File, fmt.Sprint(f.Document), f.Kind, f.Name, f.Path, f.Image)
	}
	_ = t.flush()
}
