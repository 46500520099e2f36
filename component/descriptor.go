package component

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Scheme is the serialisation scheme of a descriptor (INTEROP §1.1).
type Scheme string

// The schemes ferry reads and writes.
const (
	// SchemeV2 is `meta.schemaVersion: v2`, OCM v1's default.
	SchemeV2 Scheme = "v2"
	// SchemeV3Alpha1 is `apiVersion: ocm.software/v3alpha1, kind: ComponentVersion`.
	SchemeV3Alpha1 Scheme = "ocm.software/v3alpha1"
)

// Relations of a resource to its component.
const (
	RelationLocal    = "local"
	RelationExternal = "external"
)

// Fields holds JSON members ferry does not model, by name, each as compact
// JSON. It carries unknown fields through a decode/encode round trip.
type Fields map[string]json.RawMessage

// Descriptor is a component version's descriptor in a scheme-independent
// form that represents both schema v2 and ocm.software/v3alpha1.
type Descriptor struct {
	// Scheme is the scheme the descriptor was decoded from; Encode uses it
	// when asked for no particular scheme. Empty means SchemeV2.
	Scheme Scheme

	Name     string // component name, e.g. example.com/podinfo
	Version  string // component version, relaxed semver
	Provider Provider
	Labels   []Label
	// CreationTime is in UTC, rounded to whole seconds as OCM does
	// (§5.4.1); the zero time means unset.
	CreationTime time.Time

	RepositoryContexts []RepositoryContext
	Sources            []Source
	References         []Reference // v2 componentReferences, v3alpha1 spec.references
	Resources          []Resource

	Signatures    []Signature
	NestedDigests []NestedDigest

	// Extra holds unknown top-level members.
	Extra Fields
	// ComponentExtra holds unknown members of a v2 `component` object. The
	// v3alpha1 schema has no place for them: encoding as v3alpha1 drops them.
	ComponentExtra Fields
}

// Provider is the component's provider. Schema v2 writes it as a plain
// string, or as a JSON document in a string when it has labels.
type Provider struct {
	Name   string
	Labels []Label
}

// Label is a named value attached to a component, provider or element.
type Label struct {
	Name string
	// Value is the label value as compact JSON (any JSON value).
	Value json.RawMessage
	// Version is the optional version of the value's format (^v[0-9]+$).
	Version string
	// Signing says the label is part of the descriptor digest.
	Signing bool
	// Merge optionally names the merge algorithm used during transfers.
	Merge *MergeSpec
	// Extra holds unknown members (schema v2 allows them).
	Extra Fields
}

// MergeSpec is a label's merge algorithm and its configuration.
type MergeSpec struct {
	Algorithm string
	Config    json.RawMessage // compact JSON; nil when unset
}

// Identity is an element identity or an extraIdentity: attribute → value.
type Identity map[string]string

// ElementMeta is what resources, sources and references share.
type ElementMeta struct {
	Name          string
	Version       string
	ExtraIdentity Identity
	Labels        []Label
}

// Resource is an artifact delivered with the component.
type Resource struct {
	ElementMeta
	Type       string      // artifact type, e.g. ociImage, helmChart, directoryTree
	Relation   string      // RelationLocal or RelationExternal
	SourceRefs []SourceRef // sources the resource was built from
	Access     Access
	// Digest is the resource digest (§5.2); nil when not computed yet.
	Digest *DigestSpec
	// Extra holds unknown members.
	Extra Fields
}

// Source is a source the component was built from.
type Source struct {
	ElementMeta
	Type   string
	Access Access
	Extra  Fields
}

// Reference is a reference to another component version.
type Reference struct {
	ElementMeta
	ComponentName string
	// Digest is the referenced descriptor's digest (§5.3); nil when unset.
	Digest *DigestSpec
}

// SourceRef points a resource at one of the component's sources.
type SourceRef struct {
	IdentitySelector map[string]string
	Labels           []Label
}

// RepositoryContext is a repository the component version was stored in:
// a type plus type-specific fields.
type RepositoryContext struct {
	Type   string
	Fields Fields // every member except "type"
}

// Signature is one named signature of the descriptor (§1.7, §5.5).
type Signature struct {
	Name      string         `json:"name"`
	Digest    DigestSpec     `json:"digest"`
	Signature SignatureSpec  `json:"signature"`
	Timestamp *TimestampSpec `json:"timestamp,omitempty"`
}

// SignatureSpec is the signature value and how it was made.
type SignatureSpec struct {
	Algorithm string `json:"algorithm"` // RSASSA-PKCS1-V1_5, RSASSA-PSS, sigstore, ...
	Value     string `json:"value"`     // lowercase hex for RSA; PEM for application/x-pem-file
	MediaType string `json:"mediaType"`
	Issuer    string `json:"issuer,omitempty"` // optional
}

// TimestampSpec is an RFC 3161 timestamp of a signature.
type TimestampSpec struct {
	Value string    `json:"value"`         // PEM-encoded TSA token
	Time  time.Time `json:"time,omitzero"` // zero when unset
}

// NestedDigest records the digests of a component version in the closure
// of a descriptor signed in "top" digest mode (§5.3).
type NestedDigest struct {
	Name      string
	Version   string
	Digest    *DigestSpec
	Resources []ResourceDigest
}

// ResourceDigest is one resource digest inside a NestedDigest.
type ResourceDigest struct {
	Name          string
	Version       string
	ExtraIdentity Identity
	Digest        DigestSpec
}

// Equal reports whether two identities hold the same attributes; nil and
// empty are equal.
func (id Identity) Equal(o Identity) bool {
	return maps.Equal(id, o)
}

// String renders the identity with sorted keys, like "name"="image","os"="linux".
func (id Identity) String() string {
	var b bytes.Buffer
	for i, k := range slices.Sorted(maps.Keys(id)) {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(id[k])
		b.Write(kb)
		b.WriteByte('=')
		b.Write(vb)
	}
	return b.String()
}

// identities computes the identity of every element of elems (§1.4):
// extraIdentity plus name, plus version when another element has the same
// name and an equal extraIdentity. It takes one pass over elems, so that a
// version of thousands of resources costs no more per resource than one of
// ten.
func identities(elems []ElementMeta) []Identity {
	keys := make([]string, len(elems))
	count := make(map[string]int, len(elems))
	for i, e := range elems {
		// Quoting the name keeps the key unambiguous: a quoted string holds no
		// raw NUL. Nil and empty extraIdentities are equal, and both render "".
		keys[i] = strconv.Quote(e.Name) + "\x00" + e.ExtraIdentity.String()
		count[keys[i]]++
	}
	out := make([]Identity, len(elems))
	for i, e := range elems {
		id := make(Identity, len(e.ExtraIdentity)+2)
		maps.Copy(id, e.ExtraIdentity)
		id["name"] = e.Name
		if count[keys[i]] > 1 {
			id["version"] = e.Version
		}
		out[i] = id
	}
	return out
}

func resourceMetas(rs []Resource) []ElementMeta {
	out := make([]ElementMeta, len(rs))
	for i := range rs {
		out[i] = rs[i].ElementMeta
	}
	return out
}

func sourceMetas(ss []Source) []ElementMeta {
	out := make([]ElementMeta, len(ss))
	for i := range ss {
		out[i] = ss[i].ElementMeta
	}
	return out
}

func referenceMetas(rs []Reference) []ElementMeta {
	out := make([]ElementMeta, len(rs))
	for i := range rs {
		out[i] = rs[i].ElementMeta
	}
	return out
}

// ResourceIdentities returns the identity of every resource of d (§1.4), in
// order. Use it rather than ResourceIdentity in a loop over the resources.
func (d *Descriptor) ResourceIdentities() []Identity { return identities(resourceMetas(d.Resources)) }

// SourceIdentities returns the identity of every source of d, in order.
func (d *Descriptor) SourceIdentities() []Identity { return identities(sourceMetas(d.Sources)) }

// ResourceIdentity returns the identity of d.Resources[i] (§1.4); i must
// be a valid index.
func (d *Descriptor) ResourceIdentity(i int) Identity { return d.ResourceIdentities()[i] }

// SourceIdentity returns the identity of d.Sources[i] (§1.4).
func (d *Descriptor) SourceIdentity(i int) Identity { return d.SourceIdentities()[i] }

// ReferenceIdentities returns the identity of every component reference of
// d, in order.
func (d *Descriptor) ReferenceIdentities() []Identity {
	return identities(referenceMetas(d.References))
}

// ReferenceIdentity returns the identity of d.References[i] (§1.4).
func (d *Descriptor) ReferenceIdentity(i int) Identity { return d.ReferenceIdentities()[i] }

// ResourceIndex returns the index of the resource whose identity is exactly
// id, or -1. Like OCM, {name: image} does not match a resource that also has
// an extraIdentity. To look up many, use ResourceLookup.
func (d *Descriptor) ResourceIndex(id Identity) int { return d.ResourceLookup()(id) }

// ResourceLookup returns a function that does what ResourceIndex does, for
// the resources d has now, with the identities computed once.
func (d *Descriptor) ResourceLookup() func(Identity) int {
	index := make(map[string]int, len(d.Resources))
	for i, id := range d.ResourceIdentities() {
		k := id.String()
		if _, dup := index[k]; !dup { // a duplicate identity is invalid; ResourceIndex answers the first
			index[k] = i
		}
	}
	return func(id Identity) int {
		if i, ok := index[id.String()]; ok {
			return i
		}
		return -1
	}
}

// SignatureIndex returns the index of the signature called name, or -1.
func (d *Descriptor) SignatureIndex(name string) int {
	for i, s := range d.Signatures {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// SchemeOrDefault returns d.Scheme, or SchemeV2 when it is empty.
func (d *Descriptor) SchemeOrDefault() Scheme {
	if d.Scheme == "" {
		return SchemeV2
	}
	return d.Scheme
}
