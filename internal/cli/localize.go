package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/resource"
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
	ref, err := parseComponentRef(refArg, true)
	if err != nil {
		return err
	}
	if o.rules != "" && o.config != "" {
		return usageErr(errors.New("--rules and --config both name the rules: give one"))
	}
	if o.out == "" && o.push == "" && !o.diff {
		return usageErr(errors.New("say where the result goes: -O DIR, --push oci://REPO:TAG or --diff"))
	}
	gopts, err := o.gitops.options()
	if err != nil {
		return err
	}
	if o.gitops.signKey != "" && o.push == "" {
		return usageErr(errors.New("--sign-key signs what --push pushes: add --push oci://REPO:TAG"))
	}
	signer, err := o.gitops.signer()
	if err != nil {
		return err
	}
	repo, err := g.openComponentRepo(ref.Repo, false)
	if err != nil {
		return err
	}
	defer repo.Close()
	cv, src, err := g.readVersion(ctx, repo, ref.Component, ref.Version)
	if err != nil {
		return err
	}
	manifests, err := findResource(cv.Descriptor, o.resource)
	if err != nil {
		return err
	}
	var rules []localize.Rule
	switch {
	case o.rules != "":
		b, err := os.ReadFile(o.rules)
		if err != nil {
			return usageErr(fmt.Errorf("--rules: %w", err))
		}
		if rules, err = localize.ParseRules(b); err != nil {
			return fmt.Errorf("reading rules %s: %w", o.rules, err)
		}
	case o.config != "":
		res, err := findResource(cv.Descriptor, o.config)
		if err != nil {
			return err
		}
		if rules, err = readRules(ctx, src, res); err != nil {
			return err
		}
	case !o.auto:
		if rules, err = findRules(ctx, src, manifests); err != nil {
			return err
		}
	}
	files, err := readManifests(ctx, src, manifests, rules)
	if err != nil {
		return err
	}
	images, err := componentImages(ctx, repo, cv, nil, 0)
	if err != nil {
		return err
	}
	res, err := localize.Localize(files.FS(), rules, images, localize.Options{Auto: o.auto, PinDigest: o.pinDigest,
		Fields: o.imageFields, Allow: o.allow, AllowUnlocalized: o.allowUnlocalized})
	var cerr *localize.CoverageError
	if errors.As(err, &cerr) {
		g.printFindings(cerr.Unlocalized)
		return withHint(fmt.Errorf("localizing %s: %w", src.Name(manifests), err),
			"add a localization rule for each image listed, --allow an image that is provided otherwise, or pass --allow-unlocalized")
	}
	if err != nil {
		return fmt.Errorf("localizing %s: %w", src.Name(manifests), err)
	}
	if len(res.Coverage.Unlocalized) > 0 {
		g.logger().Warn("images that name no copy in the target (allowed by --allow-unlocalized)", "count", len(res.Coverage.Unlocalized))
		g.printFindings(res.Coverage.Unlocalized)
	}
	if o.diff {
		for _, name := range res.Changed {
			fmt.Fprint(g.stdout, localize.Diff(name, files[name], res.Files[name]))
		}
		return nil
	}
	if o.out != "" {
		if err := localize.WriteFiles(o.out, res.Files); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
	}
	out := localizeOutput{Result: res}
	if o.push != "" {
		pref, err := g.parseOCIURL(o.push, true)
		if err != nil {
			return err
		}
		if gopts.Revision == "" {
			gopts.Revision = cv.Descriptor.Version + "@" + cv.Manifest.Digest.String()
		}
		if gopts.Source == "" {
			gopts.Source = ref.String()
		}
		if out.Pushed, err = g.pushGitOps(ctx, res.Files.FS(), pref, gopts, signer); err != nil {
			return err
		}
	}
	return g.print(out, func(t *tableWriter) {
		t.row(fmt.Sprintf("localized %s: %d fields in %d files rewritten; %d image fields checked, all name copies",
			src.Name(manifests), len(res.Changes), len(res.Changed), res.Coverage.Checked))
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

// maxRulesBytes bounds a ConfigData read from a resource.
const maxRulesBytes = 4 << 20

// readRules reads a ConfigData resource.
func readRules(ctx context.Context, src *resource.Source, r *component.Resource) ([]localize.Rule, error) {
	rc, _, err := src.Open(ctx, r)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxRulesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src.Name(r), err)
	}
	if len(b) > maxRulesBytes {
		return nil, fmt.Errorf("reading %s: more than %d bytes: not a ConfigData", src.Name(r), maxRulesBytes)
	}
	rules, err := localize.ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("reading rules from %s: %w", src.Name(r), err)
	}
	return rules, nil
}

// findRules finds the resource whose content is a ConfigData.
func findRules(ctx context.Context, src *resource.Source, manifests *component.Resource) ([]localize.Rule, error) {
	d := src.Version.Descriptor
	for i := range d.Resources {
		r := &d.Resources[i]
		if r == manifests || r.Access.Kind() != component.AccessLocalBlob || resource.IsArtifact(r) {
			continue
		}
		lb, err := r.Access.LocalBlob()
		if err != nil || strings.Contains(lb.MediaType, "tar") || strings.Contains(lb.MediaType, "gzip") {
			continue
		}
		rules, err := readRules(ctx, src, r)
		if err == nil {
			return rules, nil
		}
	}
	return nil, withHint(fmt.Errorf("%s:%s has no resource holding a ConfigData with localization rules", d.Name, d.Version),
		"name the rules with --config RESOURCE or --rules FILE, or rewrite by image name with --auto")
}

// readManifests reads the manifests resource: an archive, or one YAML file
// named as the rules name it.
func readManifests(ctx context.Context, src *resource.Source, r *component.Resource, rules []localize.Rule) (localize.Files, error) {
	rc, _, err := src.Open(ctx, r)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var head [512]byte
	n, _ := io.ReadFull(rc, head[:])
	body := io.MultiReader(bytes.NewReader(head[:n]), rc)
	if isArchive(head[:n]) {
		files, err := localize.ReadArchive(body, localize.Limits{})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", src.Name(r), err)
		}
		return files, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, 64<<20+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src.Name(r), err)
	}
	name := r.Name + ".yaml"
	if len(rules) > 0 {
		name = rules[0].File
	}
	return localize.Files{name: b}, nil
}

// isArchive tells a gzip stream or a tar from YAML by their first bytes.
func isArchive(b []byte) bool {
	return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b || len(b) >= 262 && string(b[257:262]) == "ustar"
}

// maxImageDepth bounds how deep componentImages follows references.
const maxImageDepth = 16

// componentImages lists the image resources of cv, and of the versions it
// references in the same repository, with the copies their accesses name.
func componentImages(ctx context.Context, repo *componentRepo, cv *ocireg.Version, path []localize.Identity, depth int) (localize.ImageList, error) {
	d := cv.Descriptor
	base := strings.TrimSuffix(cv.Ref.Repo(), "/component-descriptors/"+d.Name)
	if base == cv.Ref.Repo() {
		base = ""
	}
	var out localize.ImageList
	for i := range d.Resources {
		r := &d.Resources[i]
		im, ok := copyOf(r, base)
		if !ok {
			continue
		}
		out = append(out, localize.ImageResource{Identity: localize.Identity(d.ResourceIdentity(i)), ReferencePath: path, Image: im})
	}
	if depth >= maxImageDepth {
		return out, nil
	}
	for i, ref := range d.References {
		sub, err := repo.Get(ctx, ref.ComponentName, ref.Version)
		if errors.Is(err, oci.ErrNotFound) {
			continue // not transferred along: rules that reach it fail and say so
		}
		if err != nil {
			return nil, fmt.Errorf("reading reference %s (%s:%s): %w", ref.Name, ref.ComponentName, ref.Version, err)
		}
		p := append(append([]localize.Identity(nil), path...), localize.Identity(d.ReferenceIdentity(i)))
		more, err := componentImages(ctx, repo, sub, p, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// copyOf describes the image a resource's access names, and the path the
// original had (OCM names a copy <base>/<original path>).
func copyOf(r *component.Resource, base string) (localize.Image, bool) {
	var ref string
	switch r.Access.Kind() {
	case component.AccessOCIArtifact:
		acc, err := r.Access.OCIArtifact()
		if err != nil {
			return localize.Image{}, false
		}
		ref = acc.ImageReference
		if _, rest, ok := strings.Cut(ref, "://"); ok {
			ref = rest
		}
	case component.AccessRelativeOCIReference:
		acc, err := r.Access.RelativeOCIReference()
		if err != nil {
			return localize.Image{}, false
		}
		ref = acc.Reference
		if base != "" {
			ref = base + "/" + ref
		}
	default:
		return localize.Image{}, false
	}
	parsed, err := oci.ParseRef(ref)
	if err != nil {
		return localize.Image{}, false
	}
	im := localize.Image{Ref: ref}
	if parsed.Digest != (oci.Ref{}).Digest {
		im.Digest = parsed.Digest.String()
	}
	p := parsed.Repository
	if rest, ok := strings.CutPrefix(parsed.Repo(), base+"/"); ok && base != "" {
		p = rest
	}
	if parsed.Tag != "" {
		p += ":" + parsed.Tag
	}
	im.Path = p
	if base == "" || !strings.HasPrefix(parsed.Repo(), base+"/") {
		// Not a copy under this repository's base: the reference is the original.
		im.Original = ref
	}
	return im, true
}
