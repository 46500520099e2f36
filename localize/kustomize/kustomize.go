// Package kustomize proves a Kustomize tree's air-gap closure on what
// kustomize renders: each kustomization of a manifests tree that no other
// kustomization includes is built with sigs.k8s.io/kustomize/api's krusty
// (as Flux's kustomize-controller builds it), in memory, and every workload
// image of the output must name a copy. A public image is named with the
// kustomization file and `images:` entry that put it there, or the base
// file and path it came from.
package kustomize

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/localize"
)

// ErrNoKustomization: the tree holds no kustomization file.
var ErrNoKustomization = errors.New("no kustomization")

// Has reports whether the tree holds a kustomization file.
func Has(files localize.Files) bool {
	for p := range files {
		if isKustomization(p) {
			return true
		}
	}
	return false
}

func isKustomization(p string) bool {
	b := path.Base(p)
	for _, n := range localize.KustomizationNames {
		if b == n {
			return true
		}
	}
	return false
}

// kustomization is the part of a kustomization Roots reads.
type kustomization struct {
	Resources  []string `json:"resources"`
	Bases      []string `json:"bases"`
	Components []string `json:"components"`
}

// Roots returns the directories ("." for the top) of the kustomizations
// that no other kustomization of the tree includes (as a resource, base or
// component): what a user or Flux builds. Sorted.
func Roots(files localize.Files) ([]string, error) {
	dirs := map[string]string{} // dir -> kustomization file
	for p := range files {
		if isKustomization(p) {
			d := path.Dir(p)
			if other, dup := dirs[d]; dup {
				return nil, fmt.Errorf("%s and %s: two kustomizations in one directory", other, p)
			}
			dirs[d] = p
		}
	}
	if len(dirs) == 0 {
		return nil, ErrNoKustomization
	}
	included := map[string]bool{}
	for d, p := range dirs {
		var k kustomization
		if err := yaml.Unmarshal(files[p], &k); err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		for _, r := range append(append(k.Resources, k.Bases...), k.Components...) {
			included[path.Clean(path.Join(d, r))] = true
		}
	}
	var roots []string
	for d := range dirs {
		if !included[d] {
			roots = append(roots, d)
		}
	}
	sort.Strings(roots)
	return roots, nil
}

// Build runs kustomize on the kustomization in dir of the tree, held in
// memory: nothing is read from or written to disk, remote resources fail
// (there is no network in an air gap), and plugins are off. It returns the
// rendered stream of documents.
func Build(files localize.Files, dir string) ([]byte, error) {
	fsys := filesys.MakeFsInMemory()
	for _, p := range files.Names() {
		if err := fsys.MkdirAll(path.Dir("/" + p)); err != nil {
			return nil, err
		}
		if err := fsys.WriteFile("/"+p, files[p]); err != nil {
			return nil, err
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, path.Join("/", dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return out, nil
}

// Result is what Localize did: the rules' (and Auto's) rewrites of the
// tree, and the proof on what kustomize renders.
type Result struct {
	*localize.Result
	// Built holds the output of each root, by "ROOT/kustomization.yaml
	// (built)" name; what the proof checked.
	Built localize.Files `json:"-"`
	Roots []string       `json:"roots"`
}

// Localize applies rules (and Options.Auto, which also rewrites
// kustomization `images:` entries) to the tree, builds every root
// kustomization of the result with krusty, and runs the coverage proof on
// the output. Findings are named by their source: the kustomization and
// `images:` entry whose newName, newTag or digest gave the image, else the
// base file and path that wrote it. It returns a *localize.CoverageError
// (with the Result) unless o.AllowUnlocalized.
func Localize(files localize.Files, rules []localize.Rule, images localize.Images, o localize.Options) (*Result, error) {
	lo := o
	lo.AllowUnlocalized = true
	lr, err := localize.Localize(files, rules, images, lo)
	if err != nil {
		return nil, err
	}
	roots, err := Roots(lr.Files)
	if err != nil {
		return nil, err
	}
	res := &Result{Result: lr, Built: localize.Files{}, Roots: roots}
	cov := localize.Coverage{Unlocalized: []localize.Finding{}}
	entries, err := localize.KustomizationImages(lr.Files)
	if err != nil {
		return nil, err
	}
	sources, err := sourceFields(lr.Files, o.Fields)
	if err != nil {
		return nil, err
	}
	for _, root := range roots {
		out, err := Build(lr.Files, root)
		if err != nil {
			return nil, err
		}
		name := path.Join(root, "kustomization.yaml") + " (built)"
		res.Built[name] = out
		c, err := localize.Check(localize.Files{name: out}, images, o)
		if err != nil {
			return nil, err
		}
		cov.Checked += c.Checked
		for _, f := range c.Unlocalized {
			cov.Unlocalized = append(cov.Unlocalized, origin(f, entries, sources))
		}
	}
	res.Coverage = cov
	if len(cov.Unlocalized) > 0 && !o.AllowUnlocalized {
		return res, &localize.CoverageError{Unlocalized: cov.Unlocalized}
	}
	return res, nil
}

// sourceFields lists the image fields of the tree's files that are not
// kustomizations.
func sourceFields(files localize.Files, extra []string) ([]localize.Finding, error) {
	yamls := localize.Files{}
	for p, b := range files {
		switch strings.ToLower(path.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !isKustomization(p) {
				yamls[p] = b
			}
		}
	}
	var out []localize.Finding
	for _, p := range yamls.Names() {
		fs, err := localize.ImageFields(localize.Files{p: yamls[p]}, extra)
		if err != nil {
			continue // not a manifest kustomize reads (a values file, a Helm template)
		}
		out = append(out, fs...)
	}
	return out, nil
}

// origin names a rendered finding by its source: an `images:` entry (in
// the root or below it) that yields the image, else a base field that
// names it as it is; else the built output itself. An entry is matched by
// value: the one whose newName (or name), newTag and digest give the image.
func origin(f localize.Finding, entries []localize.ImageEntry, sources []localize.Finding) localize.Finding {
	repo, tag, digest := splitRef(f.Image)
	for _, e := range entries {
		if e.NewName == "" && e.NewTag == "" && e.Digest == "" {
			continue
		}
		if firstNonEmpty(e.NewName, e.Name) != repo {
			continue
		}
		if (e.NewTag != "" && e.NewTag != tag) || (e.Digest != "" && e.Digest != digest) {
			continue
		}
		field := ".newName"
		if e.NewName == "" {
			field = ".newTag"
			if e.NewTag == "" {
				field = ".digest"
			}
		}
		f.File, f.Path, f.Document = e.File, e.Path+field, 0
		return f
	}
	for _, s := range sources {
		if s.Image == f.Image {
			s.Kind, s.Name = firstNonEmpty(s.Kind, f.Kind), firstNonEmpty(s.Name, f.Name)
			return s
		}
	}
	return f
}

// splitRef splits "repo:tag@digest" into its parts (a port is not a tag).
func splitRef(s string) (repo, tag, digest string) {
	repo, digest, _ = strings.Cut(s, "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
