package construct

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/ferry-oci/ferry/component"
)

// MaxConstructorBytes is the largest constructor Parse accepts (16 MiB).
const MaxConstructorBytes = 16 << 20

// ParseOptions are the settings of one Parse call.
type ParseOptions struct {
	// File is the constructor's path: errors name it, and relative input
	// paths are relative to its directory. "" means unnamed.
	File string
	// Dir overrides the directory relative input paths start from; default
	// the directory of File, or "." when File is "".
	Dir string
	// Vars are the values of ${NAME} (the CLI passes the environment and its
	// --var flags). A variable without a value is an error.
	Vars map[string]string
}

// Parse reads a component constructor (INTEROP §7): a single component, a
// `components:` list, or several YAML documents each holding one of those,
// after substituting ${NAME} from opts.Vars. Unknown fields are errors, and
// so is everything Validate would refuse in the descriptor (names, versions,
// relations, duplicate identities). Inputs are not read: Build does that.
//
// Errors are *Error values naming the file, line and field path; they wrap
// ErrInvalid, ErrUndefinedVariable or a *component.ValidationError.
func Parse(data []byte, opts ParseOptions) ([]Spec, error) {
	p := parser{file: opts.File, dir: opts.Dir}
	if p.dir == "" {
		p.dir = "."
		if opts.File != "" {
			p.dir = filepath.Dir(opts.File)
		}
	}
	if len(data) > MaxConstructorBytes {
		return nil, &Error{File: p.file, Err: invalid(fmt.Sprintf("%d bytes, more than the %d a constructor may have", len(data), MaxConstructorBytes))}
	}
	text, err := substitute(string(data), opts.Vars)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = p.file
		}
		return nil, err
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	var specs []Spec
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &Error{File: p.file, Err: invalid(fmt.Sprintf("parsing YAML: %v", err))}
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := resolve(doc.Content[0])
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document, e.g. after a trailing ---
		}
		if root.Kind == yaml.MappingNode && hasKey(root, "components") {
			f, err := p.fields(root, "", "components")
			if err != nil {
				return nil, err
			}
			items, err := p.list(f["components"], "components")
			if err != nil {
				return nil, err
			}
			for i, n := range items {
				s, err := p.component(n, fmt.Sprintf("components[%d]", i))
				if err != nil {
					return nil, err
				}
				specs = append(specs, s)
			}
			continue
		}
		s, err := p.component(root, "")
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	if len(specs) == 0 {
		return nil, &Error{File: p.file, Err: invalid("no component in the constructor")}
	}
	for i := range specs {
		if err := specs[i].check(); err != nil {
			return nil, err
		}
	}
	return specs, nil
}

type parser struct {
	file, dir string
}

func (p *parser) fail(n *yaml.Node, at, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Path: at, Err: invalidError{fmt.Errorf(format, args...)}}
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// keyNode returns the key node of key in the mapping n (its line is where
// the field is written), or n.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return n
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// fields returns the members of the mapping n by key. A key that is not in
// known, or appears twice, is an error naming its path.
func (p *parser) fields(n *yaml.Node, at string, known ...string) (map[string]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, p.fail(n, at, "must be a mapping, not %s", kindName(n))
	}
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.fail(k, at, "keys must be strings")
		}
		if !slices.Contains(known, k.Value) {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := closest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, p.fail(k, joinPath(at, k.Value), "%s", msg)
		}
		if _, dup := m[k.Value]; dup {
			return nil, p.fail(k, joinPath(at, k.Value), "field given twice")
		}
		m[k.Value] = v
	}
	return m, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "a document"
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// str reads a scalar as written: `version: 1.10` is "1.10", not the float
// OCM's JSON conversion would make of it (and then refuse).
func (p *parser) str(n *yaml.Node, at string) (string, error) {
	n = resolve(n)
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", p.fail(n, at, "must be a string, not %s", kindName(n))
	}
	return n.Value, nil
}

func (p *parser) required(m map[string]*yaml.Node, parent *yaml.Node, at, key string) (string, error) {
	v, err := p.str(m[key], joinPath(at, key))
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", p.fail(parent, joinPath(at, key), "required")
	}
	return v, nil
}

func (p *parser) boolean(n *yaml.Node, at string) (bool, error) {
	n = resolve(n)
	if isNull(n) {
		return false, nil
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, p.fail(n, at, "must be true or false, not %s", kindName(n))
	}
	return b, nil
}

func (p *parser) list(n *yaml.Node, at string) ([]*yaml.Node, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.fail(n, at, "must be a list, not %s", kindName(n))
	}
	return n.Content, nil
}

func (p *parser) strList(n *yaml.Node, at string) ([]string, error) {
	items, err := p.list(n, at)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, it := range items {
		s, err := p.str(it, fmt.Sprintf("%s[%d]", at, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) strMap(n *yaml.Node, at string) (map[string]string, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.fail(n, at, "must be a mapping, not %s", kindName(n))
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return nil, p.fail(k, at, "keys must be strings")
		}
		if _, dup := m[k.Value]; dup {
			return nil, p.fail(k, joinPath(at, k.Value), "key given twice")
		}
		v, err := p.str(n.Content[i+1], joinPath(at, k.Value))
		if err != nil {
			return nil, err
		}
		m[k.Value] = v
	}
	return m, nil
}

// value converts any YAML value to compact JSON, the way OCM reads free-form
// values (label values, access fields): numbers become JSON numbers, maps
// need string keys.
func (p *parser) value(n *yaml.Node, at string) (json.RawMessage, error) {
	var v any
	if err := resolve(n).Decode(&v); err != nil {
		return nil, p.fail(n, at, "%v", err)
	}
	v, err := jsonable(v)
	if err != nil {
		return nil, p.fail(n, at, "%v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, p.fail(n, at, "%v", err)
	}
	return b, nil
}

func jsonable(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[k] = c
		}
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", k)
			}
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case []any:
		for i, e := range t {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
	case time.Time:
		return t.Format(time.RFC3339Nano), nil
	}
	return v, nil
}

func (p *parser) labels(n *yaml.Node, at string) ([]component.Label, error) {
	items, err := p.list(n, at)
	if err != nil {
		return nil, err
	}
	var out []component.Label
	for i, it := range items {
		lp := fmt.Sprintf("%s[%d]", at, i)
		f, err := p.fields(it, lp, "name", "value", "version", "signing", "merge")
		if err != nil {
			return nil, err
		}
		var l component.Label
		if l.Name, err = p.required(f, it, lp, "name"); err != nil {
			return nil, err
		}
		if f["value"] == nil {
			return nil, p.fail(it, joinPath(lp, "value"), "required")
		}
		if l.Value, err = p.value(f["value"], joinPath(lp, "value")); err != nil {
			return nil, err
		}
		if l.Version, err = p.str(f["version"], joinPath(lp, "version")); err != nil {
			return nil, err
		}
		if l.Signing, err = p.boolean(f["signing"], joinPath(lp, "signing")); err != nil {
			return nil, err
		}
		if mn := f["merge"]; !isNull(mn) {
			mp := joinPath(lp, "merge")
			mf, err := p.fields(mn, mp, "algorithm", "config")
			if err != nil {
				return nil, err
			}
			var ms component.MergeSpec
			if ms.Algorithm, err = p.str(mf["algorithm"], joinPath(mp, "algorithm")); err != nil {
				return nil, err
			}
			if mf["config"] != nil {
				if ms.Config, err = p.value(mf["config"], joinPath(mp, "config")); err != nil {
					return nil, err
				}
			}
			l.Merge = &ms
		}
		out = append(out, l)
	}
	return out, nil
}

func (p *parser) access(n *yaml.Node, at string) (*component.Access, error) {
	f, err := p.fields(n, at, anyKey(n)...)
	if err != nil {
		return nil, err
	}
	if t, err := p.str(f["type"], joinPath(at, "type")); err != nil {
		return nil, err
	} else if t == "" {
		return nil, p.fail(n, joinPath(at, "type"), "required")
	}
	raw, err := p.value(n, at)
	if err != nil {
		return nil, err
	}
	var a component.Access
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, p.fail(n, at, "%v", err)
	}
	switch a.Kind() {
	case component.AccessLocalBlob, component.AccessLocalFilesystemBlob, "localOciBlob", component.AccessRelativeOCIReference:
		return nil, p.fail(n, joinPath(at, "type"), "access type %s is local to a repository and cannot be given in a constructor; use an input", a.Type)
	}
	return &a, nil
}

// anyKey lists the keys of a mapping: access specs are free-form.
func anyKey(n *yaml.Node) []string {
	n = resolve(n)
	var ks []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		ks = append(ks, resolve(n.Content[i]).Value)
	}
	return ks
}

func (p *parser) digest(n *yaml.Node, at string) (*component.DigestSpec, error) {
	if isNull(n) {
		return nil, nil
	}
	f, err := p.fields(n, at, "hashAlgorithm", "normalisationAlgorithm", "value")
	if err != nil {
		return nil, err
	}
	var d component.DigestSpec
	for key, dst := range map[string]*string{"hashAlgorithm": &d.HashAlgorithm, "normalisationAlgorithm": &d.NormalisationAlgorithm, "value": &d.Value} {
		if *dst, err = p.required(f, n, at, key); err != nil {
			return nil, err
		}
	}
	return &d, nil
}

func (p *parser) element(f map[string]*yaml.Node, n *yaml.Node, at string) (component.ElementMeta, error) {
	var m component.ElementMeta
	var err error
	if m.Name, err = p.required(f, n, at, "name"); err != nil {
		return m, err
	}
	if m.Version, err = p.str(f["version"], joinPath(at, "version")); err != nil {
		return m, err
	}
	if m.ExtraIdentity, err = p.strMap(f["extraIdentity"], joinPath(at, "extraIdentity")); err != nil {
		return m, err
	}
	if m.Labels, err = p.labels(f["labels"], joinPath(at, "labels")); err != nil {
		return m, err
	}
	return m, nil
}

func (p *parser) component(n *yaml.Node, at string) (Spec, error) {
	n = resolve(n)
	s := Spec{File: p.file, Dir: p.dir, Path: at, Line: n.Line}
	f, err := p.fields(n, at, "name", "version", "provider", "labels", "creationTime", "meta",
		"sources", "resources", "references", "componentReferences")
	if err != nil {
		return s, err
	}
	if s.Name, err = p.required(f, n, at, "name"); err != nil {
		return s, err
	}
	if s.Version, err = p.required(f, n, at, "version"); err != nil {
		return s, err
	}
	if s.Provider, err = p.provider(f["provider"], n, joinPath(at, "provider")); err != nil {
		return s, err
	}
	if s.Labels, err = p.labels(f["labels"], joinPath(at, "labels")); err != nil {
		return s, err
	}
	if ct, err := p.str(f["creationTime"], joinPath(at, "creationTime")); err != nil {
		return s, err
	} else if ct != "" {
		t, err := time.Parse(time.RFC3339, ct)
		if err != nil {
			return s, p.fail(f["creationTime"], joinPath(at, "creationTime"), "not an RFC 3339 time: %q", ct)
		}
		s.CreationTime = t.UTC().Truncate(time.Second)
	}
	if mn := f["meta"]; !isNull(mn) {
		mp := joinPath(at, "meta")
		mf, err := p.fields(mn, mp, "configuredSchemaVersion")
		if err != nil {
			return s, err
		}
		v, err := p.str(mf["configuredSchemaVersion"], joinPath(mp, "configuredSchemaVersion"))
		if err != nil {
			return s, err
		}
		switch component.Scheme(v) {
		case "", component.SchemeV2, component.SchemeV3Alpha1:
			s.Scheme = component.Scheme(v)
		default:
			return s, p.fail(mf["configuredSchemaVersion"], joinPath(mp, "configuredSchemaVersion"), "unknown schema version %q: want %s or %s", v, component.SchemeV2, component.SchemeV3Alpha1)
		}
	}
	if items, err := p.list(f["sources"], joinPath(at, "sources")); err != nil {
		return s, err
	} else {
		for i, it := range items {
			src, err := p.source(it, fmt.Sprintf("%s[%d]", joinPath(at, "sources"), i))
			if err != nil {
				return s, err
			}
			s.Sources = append(s.Sources, src)
		}
	}
	if items, err := p.list(f["resources"], joinPath(at, "resources")); err != nil {
		return s, err
	} else {
		for i, it := range items {
			r, err := p.resource(it, fmt.Sprintf("%s[%d]", joinPath(at, "resources"), i))
			if err != nil {
				return s, err
			}
			s.Resources = append(s.Resources, r)
		}
	}
	refKey := "references"
	if !isNull(f["componentReferences"]) {
		if !isNull(f["references"]) {
			return s, p.fail(keyNode(n, "componentReferences"), joinPath(at, "componentReferences"),
				"only one of references and componentReferences (deprecated) may be given")
		}
		refKey = "componentReferences"
	}
	items, err := p.list(f[refKey], joinPath(at, refKey))
	if err != nil {
		return s, err
	}
	for i, it := range items {
		r, err := p.reference(it, fmt.Sprintf("%s[%d]", joinPath(at, refKey), i))
		if err != nil {
			return s, err
		}
		s.References = append(s.References, r)
	}
	return s, nil
}

func (p *parser) provider(n, parent *yaml.Node, at string) (component.Provider, error) {
	var pr component.Provider
	if isNull(n) {
		return pr, p.fail(parent, at, "required")
	}
	f, err := p.fields(n, at, "name", "labels")
	if err != nil {
		return pr, err
	}
	if pr.Name, err = p.required(f, n, at, "name"); err != nil {
		return pr, err
	}
	pr.Labels, err = p.labels(f["labels"], joinPath(at, "labels"))
	return pr, err
}

func (p *parser) resource(n *yaml.Node, at string) (ResourceSpec, error) {
	n = resolve(n)
	r := ResourceSpec{Element: Element{Path: at, Line: n.Line}}
	f, err := p.fields(n, at, "name", "version", "type", "relation", "extraIdentity", "labels",
		"srcRefs", "access", "input", "options", "digest")
	if err != nil {
		return r, err
	}
	if r.ElementMeta, err = p.element(f, n, at); err != nil {
		return r, err
	}
	if r.Type, err = p.required(f, n, at, "type"); err != nil {
		return r, err
	}
	if r.Relation, err = p.str(f["relation"], joinPath(at, "relation")); err != nil {
		return r, err
	}
	if r.Access, r.Input, err = p.accessOrInput(f, n, at); err != nil {
		return r, err
	}
	switch {
	case r.Relation == "" && r.Input != nil:
		r.Relation = component.RelationLocal
	case r.Relation == "":
		r.Relation = component.RelationExternal
	case r.Relation != component.RelationLocal && r.Relation != component.RelationExternal:
		return r, p.fail(f["relation"], joinPath(at, "relation"), "must be local or external, not %q", r.Relation)
	case r.Input != nil && r.Relation != component.RelationLocal:
		return r, p.fail(f["relation"], joinPath(at, "relation"), "a resource with an input is local")
	}
	if r.Version == "" && r.Relation != component.RelationLocal {
		return r, p.fail(n, joinPath(at, "version"), "required for an external resource")
	}
	items, err := p.list(f["srcRefs"], joinPath(at, "srcRefs"))
	if err != nil {
		return r, err
	}
	for i, it := range items {
		sp := fmt.Sprintf("%s[%d]", joinPath(at, "srcRefs"), i)
		sf, err := p.fields(it, sp, "identitySelector", "labels")
		if err != nil {
			return r, err
		}
		var sr component.SourceRef
		if sr.IdentitySelector, err = p.strMap(sf["identitySelector"], joinPath(sp, "identitySelector")); err != nil {
			return r, err
		}
		if sr.Labels, err = p.labels(sf["labels"], joinPath(sp, "labels")); err != nil {
			return r, err
		}
		r.SourceRefs = append(r.SourceRefs, sr)
	}
	if on := f["options"]; !isNull(on) {
		op := joinPath(at, "options")
		of, err := p.fields(on, op, "skipDigestGeneration")
		if err != nil {
			return r, err
		}
		if r.SkipDigestGeneration, err = p.boolean(of["skipDigestGeneration"], joinPath(op, "skipDigestGeneration")); err != nil {
			return r, err
		}
	}
	if r.Digest, err = p.digest(f["digest"], joinPath(at, "digest")); err != nil {
		return r, err
	}
	if r.Digest != nil && r.Input != nil {
		return r, p.fail(f["digest"], joinPath(at, "digest"), "a resource with an input gets its digest from the content; remove digest")
	}
	return r, nil
}

func (p *parser) source(n *yaml.Node, at string) (SourceSpec, error) {
	n = resolve(n)
	s := SourceSpec{Element: Element{Path: at, Line: n.Line}}
	f, err := p.fields(n, at, "name", "version", "type", "extraIdentity", "labels", "access", "input")
	if err != nil {
		return s, err
	}
	if s.ElementMeta, err = p.element(f, n, at); err != nil {
		return s, err
	}
	if s.Type, err = p.required(f, n, at, "type"); err != nil {
		return s, err
	}
	s.Access, s.Input, err = p.accessOrInput(f, n, at)
	return s, err
}

func (p *parser) reference(n *yaml.Node, at string) (ReferenceSpec, error) {
	n = resolve(n)
	r := ReferenceSpec{Element: Element{Path: at, Line: n.Line}}
	f, err := p.fields(n, at, "name", "version", "componentName", "extraIdentity", "labels", "digest")
	if err != nil {
		return r, err
	}
	if r.ElementMeta, err = p.element(f, n, at); err != nil {
		return r, err
	}
	if r.ComponentName, err = p.required(f, n, at, "componentName"); err != nil {
		return r, err
	}
	r.Digest, err = p.digest(f["digest"], joinPath(at, "digest"))
	return r, err
}

func (p *parser) accessOrInput(f map[string]*yaml.Node, n *yaml.Node, at string) (*component.Access, *Input, error) {
	an, in := f["access"], f["input"]
	switch {
	case !isNull(an) && !isNull(in):
		return nil, nil, p.fail(keyNode(n, "input"), joinPath(at, "input"), "give either input or access, not both")
	case isNull(an) && isNull(in):
		return nil, nil, p.fail(n, at, "either input or access is required")
	case !isNull(an):
		a, err := p.access(an, joinPath(at, "access"))
		return a, nil, err
	}
	i, err := p.input(in, joinPath(at, "input"))
	return nil, i, err
}

func (p *parser) input(n *yaml.Node, at string) (*Input, error) {
	n = resolve(n)
	pre, err := p.fields(n, at, anyKey(n)...)
	if err != nil {
		return nil, err
	}
	typ, err := p.str(pre["type"], joinPath(at, "type"))
	if err != nil {
		return nil, err
	}
	if typ == "" {
		return nil, p.fail(n, joinPath(at, "type"), "required")
	}
	in := &Input{Type: inputType(typ)}
	known := []string{"type", "mediaType", "compress"}
	switch in.Type {
	case InputFile:
		known = append(known, "path")
	case InputDir:
		known = append(known, "path", "preserveDir", "followSymlinks", "includeFiles", "excludeFiles")
	case InputUTF8:
		known = append(known, "text", "json", "formattedJson", "yaml")
	case InputBinary:
		known = append(known, "data")
	case InputHelm:
		known = append(known, "path", "version", "repository")
		if pre["helmRepository"] != nil {
			return nil, p.fail(pre["helmRepository"], joinPath(at, "helmRepository"), "%w: ferry builds a helm input from a chart directory or .tgz; for a chart in a Helm repository use a helm access", ErrUnsupportedInput)
		}
	default:
		return nil, p.fail(pre["type"], joinPath(at, "type"), "%w %q: ferry builds file, dir, utf8, binary and helm inputs; for images use an ociArtifact access", ErrUnsupportedInput, typ)
	}
	f, err := p.fields(n, at, known...)
	if err != nil {
		return nil, err
	}
	if in.MediaType, err = p.str(f["mediaType"], joinPath(at, "mediaType")); err != nil {
		return nil, err
	}
	if in.Compress, err = p.boolean(f["compress"], joinPath(at, "compress")); err != nil {
		return nil, err
	}
	switch in.Type {
	case InputFile, InputDir, InputHelm:
		if in.Path, err = p.required(f, n, at, "path"); err != nil {
			return nil, err
		}
	}
	if in.Type == InputHelm {
		if in.Version, err = p.str(f["version"], joinPath(at, "version")); err != nil {
			return nil, err
		}
		if in.Repository, err = p.str(f["repository"], joinPath(at, "repository")); err != nil {
			return nil, err
		}
	}
	if in.Type == InputDir {
		if in.PreserveDir, err = p.boolean(f["preserveDir"], joinPath(at, "preserveDir")); err != nil {
			return nil, err
		}
		if in.FollowSymlinks, err = p.boolean(f["followSymlinks"], joinPath(at, "followSymlinks")); err != nil {
			return nil, err
		}
		for key, dst := range map[string]*[]string{"includeFiles": &in.IncludeFiles, "excludeFiles": &in.ExcludeFiles} {
			if *dst, err = p.strList(f[key], joinPath(at, key)); err != nil {
				return nil, err
			}
			for i, pat := range *dst {
				if _, err := path.Match(pat, ""); err != nil {
					return nil, p.fail(f[key], fmt.Sprintf("%s[%d]", joinPath(at, key), i), "bad pattern %q: %v", pat, err)
				}
			}
		}
	}
	if in.Type == InputUTF8 {
		set := 0
		if !isNull(f["text"]) {
			set++
			if in.Text, err = p.str(f["text"], joinPath(at, "text")); err != nil {
				return nil, err
			}
		}
		for key, dst := range map[string]*[]byte{"json": &in.JSON, "formattedJson": &in.FormattedJSON, "yaml": &in.YAML} {
			if f[key] == nil {
				continue
			}
			set++
			v, err := p.value(f[key], joinPath(at, key))
			if err != nil {
				return nil, err
			}
			*dst = v
		}
		if set > 1 {
			return nil, p.fail(n, at, "only one of text, json, formattedJson and yaml may be given")
		}
	}
	if in.Type == InputBinary {
		d, err := p.str(f["data"], joinPath(at, "data"))
		if err != nil {
			return nil, err
		}
		if in.Data, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(d), "")); err != nil {
			return nil, p.fail(f["data"], joinPath(at, "data"), "not base64: %v", err)
		}
	}
	return in, nil
}

// inputType normalises OCM's spellings of an input type: "dir", "Dir",
// "dir/v1" are the same.
func inputType(t string) string {
	name, _, _ := strings.Cut(t, "/")
	switch strings.ToLower(name) {
	case InputFile, InputDir, InputUTF8, InputBinary, InputHelm:
		return strings.ToLower(name)
	}
	return t
}

// closest returns the known key within edit distance 2 of k, for "did you
// mean" hints, or "".
func closest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := component.EditDistance(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// check validates what the descriptor will hold, before any input is read,
// with the descriptor's own rules (component.Validate), and maps the paths
// back to the constructor.
func (s *Spec) check() error {
	d := s.skeleton("")
	err := component.Validate(d)
	if err == nil {
		return nil
	}
	return s.mapValidation(err)
}

// mapValidation turns component.ValidationErrors (paths in the descriptor)
// into *Error values (paths in the constructor).
func (s *Spec) mapValidation(err error) error {
	var list component.ValidationErrors
	if !errors.As(err, &list) {
		return &Error{File: s.File, Line: s.Line, Path: s.Path, Err: err}
	}
	var out []error
	for _, ve := range list {
		at, line := s.constructorPath(ve.Path)
		out = append(out, &Error{File: s.File, Line: line, Path: at, Err: ruleError{ve}})
	}
	return errors.Join(out...)
}

// ruleError shows a validation error without its descriptor path (the
// *Error around it names the constructor's).
type ruleError struct{ ve *component.ValidationError }

func (e ruleError) Error() string { return e.ve.Rule }
func (e ruleError) Unwrap() error { return e.ve }

// constructorPath maps component.resources[2].name or spec.resources[2].name
// to components[0].resources[2].name and the line of that element.
func (s *Spec) constructorPath(p string) (string, int) {
	for _, prefix := range []string{"component.", "spec.", "metadata.", "meta."} {
		p = strings.TrimPrefix(p, prefix)
	}
	line := s.Line
	kind, rest, _ := strings.Cut(p, "[")
	if i, tail, ok := strings.Cut(rest, "]"); ok {
		if n, err := strconv.Atoi(i); err == nil {
			switch kind {
			case "resources":
				if n < len(s.Resources) {
					return joinPath(s.Resources[n].Path, strings.TrimPrefix(tail, ".")), s.Resources[n].Line
				}
			case "sources":
				if n < len(s.Sources) {
					return joinPath(s.Sources[n].Path, strings.TrimPrefix(tail, ".")), s.Sources[n].Line
				}
			case "componentReferences", "references":
				if n < len(s.References) {
					return joinPath(s.References[n].Path, strings.TrimPrefix(tail, ".")), s.References[n].Line
				}
			}
		}
	}
	return joinPath(s.Path, p), line
}

// skeleton is the descriptor s describes, with placeholders where Build
// fills in blob accesses, digests and the creation time.
func (s *Spec) skeleton(scheme component.Scheme) *component.Descriptor {
	if s.Scheme != "" {
		scheme = s.Scheme
	}
	if scheme == "" {
		scheme = component.SchemeV2
	}
	d := &component.Descriptor{
		Scheme:       scheme,
		Name:         s.Name,
		Version:      s.Version,
		Provider:     s.Provider,
		Labels:       s.Labels,
		CreationTime: s.CreationTime,
	}
	placeholder := component.Access{Type: component.AccessLocalBlob, Fields: component.Fields{
		"localReference": json.RawMessage(`"sha256:0000000000000000000000000000000000000000000000000000000000000000"`),
		"mediaType":      json.RawMessage(`"application/octet-stream"`),
	}}
	for _, src := range s.Sources {
		e := src.ElementMeta
		if e.Version == "" {
			e.Version = s.Version
		}
		a := placeholder
		if src.Access != nil {
			a = *src.Access
		}
		d.Sources = append(d.Sources, component.Source{ElementMeta: e, Type: src.Type, Access: a})
	}
	for _, r := range s.Resources {
		e := r.ElementMeta
		if e.Version == ComponentVersionTag || e.Version == "" && r.Relation == component.RelationLocal {
			e.Version = s.Version
		}
		a := placeholder
		if r.Access != nil {
			a = *r.Access
		}
		d.Resources = append(d.Resources, component.Resource{ElementMeta: e, Type: r.Type, Relation: r.Relation,
			SourceRefs: r.SourceRefs, Access: a, Digest: r.Digest})
	}
	for _, r := range s.References {
		e := r.ElementMeta
		if e.Version == "" {
			e.Version = s.Version
		}
		d.References = append(d.References, component.Reference{ElementMeta: e, ComponentName: r.ComponentName, Digest: r.Digest})
	}
	return d
}
