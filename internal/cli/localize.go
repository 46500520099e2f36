package cli

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/gitops"
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
}

// localizeOutput is what -o json prints.
type localizeOutput struct {
	*localize.Result
	Pushed *pushed `json:"pushed,omitempty"`
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
	f.BoolVar(&o.pinDigest, "pin-digest", false, "write repo@sha256:… instead of tags")
	f.StringArrayVar(&o.imageFields, "image-field", nil, "another image field to check (and rewrite with --auto), KIND:PATH, e.g. Certificate:spec.image")
	f.StringArrayVar(&o.allow, "allow", nil, "an image (or a prefix ending in /) that counts as localized")
	f.BoolVar(&o.allowUnlocalized, "allow-unlocalized", false, "report images that name no copy, but do not fail")
	f.StringVarP(&o.out, "out", "O", "", "write the localized files into this directory")
	f.StringVar(&o.push, "push", "", "push the localized files as a GitOps artifact to oci://REPO:TAG")
	f.BoolVar(&o.diff, "diff", false, "print a unified diff of what changes and write nothing")
	o.gitops.add(cmd)
	_ = cmd.MarkFlagRequired("resource")
	return cmd
}

func (g *globals) runLocalize(cmd *cobra.Command, refArg string, o localizeOptions) error {
	ctx := cmd.Context()
	ref, lo, err := o.parse(refArg)
	if err != nil {
		return err
	}
	gopts, err := o.gitops.options()
	if err != nil {
		return err
	}
	signer, err := o.gitops.signer()
	if err != nil {
		return err
	}
	repo, err := g.openRepo(ctx, ref.Repo, false)
	if err != nil {
		return err
	}
	defer repo.Close()
	res, err := release.Localize(ctx, repo, ref.Component, ref.Version, lo)
	if err != nil {
		return g.localizeHint(err)
	}
	if len(res.Coverage.Unlocalized) > 0 {
		g.logger().Warn("images that name no copy in the target (allowed by --allow-unlocalized)", "count", len(res.Coverage.Unlocalized))
		g.printFindings(res.Coverage.Unlocalized)
	}
	if o.diff {
		for _, name := range res.Changed {
			fmt.Fprint(g.stdout, localize.Diff(name, res.Original[name], res.Files[name]))
		}
		return nil
	}
	if gopts.Source == "" {
		gopts.Source = ref.String()
	}
	return g.writeLocalized(ctx, res, o, gopts, signer)
}

// parse checks the flags and reads the reference and the rules.
func (o localizeOptions) parse(refArg string) (component.Ref, release.LocalizeOptions, error) {
	lo := release.LocalizeOptions{Resource: o.resource, Config: o.config, Options: localize.Options{Auto: o.auto, PinDigest: o.pinDigest,
		Fields: o.imageFields, Allow: o.allow, AllowUnlocalized: o.allowUnlocalized}}
	ref, err := parseComponentRef(refArg, true)
	switch {
	case err != nil:
		return ref, lo, err
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
	case errors.Is(err, release.ErrNoRules):
		return withHint(err, "name the rules with --config RESOURCE or --rules FILE, or rewrite by image name with --auto")
	case errors.Is(err, component.ErrInvalidIdentity):
		return usageErr(err)
	}
	return err
}

// writeLocalized writes the localized files where -O and --push say, and
// prints what was done.
func (g *globals) writeLocalized(ctx context.Context, res *release.Localized, o localizeOptions, gopts gitops.Options, signer crypto.Signer) error {
	if o.out != "" {
		if err := localize.WriteFiles(o.out, res.Files); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
	}
	out := localizeOutput{Result: res.Result}
	if gopts.Revision == "" {
		gopts.Revision = res.Version.Descriptor.Version + "@" + res.Version.Manifest.Digest.String()
	}
	if o.push != "" {
		pref, err := g.parseOCIURL(o.push, true)
		if err != nil {
			return err
		}
		if out.Pushed, err = g.pushGitOps(ctx, res.Files.FS(), pref, gopts, signer); err != nil {
			return err
		}
	}
	return g.print(out, func(t *tableWriter) {
		t.row(fmt.Sprintf("localized %s: %d fields in %d files rewritten; %d image fields checked, all name copies",
			res.Name, len(res.Changes), len(res.Changed), res.Coverage.Checked))
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

// printFindings lists image fields that name no copy, on stderr.
func (g *globals) printFindings(fs []localize.Finding) {
	t := newTable(g.stderr)
	t.row("FILE", "DOC", "KIND", "NAME", "PATH", "IMAGE")
	for _, f := range fs {
		t.row(f.File, fmt.Sprint(f.Document), f.Kind, f.Name, f.Path, f.Image)
	}
	_ = t.flush()
}
