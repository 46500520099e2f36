package component

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// normaliseV1 implements jsonNormalisation/v1 (§5.4.4): the descriptor in
// its stored scheme (OCM's Go structs, unknown fields gone), legacy
// extraIdentity defaulting, OCM's exclusion rules, then every object turned
// into a key-sorted list of single-member objects, written by Go's JSON
// encoder without HTML escaping.
//
// enforceNull selects current OCM (schema v2 resources and references get
// "extraIdentity": null when they have none); false gives the pre-OCM
// gardener component-cli flavour, which older signatures were made with.
func normaliseV1(d *Descriptor, enforceNull bool) ([]byte, error) {
	dd := *d
	dd.Resources = legacyDefaulting(d.Resources)
	scheme := d.SchemeOrDefault()
	var o object
	if scheme == SchemeV3Alpha1 {
		o = encoder{closed: true}.v3(&dd)
	} else {
		o = encoder{}.v2(&dd)
	}
	j, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("normalising descriptor %s:%s: %w", d.Name, d.Version, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(j, &doc); err != nil {
		return nil, fmt.Errorf("normalising descriptor %s:%s: %w", d.Name, d.Version, err)
	}
	if scheme == SchemeV3Alpha1 {
		v1RulesV3(doc)
	} else {
		v1RulesV2(doc, enforceNull)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entries(doc)); err != nil {
		return nil, fmt.Errorf("normalising descriptor %s:%s: %w", d.Name, d.Version, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func v1RulesV2(doc map[string]any, enforceNull bool) {
	delete(doc, "signatures")
	delete(doc, "nestedDigests")
	c, _ := doc["component"].(map[string]any)
	if c == nil {
		return
	}
	delete(c, "repositoryContexts")
	delete(c, "sources")
	filterLabelsAt(c)
	if s, ok := c["provider"].(string); ok {
		var p map[string]any
		if json.Unmarshal([]byte(s), &p) == nil && p != nil {
			filterLabelsAt(p)
			c["provider"] = p
		}
	}
	for _, key := range []string{"resources", "componentReferences"} {
		list, _ := c[key].([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			if m == nil {
				continue
			}
			if key == "resources" {
				dropNoneDigest(m)
				delete(m, "access")
				delete(m, "srcRefs")
			}
			filterLabelsAt(m)
			if _, ok := m["extraIdentity"]; !ok && enforceNull {
				m["extraIdentity"] = nil
			}
		}
	}
}

func v1RulesV3(doc map[string]any) {
	delete(doc, "repositoryContexts")
	delete(doc, "signatures")
	delete(doc, "nestedDigests")
	if md, _ := doc["metadata"].(map[string]any); md != nil {
		filterLabelsAt(md) // provider labels stay: OCM's rule for them is keyed under spec
	}
	spec, _ := doc["spec"].(map[string]any)
	if spec == nil {
		return
	}
	for _, key := range []string{"resources", "sources", "references"} {
		list, _ := spec[key].([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			if m == nil {
				continue
			}
			if key == "resources" {
				dropNoneDigest(m)
				delete(m, "srcRefs")
			}
			if key != "references" {
				delete(m, "access")
			}
			filterLabelsAt(m)
		}
	}
}

func dropNoneDigest(m map[string]any) {
	if a, _ := m["access"].(map[string]any); a != nil {
		if t, _ := a["type"].(string); (Access{Type: t}).IsNone() {
			delete(m, "digest")
		}
	}
}

// filterLabelsAt applies OCM's label rule to m["labels"]: keep labels with
// signing true (or "true"), each reduced to name, version, value, signing;
// drop the key when none is left.
func filterLabelsAt(m map[string]any) {
	list, ok := m["labels"].([]any)
	if !ok {
		return
	}
	var kept []any
	for _, e := range list {
		l, _ := e.(map[string]any)
		if l == nil || !(l["signing"] == true || l["signing"] == "true") {
			continue
		}
		r := map[string]any{}
		for _, k := range []string{"name", "version", "value", "signing"} {
			if v, ok := l[k]; ok {
				r[k] = v
			}
		}
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		delete(m, "labels")
		return
	}
	m["labels"] = kept
}

// entries turns every object into a list of single-member objects sorted
// by key, recursively.
func entries(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make([]any, 0, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = append(out, map[string]any{k: entries(t[k])})
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = entries(e)
		}
		return out
	}
	return v
}
