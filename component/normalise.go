package component

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Normalise returns the normalised form of d that descriptor digests hash
// (INTEROP §5.4), byte for byte as OCM v1 computes it:
//
//   - jsonNormalisation/v3 (and OCM v2's jsonNormalisation/v4alpha1): the
//     scheme-independent model of §5.4.1 (signing labels only, no access,
//     no repositoryContexts; component reference labels unfiltered, quirk
//     Q1) in RFC 8785 JSON canonical form;
//   - jsonNormalisation/v2: v3 after OCM's legacy extraIdentity defaulting
//     of duplicate resources;
//   - jsonNormalisation/v1: the descriptor in its own scheme, with the same
//     defaulting and OCM's v1 exclusion rules, as sorted single-key entry
//     lists (deprecated; depends on the scheme).
//
// d is not modified.
func Normalise(d *Descriptor, algo string) ([]byte, error) {
	switch algo {
	case JSONNormalisationV3, JSONNormalisationV4Alpha1:
		return jcs(normModel(d, d.Resources))
	case JSONNormalisationV2:
		return jcs(normModel(d, legacyDefaulting(d.Resources)))
	case JSONNormalisationV1:
		return normaliseV1(d, true)
	}
	return nil, fmt.Errorf("normalising descriptor %s:%s: %w: normalisation %q", d.Name, d.Version, ErrUnsupportedAlgorithm, algo)
}

// legacyDefaulting returns a copy of rs in which each resource that has a
// later or earlier twin (same name, equal extraIdentity) gets
// extraIdentity.version set, scanning in order so that of two twins only
// the first changes (§5.4.3).
func legacyDefaulting(rs []Resource) []Resource {
	out := slices.Clone(rs)
	for i := range out {
		for j := range out {
			if i == j || out[i].Name != out[j].Name || !out[i].ExtraIdentity.Equal(out[j].ExtraIdentity) {
				continue
			}
			id := maps.Clone(out[i].ExtraIdentity)
			if id == nil {
				id = Identity{}
			}
			id["version"] = out[i].Version
			out[i].ExtraIdentity = id
			break
		}
	}
	return out
}

// normModel builds the §5.4.1 model.
func normModel(d *Descriptor, resources []Resource) (map[string]any, error) {
	c := map[string]any{
		"name":    d.Name,
		"version": d.Version,
	}
	if !d.CreationTime.IsZero() {
		ts, err := timestamp(d.CreationTime)
		if err != nil {
			return nil, err
		}
		c["creationTime"] = ts
	}
	if l, err := signingLabels(d.Labels); err != nil {
		return nil, err
	} else if len(l) > 0 {
		c["labels"] = l
	}
	prov := map[string]any{"name": d.Provider.Name}
	if l, err := signingLabels(d.Provider.Labels); err != nil {
		return nil, err
	} else if len(l) > 0 {
		prov["labels"] = l
	}
	c["provider"] = prov

	res := []any{}
	for _, r := range resources {
		m := normMeta(r.ElementMeta)
		m["type"] = r.Type
		if r.Relation != "" {
			m["relation"] = r.Relation
		}
		l, err := signingLabels(r.Labels)
		if err != nil {
			return nil, err
		}
		if len(l) > 0 {
			m["labels"] = l
		}
		if r.Digest != nil && !r.Access.IsNone() {
			m["digest"] = normDigest(*r.Digest)
		}
		res = append(res, m)
	}
	c["resources"] = res

	srcs := []any{}
	for _, s := range d.Sources {
		m := normMeta(s.ElementMeta)
		m["type"] = s.Type
		l, err := signingLabels(s.Labels)
		if err != nil {
			return nil, err
		}
		if len(l) > 0 {
			m["labels"] = l
		}
		srcs = append(srcs, m)
	}
	c["sources"] = srcs

	refs := []any{}
	for _, r := range d.References {
		m := normMeta(r.ElementMeta)
		m["componentName"] = r.ComponentName
		if len(r.Labels) > 0 {
			// quirk Q1: reference labels are not filtered
			l, err := allLabels(r.Labels)
			if err != nil {
				return nil, err
			}
			m["labels"] = l
		}
		if r.Digest != nil {
			m["digest"] = normDigest(*r.Digest)
		}
		refs = append(refs, m)
	}
	c["componentReferences"] = refs
	return map[string]any{"component": c}, nil
}

func normMeta(e ElementMeta) map[string]any {
	m := map[string]any{"name": e.Name, "version": e.Version}
	if len(e.ExtraIdentity) > 0 {
		id := map[string]any{}
		for k, v := range e.ExtraIdentity {
			id[k] = v
		}
		m["extraIdentity"] = id
	}
	return m
}

func normDigest(d DigestSpec) map[string]any {
	return map[string]any{"hashAlgorithm": d.HashAlgorithm, "normalisationAlgorithm": d.NormalisationAlgorithm, "value": d.Value}
}

func rawValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	v, err := parseJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("label value: %w", err)
	}
	return v, nil
}

// signingLabels keeps the labels with signing: true, each reduced to name,
// version, value and signing (§5.4.1).
func signingLabels(ls []Label) ([]any, error) {
	var out []any
	for _, l := range ls {
		if !l.Signing {
			continue
		}
		m := map[string]any{"name": l.Name, "signing": true}
		if len(l.Value) > 0 {
			v, err := rawValue(l.Value)
			if err != nil {
				return nil, err
			}
			m["value"] = v
		}
		if l.Version != "" {
			m["version"] = l.Version
		}
		out = append(out, m)
	}
	return out, nil
}

// allLabels renders labels as OCM's label struct does (reference labels).
func allLabels(ls []Label) ([]any, error) {
	out := []any{}
	for _, l := range ls {
		m := map[string]any{"name": l.Name}
		if len(l.Value) > 0 {
			v, err := rawValue(l.Value)
			if err != nil {
				return nil, err
			}
			m["value"] = v
		}
		if l.Version != "" {
			m["version"] = l.Version
		}
		if l.Signing {
			m["signing"] = true
		}
		if l.Merge != nil {
			mm := map[string]any{"algorithm": l.Merge.Algorithm}
			if len(l.Merge.Config) > 0 {
				v, err := rawValue(l.Merge.Config)
				if err != nil {
					return nil, err
				}
				mm["config"] = v
			}
			m["merge"] = mm
		}
		out = append(out, m)
	}
	return out, nil
}

// jcs serialises v with RFC 8785 JSON canonicalisation.
func jcs(v any, err error) ([]byte, error) {
	if err != nil {
		return nil, fmt.Errorf("normalising descriptor: %w", err)
	}
	var b bytes.Buffer
	if err := writeJCS(&b, v); err != nil {
		return nil, fmt.Errorf("normalising descriptor: %w", err)
	}
	return b.Bytes(), nil
}

func writeJCS(b *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeJCSString(b, t)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return fmt.Errorf("number %s: %w", t, err)
		}
		s, err := esNumber(f)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case float64:
		s, err := esNumber(t)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJCS(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := slices.Collect(maps.Keys(t))
		slices.SortFunc(keys, compareUTF16)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJCSString(b, k)
			b.WriteByte(':')
			if err := writeJCS(b, t[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot canonicalise %T", v)
	}
	return nil
}

// compareUTF16 orders strings by their UTF-16 code units (RFC 8785 §3.2.3).
func compareUTF16(a, b string) int {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	return slices.Compare(ua, ub)
}

func writeJCSString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		case r == utf8.RuneError && size == 1:
			b.WriteString("\ufffd")
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// esNumber formats f as ECMAScript's Number.prototype.toString does
// (RFC 8785 §3.2.2.3).
func esNumber(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("number %v cannot be canonicalised", f)
	}
	if f == 0 {
		return "0", nil
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// Go writes e-07 / e+21; ECMAScript writes e-7 / e+21
	if i := bytes.IndexByte([]byte(s), 'e'); i >= 0 && len(s) > i+3 && s[i+2] == '0' {
		s = s[:i+2] + s[i+3:]
	}
	return s, nil
}
