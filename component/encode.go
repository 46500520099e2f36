package component

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"sigs.k8s.io/yaml"
)

// Encode writes d as YAML in scheme the way OCM v1 stores a descriptor
// (INTEROP §1.2, §1.3): OCM's Go structs marshalled to JSON and converted
// with sigs.k8s.io/yaml, so keys are sorted at every level, lists start at
// their key's column, empty v2 lists are written as [] and empty optional
// fields are omitted. An empty scheme means d.Scheme (default SchemeV2).
//
// The bytes equal a descriptor layer's component-descriptor.yaml; `ocm get
// cv -o yaml` prints the same after a "---" line. Unknown fields kept in
// Extra are written too (sorted with the rest), except where the v3alpha1
// schema forbids them (labels, the v2 component object).
func Encode(d *Descriptor, scheme Scheme) ([]byte, error) {
	j, err := EncodeJSON(d, scheme)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("encoding descriptor %s:%s as YAML: %w", d.Name, d.Version, err)
	}
	return y, nil
}

// EncodeJSON writes d as compact JSON in scheme, with members in the order
// of OCM v1's Go structs (what json.Marshal of OCM's types writes; `ocm get
// cv -o json` prints the same, indented, inside {"items": [...]}). Unknown
// fields kept in Extra follow the known ones, sorted. An empty scheme means
// d.Scheme (default SchemeV2).
func EncodeJSON(d *Descriptor, scheme Scheme) ([]byte, error) {
	if scheme == "" {
		scheme = d.SchemeOrDefault()
	}
	var o object
	switch scheme {
	case SchemeV2:
		o = encoder{extras: true}.v2(d)
	case SchemeV3Alpha1:
		o = encoder{extras: true, closed: true}.v3(d)
	default:
		return nil, fmt.Errorf("encoding descriptor %s:%s: %w: %q", d.Name, d.Version, ErrUnsupportedScheme, scheme)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding descriptor %s:%s: %w", d.Name, d.Version, err)
	}
	return b, nil
}

// object is a JSON object whose members keep their order.
type object []member

type member struct {
	key string
	val any
}

func (o *object) add(k string, v any) { *o = append(*o, member{k, v}) }

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encoder builds the JSON shape of OCM's versioned Go structs. With extras
// false it writes only what OCM models (the input of jsonNormalisation/v1).
type encoder struct {
	extras bool
	closed bool // v3alpha1 closes labels in v3alpha1: no extras
}

func (e encoder) addExtras(o *object, f Fields) {
	if !e.extras {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(f)) {
		o.add(k, f[k])
	}
}

// timestamp writes OCM's Timestamp: RFC 3339, UTC, whole seconds.
func timestamp(t time.Time) (string, error) {
	t = canonicalTime(t)
	if y := t.Year(); y < 0 || y >= 10000 {
		return "", fmt.Errorf("time %v: year outside of range [0,9999]", t)
	}
	return t.Format(time.RFC3339), nil
}

type timeValue time.Time

func (t timeValue) MarshalJSON() ([]byte, error) {
	s, err := timestamp(time.Time(t))
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

func (e encoder) label(l Label) object {
	var o object
	o.add("name", l.Name)
	if len(l.Value) > 0 {
		o.add("value", l.Value)
	}
	if l.Version != "" {
		o.add("version", l.Version)
	}
	if l.Signing {
		o.add("signing", true)
	}
	if l.Merge != nil {
		var m object
		m.add("algorithm", l.Merge.Algorithm)
		if len(l.Merge.Config) > 0 {
			m.add("config", l.Merge.Config)
		}
		o.add("merge", m)
	}
	if !e.closed {
		e.addExtras(&o, l.Extra)
	}
	return o
}

func (e encoder) labels(ls []Label) []object {
	out := make([]object, len(ls))
	for i, l := range ls {
		out[i] = e.label(l)
	}
	return out
}

func digestObject(d DigestSpec) object {
	return object{{"hashAlgorithm", d.HashAlgorithm}, {"normalisationAlgorithm", d.NormalisationAlgorithm}, {"value", d.Value}}
}

func (e encoder) elementMeta(o *object, m ElementMeta) {
	o.add("name", m.Name)
	o.add("version", m.Version)
	if len(m.ExtraIdentity) > 0 {
		o.add("extraIdentity", map[string]string(m.ExtraIdentity))
	}
	if len(m.Labels) > 0 {
		o.add("labels", e.labels(m.Labels))
	}
}

func (e encoder) resource(r Resource) object {
	var o object
	e.elementMeta(&o, r.ElementMeta)
	o.add("type", r.Type)
	if r.Relation != "" {
		o.add("relation", r.Relation)
	}
	if len(r.SourceRefs) > 0 {
		refs := make([]object, len(r.SourceRefs))
		for i, s := range r.SourceRefs {
			var so object
			if len(s.IdentitySelector) > 0 {
				so.add("identitySelector", s.IdentitySelector)
			}
			if len(s.Labels) > 0 {
				so.add("labels", e.labels(s.Labels))
			}
			refs[i] = so
		}
		o.add("srcRefs", refs)
	}
	o.add("access", r.Access)
	if r.Digest != nil {
		o.add("digest", digestObject(*r.Digest))
	}
	e.addExtras(&o, r.Extra)
	return o
}

func (e encoder) source(s Source) object {
	var o object
	e.elementMeta(&o, s.ElementMeta)
	o.add("type", s.Type)
	o.add("access", s.Access)
	e.addExtras(&o, s.Extra)
	return o
}

func (e encoder) reference(r Reference) object {
	var o object
	e.elementMeta(&o, r.ElementMeta)
	o.add("componentName", r.ComponentName)
	if r.Digest != nil {
		o.add("digest", digestObject(*r.Digest))
	}
	return o
}

func (e encoder) signatures(o *object, d *Descriptor) {
	if len(d.Signatures) > 0 {
		sigs := make([]object, len(d.Signatures))
		for i, s := range d.Signatures {
			var so, spec object
			so.add("name", s.Name)
			so.add("digest", digestObject(s.Digest))
			spec.add("algorithm", s.Signature.Algorithm)
			spec.add("value", s.Signature.Value)
			spec.add("mediaType", s.Signature.MediaType)
			if s.Signature.Issuer != "" {
				spec.add("issuer", s.Signature.Issuer)
			}
			so.add("signature", spec)
			if s.Timestamp != nil {
				var t object
				t.add("value", s.Timestamp.Value)
				if !s.Timestamp.Time.IsZero() {
					t.add("time", timeValue(s.Timestamp.Time))
				}
				so.add("timestamp", t)
			}
			sigs[i] = so
		}
		o.add("signatures", sigs)
	}
	if len(d.NestedDigests) > 0 {
		nds := make([]object, len(d.NestedDigests))
		for i, n := range d.NestedDigests {
			var no object
			no.add("name", n.Name)
			no.add("version", n.Version)
			if n.Digest != nil {
				no.add("digest", digestObject(*n.Digest))
			}
			if len(n.Resources) > 0 {
				rds := make([]object, len(n.Resources))
				for j, r := range n.Resources {
					var ro object
					ro.add("name", r.Name)
					ro.add("version", r.Version)
					if len(r.ExtraIdentity) > 0 {
						ro.add("extraIdentity", map[string]string(r.ExtraIdentity))
					}
					ro.add("digest", digestObject(r.Digest))
					rds[j] = ro
				}
				no.add("resourceDigests", rds)
			}
			nds[i] = no
		}
		o.add("nestedDigests", nds)
	}
}

func (e encoder) resources(rs []Resource) []object {
	out := make([]object, len(rs))
	for i, r := range rs {
		out[i] = e.resource(r)
	}
	return out
}

func (e encoder) sources(ss []Source) []object {
	out := make([]object, len(ss))
	for i, s := range ss {
		out[i] = e.source(s)
	}
	return out
}

func (e encoder) references(rs []Reference) []object {
	out := make([]object, len(rs))
	for i, r := range rs {
		out[i] = e.reference(r)
	}
	return out
}

func repositoryContexts(rcs []RepositoryContext) []RepositoryContext {
	if rcs == nil {
		return []RepositoryContext{}
	}
	return rcs
}

// v2 builds the schema v2 document (OCM's versions/v2 ComponentDescriptor).
func (e encoder) v2(d *Descriptor) object {
	var c object
	c.add("name", d.Name)
	c.add("version", d.Version)
	if len(d.Labels) > 0 {
		c.add("labels", e.labels(d.Labels))
	}
	if !d.CreationTime.IsZero() {
		c.add("creationTime", timeValue(d.CreationTime))
	}
	c.add("repositoryContexts", repositoryContexts(d.RepositoryContexts))
	c.add("provider", e.providerString(d.Provider))
	c.add("sources", e.sources(d.Sources))
	c.add("componentReferences", e.references(d.References))
	c.add("resources", e.resources(d.Resources))
	e.addExtras(&c, d.ComponentExtra)

	var o object
	o.add("meta", object{{"schemaVersion", string(SchemeV2)}})
	o.add("component", c)
	e.signatures(&o, d)
	e.addExtras(&o, d.Extra)
	return o
}

// providerString writes a v2 provider: the plain name, or the JSON of
// {name, labels} when there are labels (§1.2).
func (e encoder) providerString(p Provider) any {
	if len(p.Labels) == 0 {
		return p.Name
	}
	return jsonString{object{{"name", p.Name}, {"labels", e.labels(p.Labels)}}}
}

// jsonString marshals its value to JSON and writes that as a JSON string.
type jsonString struct{ v any }

func (s jsonString) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(s.v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

// v3 builds the ocm.software/v3alpha1 document.
func (e encoder) v3(d *Descriptor) object {
	var md, prov, spec object
	md.add("name", d.Name)
	md.add("version", d.Version)
	if len(d.Labels) > 0 {
		md.add("labels", e.labels(d.Labels))
	}
	prov.add("name", d.Provider.Name)
	if len(d.Provider.Labels) > 0 {
		prov.add("labels", e.labels(d.Provider.Labels))
	}
	md.add("provider", prov)
	if !d.CreationTime.IsZero() {
		md.add("creationTime", timeValue(d.CreationTime))
	}
	if len(d.Sources) > 0 {
		spec.add("sources", e.sources(d.Sources))
	}
	if len(d.References) > 0 {
		spec.add("references", e.references(d.References))
	}
	if len(d.Resources) > 0 {
		spec.add("resources", e.resources(d.Resources))
	}

	var o object
	o.add("apiVersion", string(SchemeV3Alpha1))
	o.add("kind", "ComponentVersion")
	o.add("metadata", md)
	o.add("repositoryContexts", repositoryContexts(d.RepositoryContexts))
	o.add("spec", spec)
	e.signatures(&o, d)
	e.addExtras(&o, d.Extra)
	return o
}

// EncodeList writes descriptors as `ocm get componentversions` prints
// them: format "yaml" gives each as a YAML document after a "---" line
// (Encode), "json" an indented {"items": [...]} of EncodeJSON, each in the
// descriptor's own scheme.
func EncodeList(descs []*Descriptor, format string) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "yaml":
		for _, d := range descs {
			b, err := Encode(d, d.SchemeOrDefault())
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&buf, "---\n%s", b)
		}
		return buf.Bytes(), nil
	case "json":
		items := make([]json.RawMessage, 0, len(descs))
		for _, d := range descs {
			b, err := EncodeJSON(d, d.SchemeOrDefault())
			if err != nil {
				return nil, err
			}
			items = append(items, b)
		}
		b, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			return nil, err
		}
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return nil, err
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("encoding descriptors as %q: want yaml or json", format)
}
