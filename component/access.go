package component

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Access is an access specification (INTEROP §1.6): a type plus
// type-specific fields. It stays generic so that access types ferry does not
// know survive a round trip; the typed helpers below read and build the ones
// ferry uses.
type Access struct {
	// Type as written, e.g. "ociArtifact", "localBlob/v1", "OCIImage".
	Type string
	// Fields holds every member except "type", as compact JSON.
	Fields Fields
}

// Access kinds: the spelling OCM v1 writes for each access type ferry knows.
const (
	AccessOCIArtifact          = "ociArtifact"
	AccessLocalBlob            = "localBlob"
	AccessRelativeOCIReference = "relativeOciReference"
	AccessOCIBlob              = "ociBlob"
	AccessHelm                 = "helm"
	AccessNone                 = "none"
	AccessLocalFilesystemBlob  = "localFilesystemBlob"
)

// accessAliases maps every accepted spelling (the part before "/") to the
// kind OCM v1 writes (§1.6).
var accessAliases = map[string]string{
	"ociArtifact": AccessOCIArtifact, "ociRegistry": AccessOCIArtifact, "ociImage": AccessOCIArtifact, "OCIImage": AccessOCIArtifact,
	"localBlob": AccessLocalBlob, "LocalBlob": AccessLocalBlob,
	"relativeOciReference": AccessRelativeOCIReference,
	"ociBlob":              AccessOCIBlob, "OCIImageLayer": AccessOCIBlob,
	"helm": AccessHelm, "Helm": AccessHelm,
	"none": AccessNone, "None": AccessNone,
	"localFilesystemBlob": AccessLocalFilesystemBlob,
}

// Kind returns the canonical kind of the access type: the OCM v1 spelling
// for every alias of a known type (ociRegistry/v1 → ociArtifact), otherwise
// the name part of Type without its version.
func (a Access) Kind() string {
	name, _, _ := strings.Cut(a.Type, "/")
	if k, ok := accessAliases[name]; ok {
		return k
	}
	return name
}

// IsNone reports whether the access is the "no access" type, whose resource
// digest is dropped (§5.2).
func (a Access) IsNone() bool { return a.Kind() == AccessNone }

// Decode unmarshals the access fields (and type) into v, a pointer to one of
// the typed specs below or any struct with JSON tags.
func (a Access) Decode(v any) error {
	data, err := json.Marshal(typedObject(a.Type, a.Fields))
	if err != nil {
		return fmt.Errorf("decoding access %s: %w", a.Type, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding access %s: %w", a.Type, err)
	}
	return nil
}

// MarshalJSON writes the access as one JSON object with sorted keys, the way
// OCM writes an untyped access.
func (a Access) MarshalJSON() ([]byte, error) {
	return json.Marshal(typedObject(a.Type, a.Fields))
}

// UnmarshalJSON reads an access object; it needs a string "type".
func (a *Access) UnmarshalJSON(data []byte) error {
	t, f, err := splitTyped(data)
	if err != nil {
		return fmt.Errorf("access: %w", err)
	}
	a.Type, a.Fields = t, f
	return nil
}

// NewAccess builds an Access from a typed spec (or any JSON-marshalable
// value with a string "type" member).
func NewAccess(spec any) (Access, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return Access{}, fmt.Errorf("encoding access: %w", err)
	}
	var a Access
	if err := a.UnmarshalJSON(data); err != nil {
		return Access{}, err
	}
	return a, nil
}

func typedObject(typ string, fields Fields) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(fields)+1)
	for k, v := range fields {
		m[k] = v
	}
	t, _ := json.Marshal(typ)
	m["type"] = t
	return m
}

// splitTyped splits a JSON object into its "type" string and the other
// members, compacted.
func splitTyped(data []byte) (string, Fields, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", nil, err
	}
	var typ string
	raw, ok := m["type"]
	if !ok {
		return "", nil, fmt.Errorf("missing type")
	}
	if err := json.Unmarshal(raw, &typ); err != nil {
		return "", nil, fmt.Errorf("type is not a string")
	}
	delete(m, "type")
	var f Fields
	for k, v := range m {
		c, err := compactJSON(v)
		if err != nil {
			return "", nil, err
		}
		if f == nil {
			f = Fields{}
		}
		f[k] = c
	}
	return typ, f, nil
}

func (a Access) checkKind(kind string) error {
	if a.Kind() != kind {
		return fmt.Errorf("access type %q is not %s", a.Type, kind)
	}
	return nil
}

// OCIArtifactAccess is an image or other OCI artifact in a registry
// (ociArtifact, alias OCIImage, ociRegistry, ociImage).
type OCIArtifactAccess struct {
	Type string `json:"type"`
	// ImageReference is [host[:port]/]repo[:tag][@digest].
	ImageReference string `json:"imageReference"`
}

// OCIArtifact returns the access as an OCIArtifactAccess; it fails for any
// other access type.
func (a Access) OCIArtifact() (OCIArtifactAccess, error) {
	var s OCIArtifactAccess
	if err := a.checkKind(AccessOCIArtifact); err != nil {
		return s, err
	}
	return s, a.Decode(&s)
}

// NewOCIArtifactAccess returns an ociArtifact access for ref, spelled as OCM
// v1 writes it.
func NewOCIArtifactAccess(imageReference string) Access {
	a, _ := NewAccess(OCIArtifactAccess{Type: AccessOCIArtifact, ImageReference: imageReference})
	return a
}

// LocalBlobAccess is a blob stored with the component version (localBlob).
type LocalBlobAccess struct {
	Type string `json:"type"`
	// LocalReference is the blob digest (sha256:…) in an OCI registry or
	// CTF, the blob file name in a component archive.
	LocalReference string `json:"localReference"`
	MediaType      string `json:"mediaType"`
	// ReferenceName is the hint for the artifact's name when it is an OCI
	// artifact stored by value (§4.2).
	ReferenceName string `json:"referenceName,omitempty"`
	// GlobalAccess is an optional access to the same blob from outside.
	GlobalAccess *Access `json:"globalAccess,omitempty"`
}

// LocalBlob returns the access as a LocalBlobAccess.
func (a Access) LocalBlob() (LocalBlobAccess, error) {
	var s LocalBlobAccess
	if err := a.checkKind(AccessLocalBlob); err != nil {
		return s, err
	}
	return s, a.Decode(&s)
}

// RelativeOCIReferenceAccess is an OCI artifact in the registry that holds
// the component version (relativeOciReference).
type RelativeOCIReferenceAccess struct {
	Type string `json:"type"`
	// Reference is repo[:tag][@digest] without a host.
	Reference string `json:"reference"`
}

// RelativeOCIReference returns the access as a RelativeOCIReferenceAccess.
func (a Access) RelativeOCIReference() (RelativeOCIReferenceAccess, error) {
	var s RelativeOCIReferenceAccess
	if err := a.checkKind(AccessRelativeOCIReference); err != nil {
		return s, err
	}
	return s, a.Decode(&s)
}

// OCIBlobAccess is a single blob in an OCI repository (ociBlob).
type OCIBlobAccess struct {
	Type string `json:"type"`
	// Ref is the repository (OCM's wire name is "ref", §8.5).
	Ref       string `json:"ref"`
	MediaType string `json:"mediaType,omitempty"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size,omitempty"`
}

// OCIBlob returns the access as an OCIBlobAccess.
func (a Access) OCIBlob() (OCIBlobAccess, error) {
	var s OCIBlobAccess
	if err := a.checkKind(AccessOCIBlob); err != nil {
		return s, err
	}
	return s, a.Decode(&s)
}

// HelmAccess is a chart in a Helm repository (helm).
type HelmAccess struct {
	Type           string `json:"type"`
	HelmRepository string `json:"helmRepository"`
	HelmChart      string `json:"helmChart"` // name:version
	Version        string `json:"version,omitempty"`
	CACert         string `json:"caCert,omitempty"`
	Keyring        string `json:"keyring,omitempty"`
}

// Helm returns the access as a HelmAccess.
func (a Access) Helm() (HelmAccess, error) {
	var s HelmAccess
	if err := a.checkKind(AccessHelm); err != nil {
		return s, err
	}
	return s, a.Decode(&s)
}

// MarshalJSON writes the repository context as one object with sorted keys.
func (r RepositoryContext) MarshalJSON() ([]byte, error) {
	return json.Marshal(typedObject(r.Type, r.Fields))
}

// UnmarshalJSON reads a repository context; it needs a string "type".
func (r *RepositoryContext) UnmarshalJSON(data []byte) error {
	t, f, err := splitTyped(data)
	if err != nil {
		return fmt.Errorf("repository context: %w", err)
	}
	r.Type, r.Fields = t, f
	return nil
}
