package component

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrUnsupportedScheme: the document is neither schema v2 nor
// ocm.software/v3alpha1.
var ErrUnsupportedScheme = errors.New("unsupported component descriptor scheme")

// Decode reads a component descriptor in YAML or JSON, in schema v2 or
// ocm.software/v3alpha1, the way OCM v1 does (INTEROP §1.1):
//
//  1. the input is limited to MaxDescriptorBytes and MaxNesting, and YAML
//     aliases that expand it beyond twice that size are refused
//     (ErrTooLarge);
//  2. YAML is converted to JSON with sigs.k8s.io/yaml (YAML 1.1 scalars);
//  3. the scheme is detected from meta.schemaVersion and apiVersion (both
//     set, or neither known: ErrUnsupportedScheme);
//  4. the document is validated against the official JSON schema;
//  5. unknown fields are kept where the model has room (Extra fields);
//  6. defaults are applied and OCM's semantic rules checked (Validate).
//
// Validation problems are returned as ValidationErrors (errors.Is
// ErrInvalid), each naming its field, e.g. component.resources[2].name.
// The result remembers its scheme in Descriptor.Scheme.
func Decode(data []byte) (*Descriptor, error) {
	j, err := toJSON(data)
	if err != nil {
		return nil, err
	}
	doc, err := parseJSON(j)
	if err != nil {
		return nil, fmt.Errorf("parsing descriptor: %w", err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is not a map", ErrUnsupportedScheme)
	}
	scheme, err := detectScheme(top)
	if err != nil {
		return nil, err
	}
	if err := validateSchema(scheme, doc); err != nil {
		return nil, err
	}
	r := reader{}
	var d *Descriptor
	if scheme == SchemeV2 {
		d = r.v2(top)
	} else {
		d = r.v3(top)
	}
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	applyDefaults(d)
	if err := Validate(d); err != nil {
		return nil, err
	}
	return d, nil
}

// detectScheme implements §1.1.
func detectScheme(top map[string]any) (Scheme, error) {
	var schemaVersion, apiVersion any
	hasMeta := false
	if m, ok := top["meta"].(map[string]any); ok {
		schemaVersion, hasMeta = m["schemaVersion"]
	}
	apiVersion, hasAPI := top["apiVersion"]
	switch {
	case hasMeta && hasAPI:
		return "", fmt.Errorf("%w: apiVersion and meta.schemaVersion are both set", ErrUnsupportedScheme)
	case hasMeta:
		if schemaVersion == "v2" {
			return SchemeV2, nil
		}
		return "", fmt.Errorf("%w: meta.schemaVersion %v", ErrUnsupportedScheme, schemaVersion)
	case hasAPI:
		if apiVersion == string(SchemeV3Alpha1) {
			return SchemeV3Alpha1, nil
		}
		return "", fmt.Errorf("%w: apiVersion %v (OCM v1 reads only %s)", ErrUnsupportedScheme, apiVersion, SchemeV3Alpha1)
	}
	return "", fmt.Errorf("%w: neither meta.schemaVersion nor apiVersion is set", ErrUnsupportedScheme)
}

// applyDefaults applies OCM's decode defaults (§1.1): empty lists instead
// of nil for the lists v2 always writes.
func applyDefaults(d *Descriptor) {
	if d.RepositoryContexts == nil {
		d.RepositoryContexts = []RepositoryContext{}
	}
	if d.Sources == nil {
		d.Sources = []Source{}
	}
	if d.References == nil {
		d.References = []Reference{}
	}
	if d.Resources == nil {
		d.Resources = []Resource{}
	}
}

// reader turns schema-validated generic JSON into the model. It still
// checks every type it relies on, recording ValidationErrors.
type reader struct {
	errs ValidationErrors
}

func (r *reader) fail(path, rule string) {
	r.errs = append(r.errs, &ValidationError{Path: path, Rule: rule})
}

func (r *reader) obj(v any, path string) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(path, "must be a map")
	}
	return m
}

func (r *reader) list(v any, path string) []any {
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.fail(path, "must be a list")
	}
	return l
}

func (r *reader) str(m map[string]any, key, path string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(joinPath(path, key), "must be a string")
	}
	return s
}

func (r *reader) time(m map[string]any, key, path string) time.Time {
	s := r.str(m, key, path)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		r.fail(joinPath(path, key), "must be an RFC 3339 date-time")
		return time.Time{}
	}
	return canonicalTime(t)
}

// canonicalTime is OCM's Timestamp: UTC, rounded to whole seconds.
func canonicalTime(t time.Time) time.Time {
	return t.UTC().Round(time.Second)
}

func (r *reader) raw(v any, path string) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		r.fail(path, "cannot be encoded as JSON")
		return nil
	}
	return b
}

// extras returns the members of m not in known.
func (r *reader) extras(m map[string]any, path string, known ...string) Fields {
	var f Fields
outer:
	for k, v := range m {
		for _, n := range known {
			if k == n {
				continue outer
			}
		}
		if f == nil {
			f = Fields{}
		}
		f[k] = r.raw(v, joinPath(path, k))
	}
	return f
}

func (r *reader) identity(v any, path string) Identity {
	m := r.obj(v, path)
	if m == nil {
		return nil
	}
	id := Identity{}
	for k := range m {
		id[k] = r.str(m, k, path)
	}
	if len(id) == 0 {
		return nil
	}
	return id
}

// each decodes every entry of the list v at path with one, passing the
// entry's object and path ("resources[2]"); entries that are not objects
// are reported (by obj) and skipped.
func each[T any](r *reader, v any, path string, one func(m map[string]any, p string) T) []T {
	var out []T
	for i, e := range r.list(v, path) {
		p := fmt.Sprintf("%s[%d]", path, i)
		if m := r.obj(e, p); m != nil {
			out = append(out, one(m, p))
		}
	}
	return out
}

func (r *reader) labels(v any, path string) []Label {
	return each(r, v, path, func(m map[string]any, p string) Label {
		l := Label{
			Name:    r.str(m, "name", p),
			Version: r.str(m, "version", p),
			Extra:   r.extras(m, p, "name", "value", "version", "signing", "merge"),
		}
		if val, ok := m["value"]; ok {
			l.Value = r.raw(val, p+".value")
		}
		if s, ok := m["signing"]; ok && s != nil {
			b, ok := s.(bool)
			if !ok {
				r.fail(p+".signing", "must be a boolean")
			}
			l.Signing = b
		}
		if mv := r.obj(m["merge"], p+".merge"); mv != nil {
			l.Merge = &MergeSpec{Algorithm: r.str(mv, "algorithm", p+".merge")}
			if c, ok := mv["config"]; ok {
				l.Merge.Config = r.raw(c, p+".merge.config")
			}
		}
		return l
	})
}

func (r *reader) digest(v any, path string) *DigestSpec {
	m := r.obj(v, path)
	if m == nil {
		return nil
	}
	return &DigestSpec{
		HashAlgorithm:          r.str(m, "hashAlgorithm", path),
		NormalisationAlgorithm: r.str(m, "normalisationAlgorithm", path),
		Value:                  r.str(m, "value", path),
	}
}

func (r *reader) access(v any, path string) Access {
	m := r.obj(v, path)
	if m == nil {
		return Access{}
	}
	return Access{Type: r.str(m, "type", path), Fields: r.extras(m, path, "type")}
}

func (r *reader) meta(m map[string]any, path string) ElementMeta {
	return ElementMeta{
		Name:          r.str(m, "name", path),
		Version:       r.str(m, "version", path),
		ExtraIdentity: r.identity(m["extraIdentity"], path+".extraIdentity"),
		Labels:        r.labels(m["labels"], path+".labels"),
	}
}

func (r *reader) resources(v any, path string) []Resource {
	return each(r, v, path, func(m map[string]any, p string) Resource {
		res := Resource{
			ElementMeta: r.meta(m, p),
			Type:        r.str(m, "type", p),
			Relation:    r.str(m, "relation", p),
			SourceRefs:  r.srcRefs(m["srcRefs"], p+".srcRefs"),
			Access:      r.access(m["access"], p+".access"),
			Digest:      r.digest(m["digest"], p+".digest"),
			Extra: r.extras(m, p, "name", "version", "extraIdentity", "labels", "type",
				"relation", "srcRefs", "srcRef", "access", "digest"),
		}
		if len(res.SourceRefs) == 0 {
			// schema v2 readers also accept the legacy key srcRef
			res.SourceRefs = r.srcRefs(m["srcRef"], p+".srcRef")
		}
		return res
	})
}

func (r *reader) srcRefs(v any, path string) []SourceRef {
	return each(r, v, path, func(m map[string]any, p string) SourceRef {
		return SourceRef{
			IdentitySelector: r.identity(m["identitySelector"], p+".identitySelector"),
			Labels:           r.labels(m["labels"], p+".labels"),
		}
	})
}

func (r *reader) sources(v any, path string) []Source {
	return each(r, v, path, func(m map[string]any, p string) Source {
		return Source{
			ElementMeta: r.meta(m, p),
			Type:        r.str(m, "type", p),
			Access:      r.access(m["access"], p+".access"),
			Extra:       r.extras(m, p, "name", "version", "extraIdentity", "labels", "type", "access"),
		}
	})
}

func (r *reader) references(v any, path string) []Reference {
	return each(r, v, path, func(m map[string]any, p string) Reference {
		return Reference{
			ElementMeta:   r.meta(m, p),
			ComponentName: r.str(m, "componentName", p),
			Digest:        r.digest(m["digest"], p+".digest"),
		}
	})
}

func (r *reader) repositoryContexts(v any, path string) []RepositoryContext {
	return each(r, v, path, func(m map[string]any, p string) RepositoryContext {
		return RepositoryContext{Type: r.str(m, "type", p), Fields: r.extras(m, p, "type")}
	})
}

func (r *reader) signatures(v any) []Signature {
	return each(r, v, "signatures", func(m map[string]any, p string) Signature {
		s := Signature{Name: r.str(m, "name", p)}
		if d := r.digest(m["digest"], p+".digest"); d != nil {
			s.Digest = *d
		}
		if sm := r.obj(m["signature"], p+".signature"); sm != nil {
			sp := p + ".signature"
			s.Signature = SignatureSpec{
				Algorithm: r.str(sm, "algorithm", sp),
				Value:     r.str(sm, "value", sp),
				MediaType: r.str(sm, "mediaType", sp),
				Issuer:    r.str(sm, "issuer", sp),
			}
		}
		if tm := r.obj(m["timestamp"], p+".timestamp"); tm != nil {
			s.Timestamp = &TimestampSpec{
				Value: r.str(tm, "value", p+".timestamp"),
				Time:  r.time(tm, "time", p+".timestamp"),
			}
		}
		return s
	})
}

func (r *reader) nestedDigests(v any) []NestedDigest {
	return each(r, v, "nestedDigests", func(m map[string]any, p string) NestedDigest {
		n := NestedDigest{
			Name:    r.str(m, "name", p),
			Version: r.str(m, "version", p),
			Digest:  r.digest(m["digest"], p+".digest"),
		}
		n.Resources = each(r, m["resourceDigests"], p+".resourceDigests", func(rm map[string]any, rp string) ResourceDigest {
			rd := ResourceDigest{
				Name:          r.str(rm, "name", rp),
				Version:       r.str(rm, "version", rp),
				ExtraIdentity: r.identity(rm["extraIdentity"], rp+".extraIdentity"),
			}
			if d := r.digest(rm["digest"], rp+".digest"); d != nil {
				rd.Digest = *d
			}
			return rd
		})
		return n
	})
}

// v2 reads a schema v2 document.
func (r *reader) v2(top map[string]any) *Descriptor {
	c := r.obj(top["component"], "component")
	d := &Descriptor{
		Scheme:        SchemeV2,
		Signatures:    r.signatures(top["signatures"]),
		NestedDigests: r.nestedDigests(top["nestedDigests"]),
		Extra:         r.extras(top, "", "meta", "component", "signatures", "nestedDigests"),
	}
	if c == nil {
		return d
	}
	d.Name = r.str(c, "name", "component")
	d.Version = r.str(c, "version", "component")
	d.Labels = r.labels(c["labels"], "component.labels")
	d.CreationTime = r.time(c, "creationTime", "component")
	d.Provider = r.providerString(r.str(c, "provider", "component"))
	d.RepositoryContexts = r.repositoryContexts(c["repositoryContexts"], "component.repositoryContexts")
	d.Sources = r.sources(c["sources"], "component.sources")
	d.References = r.references(c["componentReferences"], "component.componentReferences")
	d.Resources = r.resources(c["resources"], "component.resources")
	d.ComponentExtra = r.extras(c, "component", "name", "version", "labels", "creationTime", "provider",
		"repositoryContexts", "sources", "componentReferences", "resources")
	return d
}

// providerString reads a v2 provider: a JSON document {name, labels} in a
// string, or else the whole string is the name (§1.2).
func (r *reader) providerString(s string) Provider {
	var doc any
	if err := json.Unmarshal([]byte(s), &doc); err == nil {
		if m, ok := doc.(map[string]any); ok {
			var sub reader
			p := Provider{Name: sub.str(m, "name", "component.provider"), Labels: sub.labels(m["labels"], "component.provider.labels")}
			if len(sub.errs) == 0 {
				return p
			}
			// like OCM: a document that does not fit is a name
		}
	}
	return Provider{Name: s}
}

// v3 reads an ocm.software/v3alpha1 document.
func (r *reader) v3(top map[string]any) *Descriptor {
	md := r.obj(top["metadata"], "metadata")
	spec := r.obj(top["spec"], "spec")
	d := &Descriptor{
		Scheme:             SchemeV3Alpha1,
		RepositoryContexts: r.repositoryContexts(top["repositoryContexts"], "repositoryContexts"),
		Signatures:         r.signatures(top["signatures"]),
		NestedDigests:      r.nestedDigests(top["nestedDigests"]),
		Extra: r.extras(top, "", "apiVersion", "kind", "metadata", "repositoryContexts", "spec",
			"signatures", "nestedDigests"),
	}
	if md != nil {
		d.Name = r.str(md, "name", "metadata")
		d.Version = r.str(md, "version", "metadata")
		d.Labels = r.labels(md["labels"], "metadata.labels")
		d.CreationTime = r.time(md, "creationTime", "metadata")
		if pm := r.obj(md["provider"], "metadata.provider"); pm != nil {
			d.Provider = Provider{Name: r.str(pm, "name", "metadata.provider"), Labels: r.labels(pm["labels"], "metadata.provider.labels")}
		}
	}
	if spec != nil {
		d.Sources = r.sources(spec["sources"], "spec.sources")
		d.References = r.references(spec["references"], "spec.references")
		d.Resources = r.resources(spec["resources"], "spec.resources")
	}
	return d
}
