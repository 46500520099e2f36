package construct

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-oci/ferry/component"
)

// ErrInvalid: the constructor breaks the format (unknown field, wrong type,
// missing value, conflicting fields). Every *Error from Parse wraps it.
var ErrInvalid = errors.New("invalid component constructor")

// ErrUndefinedVariable: the constructor uses ${NAME} and no value was given
// for NAME (OCM would silently substitute an empty string).
var ErrUndefinedVariable = errors.New("undefined variable")

// ErrUnsupportedInput: an input type ferry does not build (helm,
// ociArtifact, docker, git, maven, npm, wget, spiff, ocm).
var ErrUnsupportedInput = errors.New("unsupported input type")

// Error is a problem at one place of a constructor file.
type Error struct {
	File string // the constructor file as ParseOptions.File names it; "" when unnamed
	Line int    // 1-based line in the (substituted) text; 0 when unknown
	Path string // field path, e.g. components[0].resources[1].input.path; "" for the whole file
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause: ErrInvalid, ErrUndefinedVariable, a file system
// error, a *component.ValidationError, ….
func (e *Error) Unwrap() error { return e.Err }

// Spec is one component version as a constructor describes it, after
// parsing and defaulting, before any input is read.
type Spec struct {
	// File and Dir: the constructor file (for errors) and the directory
	// input paths are relative to.
	File, Dir string
	// Path is where the component sits in the file: "" for a single
	// component, "components[2]" in a list.
	Path string
	Line int

	Name     string
	Version  string
	Provider component.Provider
	Labels   []component.Label
	// CreationTime, when the constructor sets it, is used as is (UTC, whole
	// seconds); otherwise Build takes it from Options.Now. OCM v1 always
	// overwrites it; ferry honours it so that builds can be reproducible.
	CreationTime time.Time
	// Scheme is meta.configuredSchemaVersion; "" lets Options.Scheme decide.
	Scheme component.Scheme

	Sources    []SourceSpec
	Resources  []ResourceSpec
	References []ReferenceSpec
}

// Element is where an element sits in the constructor, for errors.
type Element struct {
	Path string // e.g. components[0].resources[1]
	Line int
}

// ResourceSpec is one resource: exactly one of Access and Input is set.
type ResourceSpec struct {
	Element
	component.ElementMeta // Version "" or "<componentversion>" means the component version (local)
	Type                  string
	Relation              string // defaulted: local with input, external with access
	SourceRefs            []component.SourceRef
	Access                *component.Access
	Input                 *Input
	// Digest is a digest given in the constructor (OCM v2 schema), used as is.
	Digest *component.DigestSpec
	// SkipDigestGeneration is options.skipDigestGeneration: no digest.
	SkipDigestGeneration bool
}

// SourceSpec is one source: exactly one of Access and Input is set.
type SourceSpec struct {
	Element
	component.ElementMeta // Version "" means the component version
	Type                  string
	Access                *component.Access
	Input                 *Input
}

// ReferenceSpec is a reference to another component version.
type ReferenceSpec struct {
	Element
	component.ElementMeta // Version "" means the component version (as OCM)
	ComponentName         string
	Digest                *component.DigestSpec
}

// Input types ferry builds blobs from (OCM's names; upper-camel aliases and
// a "/v1" suffix are accepted and normalised to these).
const (
	InputFile   = "file"
	InputDir    = "dir"
	InputUTF8   = "utf8"
	InputBinary = "binary"
	// InputHelm is a Helm chart (a chart directory or .tgz), stored as
	// OCM v1 stores it: the artifact set of the chart as an OCI Helm chart.
	InputHelm = "helm"
)

// ComponentVersionTag as a resource version means the component version.
const ComponentVersionTag = "<componentversion>"

// Input describes how to make a local blob (INTEROP §7).
type Input struct {
	Type      string // InputFile, InputDir, InputUTF8 or InputBinary
	MediaType string // "" means the type's default (see Build)
	Compress  bool   // gzip the content

	// file and dir
	Path string // as written; relative paths are relative to Spec.Dir

	// dir
	PreserveDir    bool
	FollowSymlinks bool
	IncludeFiles   []string // shell patterns (path.Match) on paths relative to Path
	ExcludeFiles   []string // ditto; an exclude wins over an include

	// utf8: one of Text or (as compact JSON of the value) JSON,
	// FormattedJSON, YAML. A string value of the latter three is parsed as
	// YAML first, as OCM does.
	Text          string
	JSON          []byte
	FormattedJSON []byte
	YAML          []byte

	// binary
	Data []byte

	// helm: Path is the chart directory or archive; Version, when given,
	// must be the chart's; Repository overrides the reference name's path
	// (OCM's hint: "<component>/<chart>:<version>").
	Version    string
	Repository string
}

func (e Element) errorf(s *Spec, field, format string, args ...any) *Error {
	p := e.Path
	if field != "" {
		p = joinPath(p, field)
	}
	return &Error{File: s.File, Line: e.Line, Path: p, Err: fmt.Errorf(format, args...)}
}

func joinPath(p, field string) string {
	switch {
	case p == "":
		return field
	case field == "":
		return p
	case strings.HasPrefix(field, "["):
		return p + field
	}
	return p + "." + field
}
