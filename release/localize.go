package release

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/repository"
	"github.com/ferry-oci/ferry/resource"
)

// ErrNoRules: the component version has no resource holding a ConfigData
// with localization rules.
var ErrNoRules = errors.New("no resource holding a ConfigData with localization rules")

// LocalizeOptions say what to localize and how.
type LocalizeOptions struct {
	// Resource names the resource holding the manifests (see
	// component.Descriptor.FindResource).
	Resource string
	// Config names the resource holding the ConfigData rules; "" means the
	// first local blob whose content is a ConfigData.
	Config string
	// Rules, when set, are used instead of the component's (Config is then
	// ignored).
	Rules []localize.Rule
	// Options are localize's own: --auto, --pin-digest, extra image fields,
	// allowed images.
	Options localize.Options
	// Out, when set, is a directory the localized files are written into.
	Out string
	// Push, when it names a repository and tag, is where the localized files
	// are published as a GitOps artifact (gitops.Publish) through Registry,
	// with Publish's annotations (the revision defaults to the version and
	// its digest) and signed by Signer when set.
	Push     oci.Ref
	Registry oci.Store
	Publish  gitops.Options
	Signer   crypto.Signer
	// Chart says how a helmChart resource is localized.
	Chart ChartOptions
}

// Localized is a localized manifests resource.
type Localized struct {
	*localize.Result
	// Name names the resource for people ("example.com/podinfo:6.3.5
	// resource manifests").
	Name string
	// Original are the files as the resource holds them (for a diff).
	Original localize.Files
	// Version is the component version the resource belongs to.
	Version *ocireg.Version
	// Pushed is where LocalizeOptions.Push published the files.
	Pushed *Published
	// Chart is set when the resource is a Helm chart (see LocalizeOptions.Chart).
	Chart *LocalizedChart
}

// Localize reads the manifests resource of the component version
// name:version of repo, applies the localization rules (the component's
// ConfigData, or o.Rules, or none with Options.Auto) so that every image
// field names the copy the version's accesses record (in repo, or in the
// registries they name), and proves that every workload image names a copy
// (see localize.Localize; a failed proof is a *localize.CoverageError).
func Localize(ctx context.Context, repo *repository.Repository, name, version string, o LocalizeOptions) (*Localized, error) {
	src, err := repo.Source(ctx, name, version, repo.Registry())
	if err != nil {
		return nil, err
	}
	manifests, err := src.Version.Descriptor.FindResource(o.Resource)
	if err != nil {
		return nil, err
	}
	rules, err := localizationRules(ctx, src, manifests, o)
	if err != nil {
		return nil, err
	}
	if isChart(manifests) {
		return localizeChart(ctx, repo, src, manifests, rules, o)
	}
	files, err := readManifests(ctx, src, manifests, rules)
	if err != nil {
		return nil, err
	}
	images, err := ComponentImages(ctx, repo.Repository, src.Version)
	if err != nil {
		return nil, err
	}
	res, err := localizeTree(files, rules, images, o.Options)
	out := &Localized{Result: res, Name: src.Name(manifests), Original: files, Version: src.Version}
	if err != nil {
		return out, fmt.Errorf("localizing %s: %w", out.Name, err)
	}
	return out, out.write(ctx, o)
}

// write writes the localized files where o says: a directory, a registry.
func (l *Localized) write(ctx context.Context, o LocalizeOptions) error {
	if o.Out != "" {
		if err := localize.WriteFiles(o.Out, l.Files); err != nil {
			return fmt.Errorf("writing %s: %w", o.Out, err)
		}
	}
	if o.Push.Repository == "" {
		return nil
	}
	if o.Publish.Revision == "" {
		o.Publish.Revision = l.Version.Descriptor.Version + "@" + l.Version.Manifest.Digest.String()
	}
	var err error
	l.Pushed, err = Publish(ctx, o.Registry, l.Files.FS(), o.Push, o.Publish, o.Signer)
	return err
}

// localizationRules returns the rules o asks for.
func localizationRules(ctx context.Context, src *resource.Content, manifests *component.Resource, o LocalizeOptions) ([]localize.Rule, error) {
	switch {
	case o.Rules != nil:
		return o.Rules, nil
	case o.Config != "":
		res, err := src.Version.Descriptor.FindResource(o.Config)
		if err != nil {
			return nil, err
		}
		return readRules(ctx, src, res)
	case o.Options.Auto:
		return nil, nil
	}
	return findRules(ctx, src, manifests)
}

// maxRulesBytes bounds a ConfigData read from a resource.
const maxRulesBytes = 4 << 20

// readRules reads a ConfigData resource.
func readRules(ctx context.Context, src *resource.Content, r *component.Resource) ([]localize.Rule, error) {
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
func findRules(ctx context.Context, src *resource.Content, manifests *component.Resource) ([]localize.Rule, error) {
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
	return nil, fmt.Errorf("%s:%s has %w", d.Name, d.Version, ErrNoRules)
}

// maxManifestFile bounds a manifests resource that is a single YAML file.
const maxManifestFile = 64 << 20

// readManifests reads the manifests resource: an archive, or one YAML file
// named as the rules name it.
func readManifests(ctx context.Context, src *resource.Content, r *component.Resource, rules []localize.Rule) (localize.Files, error) {
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
	b, err := io.ReadAll(io.LimitReader(body, maxManifestFile+1))
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

// maxImageDepth bounds how deep ComponentImages follows references.
const maxImageDepth = 16

// ComponentImages lists the image resources of cv, and of the versions it
// references in the same repository, with the copies their accesses name:
// the images localize.Localize rewrites to.
func ComponentImages(ctx context.Context, repo *ocireg.Repository, cv *ocireg.Version) (localize.ImageList, error) {
	return componentImages(ctx, repo, cv, nil, 0)
}

func componentImages(ctx context.Context, repo *ocireg.Repository, cv *ocireg.Version, path []localize.Identity, depth int) (localize.ImageList, error) {
	d := cv.Descriptor
	base := cv.Base()
	var out localize.ImageList
	ids := d.ResourceIdentities()
	for i := range d.Resources {
		im, ok := copyOf(&d.Resources[i], base)
		if !ok {
			im, ok = indexImage(cv, &d.Resources[i])
		}
		if !ok {
			continue
		}
		out = append(out, localize.ImageResource{Identity: localize.Identity(ids[i]), ReferencePath: path, Image: im})
	}
	if depth >= maxImageDepth {
		return out, nil
	}
	refIDs := d.ReferenceIdentities()
	for i, ref := range d.References {
		sub, err := repo.Get(ctx, ref.ComponentName, ref.Version)
		if errors.Is(err, oci.ErrNotFound) {
			continue // not transferred along: rules that reach it fail and say so
		}
		if err != nil {
			return nil, fmt.Errorf("reading reference %s (%s:%s): %w", ref.Name, ref.ComponentName, ref.Version, err)
		}
		p := append(append([]localize.Identity(nil), path...), localize.Identity(refIDs[i]))
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
	if r.Access.Kind() != component.AccessOCIArtifact && r.Access.Kind() != component.AccessRelativeOCIReference {
		return localize.Image{}, false
	}
	img, err := ocireg.ImageOf(r.Access, base)
	if err != nil {
		return localize.Image{}, false
	}
	parsed := img.Ref
	im := localize.Image{Ref: parsed.String()}
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
		im.Original = im.Ref
	}
	return im, true
}

// indexImage describes an image stored in the version's OCI index (OCM
// v2's LocalBlob/v1 with a manifest media type): a cluster pulls it from
// the version's repository by digest.
func indexImage(cv *ocireg.Version, r *component.Resource) (localize.Image, bool) {
	ref, name, ok := resource.PullReference(cv, r)
	if !ok {
		return localize.Image{}, false
	}
	return localize.Image{Ref: ref, Digest: ref[strings.LastIndex(ref, "@")+1:], Path: name}, true
}
