package cli

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/localize/helm"
	"github.com/ferry-oci/ferry/release"
)

func newLocalizeCmd(g *globals) *cobra.Command {
	var r release.LocalizeRequest
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
			return g.runLocalize(cmd, args[0], &r)
		},
	}
	addLocalizeFlags(cmd, &r)
	addGitOpsFlags(cmd, &r.PublishRequest)
	g.addSemverFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&r.Options.PullSecret.Secret, "pull-secret", "", "name this Secret (which ferry never writes) in imagePullSecrets of every workload's pod spec, keeping the entries there")
	f.StringVar(&r.Options.PullSecret.ServiceAccount, "service-account", "", "with --pull-secret: add it to this ServiceAccount of the manifests instead of the pod specs")
	f.StringVar(&r.ChartMode, "chart-mode", string(helm.ModeValues), "for a helmChart resource: values (a values overlay; the chart stays as published) or chart (values.yaml rewritten, the chart republished)")
	f.StringVar(&r.ChartRepo, "chart-repo", "", "for a helmChart resource: push the chart to oci://REPO/NAME:VERSION (needed with --chart-mode chart, and for a chart that is not in a registry)")
	f.BoolVar(&r.Chart.VersionSuffix, "localized-version", false, "with --chart-mode chart: give the chart version +localized build metadata")
	f.StringVar(&r.ValuesFile, "values", "", "for a helmChart resource: the component's values FILE, rendered under the localized values")
	_ = cmd.MarkFlagRequired("resource")
	return cmd
}

// addLocalizeFlags binds localize's flags for the rules, the proof and
// where the result goes to r.
func addLocalizeFlags(cmd *cobra.Command, r *release.LocalizeRequest) {
	f := cmd.Flags()
	f.StringVar(&r.Resource, "resource", "", "the resource holding the manifests (required)")
	f.StringVar(&r.Config, "config", "", "the resource holding the ConfigData rules (default: the one whose content is a ConfigData)")
	f.StringVar(&r.RulesFile, "rules", "", "a ConfigData file with the rules, instead of the component's")
	f.BoolVar(&r.Options.Auto, "auto", false, "no rules: rewrite every workload image that names one of the component's images")
	f.BoolVar(&r.Options.PinDigest, "pin-digest", false, "write digests (repo@sha256:…) where the rules write tags; without it the copy's tag is kept")
	f.StringArrayVar(&r.Options.Fields, "image-field", nil, "another image field to check (and rewrite with --auto), KIND:PATH, e.g. Certificate:spec.image")
	f.StringArrayVar(&r.Options.Allow, "allow", nil, "an image (or a prefix ending in /) that counts as localized")
	f.BoolVar(&r.Options.AllowUnlocalized, "allow-unlocalized", false, "report images that name no copy, but do not fail")
	f.StringVarP(&r.Out, "out", "O", "", "write the localized files into this directory")
	f.StringVar(&r.PushTo, "push", "", "push the localized files as a GitOps artifact to oci://REPO:TAG")
	f.BoolVar(&r.Diff, "diff", false, "print a unified diff of what changes and write nothing")
}

func (g *globals) runLocalize(cmd *cobra.Command, refArg string, r *release.LocalizeRequest) error {
	ctx := cmd.Context()
	ref, err := parseComponentRef(refArg, false)
	if err != nil {
		return err
	}
	lo, err := r.Parse(ref, g.remoteStore, g.registry.PlainHTTP)
	if err != nil {
		return err
	}
	ro, err := g.repoOptions()
	if err != nil {
		return err
	}
	res, err := release.LocalizeVersion(ctx, ref, lo, ro)
	var cerr *localize.CoverageError
	if errors.As(err, &cerr) {
		_ = localize.WriteFindings(g.stderr, cerr.Unlocalized)
	}
	if err != nil {
		return release.LocalizeHint(err)
	}
	if len(res.Coverage.Unlocalized) > 0 {
		g.logger().Warn("images that name no copy in the target (allowed by --allow-unlocalized)", "count", len(res.Coverage.Unlocalized))
		_ = localize.WriteFindings(g.stderr, res.Coverage.Unlocalized)
	}
	if r.Diff {
		return res.WriteDiff(g.stdout)
	}
	return g.show(res.Summary(), func(w io.Writer) error { return res.WriteTable(w, r.Out) })
}
