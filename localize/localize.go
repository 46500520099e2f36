package localize

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ErrNoMatch: a rule's path selects nothing in its file.
var ErrNoMatch = errors.New("path matches nothing")

// RuleError is a rule that could not be applied. It names the rule (its
// name, else its position and resource), the file and the path.
type RuleError struct {
	Rule string // `"image"` or `localization[2] (resource image)`
	File string
	Path string // "" when the failure is not about one path
	Err  error
}

func (e *RuleError) Error() string {
	s := "localization rule " + e.Rule
	if e.File != "" {
		s += " file " + e.File
	}
	if e.Path != "" {
		s += " path " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *RuleError) Unwrap() error { return e.Err }

// CoverageError is returned (with the Result) when image fields still name
// images that are not copies in the target and Options.AllowUnlocalized is
// not set.
type CoverageError struct {
	Unlocalized []Finding
}

func (e *CoverageError) Error() string {
	f := e.Unlocalized[0]
	more := ""
	if n := len(e.Unlocalized) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	return fmt.Sprintf("coverage: %s[%d] %s names %s, which is not a copy in the target%s", f.File, f.Document, f.Path, f.Image, more)
}

// Options control Localize. The zero value applies the rules and fails on
// any image field that does not name a copy.
type Options struct {
	// Auto rewrites every image field whose reference matches the Original
	// reference of an image (Docker Hub defaults normalised) to its copy,
	// in addition to the rules (usually there are none).
	Auto bool
	// PinDigest writes "repo@sha256:…" instead of a tag (rules' image and
	// tag values, and Auto).
	PinDigest bool
	// Fields adds image fields to check and to rewrite in Auto mode, as
	// "KIND:PATH" ("Certificate:spec.image", "*:spec.images[*]"), next to
	// the containers, initContainers and ephemeralContainers of Pods,
	// Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers,
	// PodTemplates, Jobs and CronJobs.
	Fields []string
	// Allow lists further references that count as localized: an exact
	// reference ("registry.local/base/pause:3.9"), or a prefix ending in "/"
	// ("registry.local/") for anything below it.
	Allow []string
	// AllowUnlocalized reports fields that name other images in
	// Result.Coverage without failing.
	AllowUnlocalized bool
	// Limits bound what is read from the tree; zero fields take the defaults.
	Limits Limits
	// PullSecret, when its Secret is set, names an image pull secret in
	// every workload's pod spec (or a ServiceAccount) after the rules, as
	// AddPullSecret does; its changes are listed with the rule "pull-secret".
	PullSecret PullSecretOptions
}

// Result is what Localize did, in a form fit for `-o json`.
type Result struct {
	// Files holds every file of the tree by slash path, rewritten where a
	// rule or Auto changed it, byte for byte the input elsewhere.
	Files Files `json:"-"`
	// Changed lists the paths of the files that differ from the input, sorted.
	Changed []string `json:"changed"`
	// Changes lists every rewritten field, in the order applied.
	Changes  []Change `json:"changes"`
	Coverage Coverage `json:"coverage"`
}

// Change is one rewritten field.
type Change struct {
	Rule     string `json:"rule,omitempty"` // "" for Auto
	File     string `json:"file"`
	Document int    `json:"document"` // 0-based, counting every document of the file
	Path     string `json:"path"`     // concrete: selectors replaced by indexes
	Old      string `json:"old"`
	New      string `json:"new"`
}

// Coverage is the air-gap closure check: every image field of every
// workload, after the rules.
type Coverage struct {
	Checked     int       `json:"checked"`     // image fields seen
	Unlocalized []Finding `json:"unlocalized"` // fields that name no copy
	Skipped     []Skipped `json:"skipped,omitempty"`
}

// Finding is an image field that does not name a copy in the target.
type Finding struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Kind     string `json:"kind"`
	Name     string `json:"name,omitempty"`
	Path     string `json:"path"`
	Image    string `json:"image"`
}

// Skipped is a .yaml, .yml or .json file the coverage check could not read
// (a Helm template, an AppleDouble "._" file).
type Skipped struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// Localize applies rules to the manifests in fsys, then (with Options.Auto)
// rewrites the image fields that name an original image, then checks every
// image field of every workload against the copies in images.
//
// Rules are strict: a rule whose file is missing, whose path matches nothing
// or whose resource is unknown fails the run with a *RuleError. A path is
// applied to every document of the file it matches in (ocm-controller reads
// only the first). Only the rewritten scalars change in the output: comments,
// key order, quoting, blank lines and every document are kept.
//
// When the coverage check finds unlocalized fields and
// Options.AllowUnlocalized is not set, Localize returns the Result together
// with a *CoverageError.
func Localize(fsys fs.FS, rules []Rule, images Images, o Options) (*Result, error) {
	files, err := ReadFS(fsys, o.Limits)
	if err != nil {
		return nil, err
	}
	fields, err := parseFields(o.Fields)
	if err != nil {
		return nil, err
	}
	l := &run{files: files, parsed: map[string]*yamlFile{}, parseErr: map[string]error{}, images: images, opts: o}
	res := &Result{Files: Files{}, Changes: []Change{}, Changed: []string{}, Coverage: Coverage{Unlocalized: []Finding{}}}
	for i, r := range rules {
		cs, err := l.apply(i, r)
		if err != nil {
			return nil, err
		}
		res.Changes = append(res.Changes, cs...)
	}
	names := l.yamlNames()
	if o.Auto {
		cs, err := l.auto(names, fields)
		if err != nil {
			return nil, err
		}
		res.Changes = append(res.Changes, cs...)
		if cs, err = l.autoKustomize(names); err != nil {
			return nil, err
		}
		res.Changes = append(res.Changes, cs...)
	}
	res.Coverage, err = l.coverage(names, fields)
	if err != nil {
		return nil, err
	}
	for p, b := range files {
		res.Files[p] = b
	}
	for p, f := range l.parsed {
		if !f.changed() {
			continue
		}
		b, err := f.render()
		if err != nil {
			return nil, err
		}
		res.Files[p] = b
		res.Changed = append(res.Changed, p)
	}
	if o.PullSecret.Secret != "" {
		var cs []Change
		if res.Files, cs, err = AddPullSecret(res.Files, o.PullSecret); err != nil {
			return nil, err
		}
		res.Changes = append(res.Changes, cs...)
		for _, c := range cs {
			if !slices.Contains(res.Changed, c.File) {
				res.Changed = append(res.Changed, c.File)
			}
		}
	}
	sort.Strings(res.Changed)
	if len(res.Coverage.Unlocalized) > 0 && !o.AllowUnlocalized {
		return res, &CoverageError{Unlocalized: res.Coverage.Unlocalized}
	}
	return res, nil
}

type run struct {
	files    Files
	parsed   map[string]*yamlFile
	parseErr map[string]error
	images   Images
	opts     Options
}

func (l *run) file(p string) (*yamlFile, error) {
	if f, ok := l.parsed[p]; ok {
		return f, nil
	}
	if err, ok := l.parseErr[p]; ok {
		return nil, err
	}
	b, ok := l.files[p]
	if !ok {
		return nil, fmt.Errorf("reading %s: %w", p, fs.ErrNotExist)
	}
	f, err := parseYAML(p, b)
	if err != nil {
		l.parseErr[p] = err
		return nil, err
	}
	l.parsed[p] = f
	return f, nil
}

// yamlNames returns the YAML and JSON files of the tree, sorted.
func (l *run) yamlNames() []string {
	var names []string
	for p := range l.files {
		switch strings.ToLower(path.Ext(p)) {
		case ".yaml", ".yml", ".json":
			names = append(names, p)
		}
	}
	sort.Strings(names)
	return names
}

func (l *run) apply(i int, r Rule) ([]Change, error) {
	label := r.label(i)
	fail := func(p string, err error) error { return &RuleError{Rule: label, File: r.File, Path: p, Err: err} }
	if err := r.check(); err != nil {
		return nil, fail("", err)
	}
	im, err := l.images.Lookup(r.Resource.Identity(), r.Resource.ReferencePath)
	if err != nil {
		return nil, fail("", err)
	}
	vals, err := valuesOf(im, l.opts.PinDigest)
	if err != nil {
		return nil, fail("", err)
	}
	name, _ := cleanFile(r.File)
	f, err := l.file(name)
	if err != nil {
		return nil, fail("", err)
	}
	var out []Change
	for _, fp := range r.fields() {
		p, err := ParsePath(fp[1])
		if err != nil {
			return nil, fail(fp[1], err)
		}
		v := map[string]string{"image": vals.image, "registry": vals.registry, "repository": vals.repository, "tag": vals.tag}[fp[0]]
		found := 0
		for d, doc := range f.docs {
			for _, h := range p.eval(doc) {
				found++
				if fp[0] == "image" && isKustomization(name) {
					cs, err := setImageEntry(f, doc, h, im, vals, l.opts.PinDigest)
					if err != nil {
						return nil, fail(fp[1], err)
					}
					for _, c := range cs {
						c.Rule, c.File, c.Document = strings.Trim(label, `"`), name, d
						out = append(out, c)
					}
					continue
				}
				old := h.node.Value
				v := v
				if fp[0] == "repository" && r.Registry == "" && hasRegistryHost(old) {
					// "ghcr.io/stefanprodan/podinfo": the value names the
					// registry too, and no registry rule sets it apart.
					v = vals.registry + "/" + vals.repository
				}
				if fp[0] == "tag" && vals.plainTag != "" && digestSibling(doc, h) != nil {
					// The template adds the digest from its own value: the
					// tag stays a tag, pinned or not.
					v = vals.plainTag
				}
				if err := f.set(h.node, v); err != nil {
					return nil, fail(fp[1], err)
				}
				out = append(out, Change{Rule: strings.Trim(label, `"`), File: name, Document: d, Path: h.path.String(), Old: old, New: v})
				if fp[0] == "tag" {
					c, ok, err := setDigestSibling(f, doc, h, vals)
					if err != nil {
						return nil, fail(fp[1], err)
					}
					if ok {
						c.Rule, c.File, c.Document = strings.Trim(label, `"`), name, d
						out = append(out, c)
					}
				}
			}
		}
		if found == 0 {
			return nil, fail(fp[1], ErrNoMatch)
		}
	}
	return out, nil
}

// hasRegistryHost reports whether a repository value starts with a
// registry host ("ghcr.io/…", "localhost:5000/…"), as Docker tells one.
func hasRegistryHost(v string) bool {
	host, _, ok := strings.Cut(v, "/")
	return ok && (strings.ContainsAny(host, ".:") || host == "localhost")
}

// auto rewrites image fields that name an original image.
func (l *run) auto(names []string, extra []field) ([]Change, error) {
	byKey := map[string]Image{}
	byPath := map[string]Image{}
	for _, im := range l.images.All() {
		if im.Original != "" {
			r, err := parseImageRef(im.Original)
			if err != nil {
				return nil, fmt.Errorf("auto: image resource %s: %w", im.Ref, err)
			}
			for _, k := range r.keys(im.Digest) {
				byKey[k] = im
			}
			continue
		}
		if im.Path == "" {
			continue
		}
		repo, tag, _ := strings.Cut(im.Path, ":")
		for _, k := range []string{repo + ":" + tag, repo + "@" + im.Digest} {
			if other, dup := byPath[k]; dup && other.Ref != im.Ref {
				return nil, fmt.Errorf("auto: %s and %s both are copies of %s: name the image with a rule", other.Ref, im.Ref, k)
			}
			byPath[k] = im
		}
	}
	var out []Change
	for _, p := range names {
		f, err := l.file(p)
		if err != nil {
			continue // not YAML: the coverage check lists it
		}
		for d, doc := range f.docs {
			for _, h := range imageFields(doc, extra) {
				v, ok := scalarString(h.node)
				if !ok {
					continue
				}
				r, err := parseImageRef(v)
				if err != nil {
					continue
				}
				im, ok := byKey[r.key()]
				if !ok {
					im, ok = byPath[r.pathKey()]
				}
				if !ok {
					continue
				}
				nv, err := autoValue(im, r, l.opts.PinDigest)
				if err != nil {
					return nil, fmt.Errorf("auto: %s[%d] %s: %w", p, d, h.path, err)
				}
				if err := f.set(h.node, nv); err != nil {
					return nil, fmt.Errorf("auto: %s[%d] %s: %w", p, d, h.path, err)
				}
				out = append(out, Change{File: p, Document: d, Path: h.path.String(), Old: v, New: nv})
			}
		}
	}
	return out, nil
}

func (l *run) coverage(names []string, extra []field) (Coverage, error) {
	c := Coverage{Unlocalized: []Finding{}}
	allowed := map[string]bool{}
	for _, im := range l.images.All() {
		r, err := parseImageRef(im.Ref)
		if err != nil {
			return c, fmt.Errorf("coverage: image resource: %w", err)
		}
		for _, k := range r.keys(im.Digest) {
			allowed[k] = true
		}
	}
	var prefixes []string
	for _, a := range l.opts.Allow {
		if strings.HasSuffix(a, "/") {
			prefixes = append(prefixes, a)
			continue
		}
		r, err := parseImageRef(a)
		if err != nil {
			return c, fmt.Errorf("coverage: allowed reference: %w", err)
		}
		allowed[r.key()] = true
	}
	ok := func(v string) bool {
		r, err := parseImageRef(v)
		if err != nil {
			return false
		}
		if allowed[r.key()] {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(r.raw+"/", p) || strings.HasPrefix(r.repo.Name()+"/", p) {
				return true
			}
		}
		return false
	}
	for _, p := range names {
		f, err := l.file(p)
		if err != nil {
			c.Skipped = append(c.Skipped, Skipped{File: p, Reason: err.Error()})
			continue
		}
		for d, doc := range f.docs {
			for _, h := range imageFields(doc, extra) {
				v, isStr := scalarString(h.node)
				if !isStr {
					continue
				}
				c.Checked++
				if !ok(v) {
					c.Unlocalized = append(c.Unlocalized, Finding{File: p, Document: d, Kind: h.kind, Name: h.name, Path: h.path.String(), Image: v})
				}
			}
		}
	}
	return c, nil
}

// field is a user image field "KIND:PATH".
type field struct {
	kind string // "*" for any
	path Path
}

func parseFields(fs []string) ([]field, error) {
	var out []field
	for _, s := range fs {
		k, p, ok := strings.Cut(s, ":")
		if !ok || k == "" {
			return nil, fmt.Errorf("image field %q: want KIND:PATH", s)
		}
		pp, err := ParsePath(p)
		if err != nil {
			return nil, fmt.Errorf("image field %q: %w", s, err)
		}
		out = append(out, field{kind: k, path: pp})
	}
	return out, nil
}

// podSpecs says where each workload kind keeps its pod spec.
var podSpecs = map[string]Path{
	"Pod":                   {{Kind: Key, Key: "spec"}},
	"PodTemplate":           {{Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"Deployment":            {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"StatefulSet":           {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"DaemonSet":             {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"ReplicaSet":            {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"ReplicationController": {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"Job":                   {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
	"CronJob": {{Kind: Key, Key: "spec"}, {Kind: Key, Key: "jobTemplate"}, {Kind: Key, Key: "spec"},
		{Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"}},
}

// imageHit is an image field of a workload.
type imageHit struct {
	hit
	kind, name string
}

// imageFields returns the image fields of a document: those of its workload
// kind, then the user fields; the items of a List are visited each.
func imageFields(doc *yaml.Node, extra []field) []imageHit {
	var out []imageHit
	var visit func(n *yaml.Node, prefix Path, depth int)
	visit = func(n *yaml.Node, prefix Path, depth int) {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode || depth > 4 {
			return
		}
		kind, _ := scalarString(first(Path{{Kind: Key, Key: "kind"}}.eval(n)))
		name, _ := scalarString(first(Path{{Kind: Key, Key: "metadata"}, {Kind: Key, Key: "name"}}.eval(n)))
		add := func(hs []hit) {
			for _, h := range hs {
				out = append(out, imageHit{hit: hit{node: h.node, path: append(append(Path{}, prefix...), h.path...)}, kind: kind, name: name})
			}
		}
		if spec, ok := podSpecs[kind]; ok {
			for _, c := range []string{"containers", "initContainers", "ephemeralContainers"} {
				add(append(append(Path{}, spec...), Step{Kind: Key, Key: c}, Step{Kind: All}, Step{Kind: Key, Key: "image"}).eval(n))
			}
		}
		for _, f := range extra {
			if f.kind == "*" || f.kind == kind {
				add(f.path.eval(n))
			}
		}
		if strings.HasSuffix(kind, "List") {
			for _, h := range (Path{{Kind: Key, Key: "items"}, {Kind: All}}).eval(n) {
				visit(h.node, append(append(Path{}, prefix...), h.path...), depth+1)
			}
		}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		visit(doc.Content[0], nil, 0)
	}
	return out
}

func first(hs []hit) *yaml.Node {
	if len(hs) == 0 {
		return nil
	}
	return hs[0].node
}
