package component

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// EncodeJSONOCMv2 writes d (scheme v2) as compact JSON the way the OCM v2
// CLI stores a descriptor layer (application/vnd.ocm.software.component-
// descriptor.v2+json): the members of every object sorted by name, and
// empty lists written as null ("sources":null). For a descriptor the OCM
// v2 CLI wrote, the bytes are the ones it stored.
func EncodeJSONOCMv2(d *Descriptor) ([]byte, error) {
	b, err := EncodeJSON(d, SchemeV2)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("encoding descriptor %s:%s for OCM v2: %w", d.Name, d.Version, err)
	}
	out, err := json.Marshal(nullEmptyLists(v))
	if err != nil {
		return nil, fmt.Errorf("encoding descriptor %s:%s for OCM v2: %w", d.Name, d.Version, err)
	}
	return out, nil
}

// nullEmptyLists replaces every empty list below v with null, as Go writes
// a nil slice; encoding/json writes map members sorted.
func nullEmptyLists(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = nullEmptyLists(e)
		}
	case []any:
		if len(t) == 0 {
			return nil
		}
		for i, e := range t {
			t[i] = nullEmptyLists(e)
		}
	}
	return v
}
