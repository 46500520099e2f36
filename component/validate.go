package component

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ErrInvalid: the descriptor breaks the schema or OCM's semantic rules.
// Every *ValidationError wraps it.
var ErrInvalid = errors.New("invalid component descriptor")

// ValidationError is one rule a descriptor breaks, at one field.
type ValidationError struct {
	// Path names the field as written in the descriptor's scheme, e.g.
	// component.resources[2].name (v2) or spec.resources[2].name (v3alpha1).
	Path string
	// Rule says what the value broke, e.g. "duplicate resource identity".
	Rule string

	nullBranch bool // a schema "want null" alternative; hidden when others exist
}

func (e *ValidationError) Error() string { return e.Path + ": " + e.Rule }

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// ValidationErrors is every problem found in one descriptor, in document
// order. errors.As finds it, and each element, through a Decode error.
type ValidationErrors []*ValidationError

func (l ValidationErrors) Error() string {
	switch len(l) {
	case 0:
		return ErrInvalid.Error()
	case 1:
		return l[0].Error()
	}
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("%d problems: %s", len(l), strings.Join(parts, "; "))
}

// Unwrap returns the single errors, so errors.Is(err, ErrInvalid) and
// errors.As(err, **ValidationError) work.
func (l ValidationErrors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Patterns of the official schemas (§1.2), checked again on descriptors
// built in code.
var (
	componentNameRE = regexp.MustCompile(`^[a-z][-a-z0-9]*([.][a-z][-a-z0-9]*)*[.][a-z]{2,}(/[a-z][-a-z0-9_]*([.][a-z][-a-z0-9_]*)*)+$`)
	relaxedSemverRE = regexp.MustCompile(`^[v]?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
	identityKeyRE   = regexp.MustCompile(`^[a-z0-9]([-_+a-z0-9]*[a-z0-9])?$`)
	labelVersionRE  = regexp.MustCompile(`^v[0-9]+$`)
)

// IsVersion reports whether v is a version in OCM's relaxed semver (the
// relaxedSemver pattern): an optional 'v', optional minor and patch,
// SemVer 2.0 pre-release and build metadata.
func IsVersion(v string) bool { return relaxedSemverRE.MatchString(v) }

// VersionParts splits a relaxed semver version into major, minor, patch,
// pre-release and build metadata, each "" when absent; ok is false when v
// is not one.
func VersionParts(v string) (parts [5]string, ok bool) {
	m := relaxedSemverRE.FindStringSubmatch(v)
	if m == nil {
		return parts, false
	}
	copy(parts[:], m[1:])
	return parts, true
}

// paths maps model locations to field paths of one scheme.
type paths struct{ v3 bool }

func (p paths) component(field string) string {
	if !p.v3 {
		return "component." + field
	}
	switch field {
	case "name", "version", "labels", "provider", "creationTime":
		return "metadata." + field
	case "componentReferences":
		return "spec.references"
	case "repositoryContexts":
		return "repositoryContexts"
	}
	return "spec." + field
}

func (p paths) providerLabels() string {
	if p.v3 {
		return "metadata.provider.labels"
	}
	return "component.provider(labels)"
}

func (p paths) provider() string {
	if p.v3 {
		return "metadata.provider.name"
	}
	return "component.provider"
}

// Validate checks d against OCM's rules (§1.2, §1.4): component name and
// version patterns, provider set, element names, versions, types,
// relations and extraIdentity keys, unique identities per kind, unique
// label names. It returns nil or ValidationErrors with paths in d's scheme.
func Validate(d *Descriptor) error {
	var l ValidationErrors
	p := paths{v3: d.SchemeOrDefault() == SchemeV3Alpha1}
	add := func(path, rule string) { l = append(l, &ValidationError{Path: path, Rule: rule}) }

	switch {
	case d.Name == "":
		add(p.component("name"), "must be set")
	case len(d.Name) > 255:
		add(p.component("name"), "longer than 255 characters")
	case !componentNameRE.MatchString(d.Name):
		add(p.component("name"), "must be a lower-case DNS domain followed by a path (componentName pattern)")
	}
	checkVersion(p.component("version"), d.Version, add)
	if d.Provider.Name == "" {
		add(p.provider(), "provider must be set")
	}
	checkLabels(p.component("labels"), d.Labels, add)
	checkLabels(p.providerLabels(), d.Provider.Labels, add)
	for i, rc := range d.RepositoryContexts {
		if rc.Type == "" {
			add(fmt.Sprintf("%s[%d].type", p.component("repositoryContexts"), i), "must be set")
		}
	}

	checkElements(p.component("sources"), sourceMetas(d.Sources), "source", add)
	for i, s := range d.Sources {
		base := fmt.Sprintf("%s[%d]", p.component("sources"), i)
		if s.Type == "" {
			add(base+".type", "must be set")
		}
		if s.Access.Type == "" {
			add(base+".access.type", "must be set")
		}
	}

	checkElements(p.component("componentReferences"), referenceMetas(d.References), "component reference", add)
	for i, r := range d.References {
		base := fmt.Sprintf("%s[%d]", p.component("componentReferences"), i)
		switch {
		case r.ComponentName == "":
			add(base+".componentName", "must be set")
		case len(r.ComponentName) > 255 || !componentNameRE.MatchString(r.ComponentName):
			add(base+".componentName", "must be a lower-case DNS domain followed by a path (componentName pattern)")
		}
		checkDigest(base+".digest", r.Digest, add)
	}

	checkElements(p.component("resources"), resourceMetas(d.Resources), "resource", add)
	for i, r := range d.Resources {
		base := fmt.Sprintf("%s[%d]", p.component("resources"), i)
		if r.Type == "" {
			add(base+".type", "must be set")
		}
		if r.Relation != RelationLocal && r.Relation != RelationExternal {
			add(base+".relation", fmt.Sprintf("must be %q or %q", RelationLocal, RelationExternal))
		}
		if r.Access.Type == "" {
			add(base+".access.type", "must be set")
		}
		for j, sr := range r.SourceRefs {
			checkLabels(fmt.Sprintf("%s.srcRefs[%d].labels", base, j), sr.Labels, add)
		}
		checkDigest(base+".digest", r.Digest, add)
	}

	names := map[string]bool{}
	for i, s := range d.Signatures {
		base := fmt.Sprintf("signatures[%d]", i)
		if s.Name == "" {
			add(base+".name", "must be set")
		} else if names[s.Name] {
			add(base+".name", fmt.Sprintf("duplicate signature name %q", s.Name))
		}
		names[s.Name] = true
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

func checkVersion(path, v string, add func(string, string)) {
	if v == "" {
		add(path, "must be set")
	} else if !relaxedSemverRE.MatchString(v) {
		add(path, "must be a relaxed semantic version (relaxedSemver pattern)")
	}
}

func checkDigest(path string, d *DigestSpec, add func(string, string)) {
	if d == nil {
		return
	}
	if d.HashAlgorithm == "" || d.NormalisationAlgorithm == "" || d.Value == "" {
		add(path, "hashAlgorithm, normalisationAlgorithm and value must all be set")
	}
}

func checkLabels(path string, labels []Label, add func(string, string)) {
	seen := map[string]bool{}
	for i, lb := range labels {
		base := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case lb.Name == "":
			add(base+".name", "must be set")
		case seen[lb.Name]:
			add(base+".name", fmt.Sprintf("duplicate label name %q", lb.Name))
		}
		seen[lb.Name] = true
		if len(lb.Value) == 0 {
			add(base+".value", "must be set")
		}
		if lb.Version != "" && !labelVersionRE.MatchString(lb.Version) {
			add(base+".version", "must match ^v[0-9]+$")
		}
	}
}

// checkElements checks the element metadata of one kind and the uniqueness
// of their identities.
func checkElements(path string, elems []ElementMeta, what string, add func(string, string)) {
	seen := map[string]bool{}
	ids := identities(elems)
	for i, e := range elems {
		base := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case e.Name == "":
			add(base+".name", "must be set")
		case len(e.Name) < 2 || !identityKeyRE.MatchString(e.Name):
			add(base+".name", "must be an identity attribute key (^[a-z0-9]([-_+a-z0-9]*[a-z0-9])?$, at least 2 characters)")
		}
		checkVersion(base+".version", e.Version, add)
		for _, k := range slices.Sorted(maps.Keys(e.ExtraIdentity)) {
			switch {
			case k == "name":
				add(base+".extraIdentity.name", "extraIdentity must not contain \"name\"")
			case len(k) < 2 || !identityKeyRE.MatchString(k):
				add(base+".extraIdentity."+k, "key must be an identity attribute key (^[a-z0-9]([-_+a-z0-9]*[a-z0-9])?$, at least 2 characters)")
			}
		}
		checkLabels(base+".labels", e.Labels, add)
		id := ids[i].String()
		if seen[id] {
			add(base, fmt.Sprintf("duplicate %s identity %s", what, id))
		}
		seen[id] = true
	}
}
