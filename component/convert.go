package component

import "fmt"

// Convert returns a deep copy of d set to scheme, so that Encode writes it
// in that scheme by default (INTEROP §1.3). The model is the same for both
// schemes; what changes on the wire is the layout: v2 keeps everything
// under `component` and writes the provider as a string (a JSON document
// when it has labels) and empty lists as []; v3alpha1 splits metadata,
// top-level repositoryContexts and spec, names references
// `spec.references`, writes the provider as an object and omits empty spec
// lists. Unknown members of a v2 `component` object and of labels have no
// place in v3alpha1 (its schema closes them) and are dropped.
func Convert(d *Descriptor, scheme Scheme) (*Descriptor, error) {
	if scheme != SchemeV2 && scheme != SchemeV3Alpha1 {
		return nil, fmt.Errorf("converting descriptor %s:%s: %w: %q", d.Name, d.Version, ErrUnsupportedScheme, scheme)
	}
	c, err := d.Clone()
	if err != nil {
		return nil, err
	}
	c.Scheme = scheme
	if scheme == SchemeV3Alpha1 {
		c.ComponentExtra = nil
		forEachLabels(c, func(ls []Label) {
			for i := range ls {
				ls[i].Extra = nil
			}
		})
	}
	return c, nil
}

// forEachLabels calls f with every label list of d.
func forEachLabels(d *Descriptor, f func([]Label)) {
	f(d.Labels)
	f(d.Provider.Labels)
	for _, r := range d.Resources {
		f(r.Labels)
		for _, s := range r.SourceRefs {
			f(s.Labels)
		}
	}
	for _, s := range d.Sources {
		f(s.Labels)
	}
	for _, r := range d.References {
		f(r.Labels)
	}
}

// Clone returns a deep copy of d. It does not validate.
func (d *Descriptor) Clone() (*Descriptor, error) {
	scheme := d.SchemeOrDefault()
	j, err := EncodeJSON(d, scheme)
	if err != nil {
		return nil, fmt.Errorf("copying descriptor: %w", err)
	}
	doc, err := parseJSON(j)
	if err != nil {
		return nil, fmt.Errorf("copying descriptor: %w", err)
	}
	top, _ := doc.(map[string]any)
	var r reader
	var c *Descriptor
	if scheme == SchemeV3Alpha1 {
		c = r.v3(top)
	} else {
		c = r.v2(top)
	}
	if len(r.errs) > 0 {
		return nil, fmt.Errorf("copying descriptor: %w", r.errs)
	}
	// keep nil-versus-empty lists as they were
	if d.RepositoryContexts != nil && c.RepositoryContexts == nil {
		c.RepositoryContexts = []RepositoryContext{}
	}
	if d.Sources != nil && c.Sources == nil {
		c.Sources = []Source{}
	}
	if d.References != nil && c.References == nil {
		c.References = []Reference{}
	}
	if d.Resources != nil && c.Resources == nil {
		c.Resources = []Resource{}
	}
	if d.Scheme == "" {
		c.Scheme = ""
	}
	return c, nil
}
