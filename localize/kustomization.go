package localize

import (
	"fmt"
	"path"
	"sort"

	yaml "go.yaml.in/yaml/v3"
)

// KustomizationNames are the file names kustomize reads a kustomization
// from, in the order it looks for them.
var KustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// isKustomization reports whether p is a kustomization file.
func isKustomization(p string) bool {
	b := path.Base(p)
	for _, n := range KustomizationNames {
		if b == n {
			return true
		}
	}
	return false
}

// ImageEntry is one `images:` entry of a kustomization: what kustomize
// writes into every image field whose repository is Name.
type ImageEntry struct {
	File    string `json:"file"`
	Path    string `json:"path"` // images[2]
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// Result is the reference the entry gives an image field that names
// Name:tag: NewName (or Name) with NewTag (or tag) and Digest.
func (e ImageEntry) Result(tag string) string {
	s := firstNonEmpty(e.NewName, e.Name)
	if t := firstNonEmpty(e.NewTag, tag); t != "" {
		s += ":" + t
	}
	if e.Digest != "" {
		s += "@" + e.Digest
	}
	return s
}

// KustomizationImages lists the `images:` entries of every kustomization
// file of the tree, by file then position.
func KustomizationImages(files Files) ([]ImageEntry, error) {
	var out []ImageEntry
	for _, p := range files.Names() {
		if !isKustomization(p) {
			continue
		}
		f, err := parseYAML(p, files[p])
		if err != nil {
			return nil, err
		}
		for _, doc := range f.docs {
			for _, h := range imageEntries(doc) {
				out = append(out, entryOf(p, h))
			}
		}
	}
	return out, nil
}

var imagesPath = Path{{Kind: Key, Key: "images"}, {Kind: All}}

func imageEntries(doc *yaml.Node) []hit {
	var out []hit
	for _, h := range imagesPath.eval(doc) {
		if n := deref(h.node); n != nil && n.Kind == yaml.MappingNode {
			out = append(out, h)
		}
	}
	return out
}

func entryOf(file string, h hit) ImageEntry {
	get := func(k string) string {
		v, _ := scalarString(first(Path{{Kind: Key, Key: k}}.eval(h.node)))
		return v
	}
	return ImageEntry{File: file, Path: h.path.String(), Name: get("name"), NewName: get("newName"), NewTag: get("newTag"), Digest: get("digest")}
}

// entryNode returns the entry mapping a rule's image path selected (the
// entry itself, or the entry holding the selected newName) and its path.
func entryNode(doc *yaml.Node, h hit) (*yaml.Node, Path, error) {
	if n := deref(h.node); n != nil && n.Kind == yaml.MappingNode {
		return n, h.path, nil
	}
	if len(h.path) > 0 {
		last := h.path[len(h.path)-1]
		if last.Kind == Key && last.Key == "newName" {
			parent := h.path[:len(h.path)-1]
			if n := deref(first(parent.eval(doc))); n != nil && n.Kind == yaml.MappingNode {
				return n, parent, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("%s is not an images: entry nor its newName: in a kustomization, an image rule names the entry (images[name=…]) or its newName", h.path)
}

// setImageEntry applies an image rule to a kustomization `images:` entry:
// newName gets the copy's repository, newTag (when the entry has one) its
// tag, and digest (when the entry has one, or with pin) its digest.
func setImageEntry(f *yamlFile, doc *yaml.Node, h hit, im Image, vals ruleValues, pin bool) ([]Change, error) {
	entry, at, err := entryNode(doc, h)
	if err != nil {
		return nil, err
	}
	copyRef, err := parseImageRef(im.Ref)
	if err != nil {
		return nil, err
	}
	return setEntry(f, entry, at, copyRef, vals.digest, pin)
}

func setEntry(f *yamlFile, entry *yaml.Node, at Path, copyRef imageRef, digest string, pin bool) ([]Change, error) {
	var out []Change
	set := func(key, v string, need bool) error {
		hs := Path{{Kind: Key, Key: key}}.eval(entry)
		if len(hs) == 0 {
			if need {
				return fmt.Errorf("the images: entry %s has no %s: add `%s: …` to it", at, key, key)
			}
			return nil
		}
		old, _ := scalarString(hs[0].node)
		if err := f.set(hs[0].node, v); err != nil {
			return err
		}
		if old != v {
			out = append(out, Change{Path: append(append(Path{}, at...), hs[0].path...).String(), Old: old, New: v})
		}
		return nil
	}
	if err := set("newName", copyRef.raw, true); err != nil {
		return nil, err
	}
	if copyRef.tag != "" {
		if err := set("newTag", copyRef.tag, false); err != nil {
			return nil, err
		}
	}
	if pin && digest == "" {
		return nil, fmt.Errorf("pinning %s: no digest known", copyRef.raw)
	}
	if digest != "" {
		if err := set("digest", digest, pin); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// setDigestSibling sets the `digest` key next to a tag path (a chart's
// image.digest beside image.tag) to the copy's digest, when the mapping has
// one and the digest is known.
func setDigestSibling(f *yamlFile, doc *yaml.Node, h hit, vals ruleValues) (Change, bool, error) {
	if vals.digest == "" || len(h.path) == 0 {
		return Change{}, false, nil
	}
	d := digestSibling(doc, h)
	if d == nil {
		return Change{}, false, nil
	}
	old := deref(d.node).Value
	if err := f.set(d.node, vals.digest); err != nil {
		return Change{}, false, err
	}
	return Change{Path: d.path.String(), Old: old, New: vals.digest}, true, nil
}

// digestSibling returns the scalar `digest` beside the key h selected, or nil.
func digestSibling(doc *yaml.Node, h hit) *hit {
	if len(h.path) == 0 {
		return nil
	}
	last := h.path[len(h.path)-1]
	if last.Kind != Key || last.Key == "digest" {
		return nil
	}
	p := append(append(Path{}, h.path[:len(h.path)-1]...), Step{Kind: Key, Key: "digest"})
	hs := p.eval(doc)
	if len(hs) == 0 {
		return nil
	}
	if n := deref(hs[0].node); n == nil || n.Kind != yaml.ScalarNode {
		return nil
	}
	return &hs[0]
}

// autoKustomize rewrites the `images:` entries of kustomization files
// whose name is the repository of an original image: newName to the
// copy's repository, newTag and digest (when present) to its tag and digest.
func (l *run) autoKustomize(names []string) ([]Change, error) {
	byRepo := map[string][]Image{}
	for _, im := range l.images.All() {
		if im.Original == "" {
			continue
		}
		if r, err := parseImageRef(im.Original); err == nil {
			byRepo[r.repo.Name()] = append(byRepo[r.repo.Name()], im)
		}
	}
	var out []Change
	for _, p := range names {
		if !isKustomization(p) {
			continue
		}
		f, err := l.file(p)
		if err != nil {
			continue
		}
		for d, doc := range f.docs {
			for _, h := range imageEntries(doc) {
				e := entryOf(p, h)
				r, err := parseImageRef(e.Name)
				if err != nil {
					continue
				}
				cands := byRepo[r.repo.Name()]
				if len(cands) > 1 {
					var pick []Image
					for _, c := range cands {
						o, _ := parseImageRef(c.Original)
						if o.tag != "" && o.tag == firstNonEmpty(e.NewTag, r.tag) {
							pick = append(pick, c)
						}
					}
					cands = pick
				}
				switch len(cands) {
				case 0:
					continue
				case 1:
				default:
					return nil, fmt.Errorf("auto: %s %s: %s names several images of the component: name one with a rule", p, e.Path, e.Name)
				}
				im := cands[0]
				cr, err := parseImageRef(im.Ref)
				if err != nil {
					return nil, fmt.Errorf("auto: image resource %s: %w", im.Ref, err)
				}
				cs, err := setEntry(f, deref(h.node), h.path, cr, firstNonEmpty(cr.digest, im.Digest), l.opts.PinDigest)
				if err != nil {
					return nil, fmt.Errorf("auto: %s %s: %w", p, e.Path, err)
				}
				for _, c := range cs {
					c.File, c.Document = p, d
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}

// Check runs the coverage proof alone on a tree that needs no rewriting:
// the rendered output of a chart or of a kustomization. Every file is read
// as YAML, whatever its name.
func Check(files Files, images Images, o Options) (Coverage, error) {
	fields, err := parseFields(o.Fields)
	if err != nil {
		return Coverage{}, err
	}
	l := &run{files: files, parsed: map[string]*yamlFile{}, parseErr: map[string]error{}, images: images, opts: o}
	return l.coverage(files.Names(), fields)
}

// ImageFields lists every image field of every workload of the tree (and
// the fields of extra, "KIND:PATH"), as Findings, whatever they name.
func ImageFields(files Files, extra []string) ([]Finding, error) {
	fields, err := parseFields(extra)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, p := range files.Names() {
		f, err := parseYAML(p, files[p])
		if err != nil {
			return nil, err
		}
		for d, doc := range f.docs {
			for _, h := range imageFields(doc, fields) {
				if v, ok := scalarString(h.node); ok {
					out = append(out, Finding{File: p, Document: d, Kind: h.kind, Name: h.name, Path: h.path.String(), Image: v})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// ValidReference reports whether s parses as an image reference, with the
// parser's reason when not.
func ValidReference(s string) error {
	_, err := parseImageRef(s)
	return err
}

// SetScalar returns src with the scalar at path p (in every document that
// has it) replaced by v, every other byte kept. It fails with ErrNoMatch
// when no document has the path.
func SetScalar(name string, src []byte, p string, v string) ([]byte, error) {
	pp, err := ParsePath(p)
	if err != nil {
		return nil, err
	}
	f, err := parseYAML(name, src)
	if err != nil {
		return nil, err
	}
	found := 0
	for _, doc := range f.docs {
		for _, h := range pp.eval(doc) {
			if err := f.set(h.node, v); err != nil {
				return nil, err
			}
			found++
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("%s: %s: %w", name, p, ErrNoMatch)
	}
	return f.render()
}
