package component

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRef: a component reference or repository could not be parsed.
var ErrInvalidRef = errors.New("invalid component reference")

// RepoKind is the kind of store a repository specification names.
type RepoKind string

// The repository kinds ferry reads and writes.
const (
	KindRegistry RepoKind = "OCIRegistry"
	KindCTF      RepoKind = "CommonTransportFormat"
)

// Format is the form of a CTF archive on disk, as OCM names it (its
// fileFormat). ctf.Format is this type.
type Format string

// The forms of a CTF archive (INTEROP.md §3.2).
const (
	FormatDirectory Format = "directory"
	FormatTar       Format = "tar"
	FormatTGZ       Format = "tgz" // gzip-compressed tar: read only
)

// ArchiveFormat returns the format of the CTF archive r names: the one its
// type prefix gives, else by the path's suffix (.tar; .tgz or .tar.gz),
// else a directory.
func (r Repo) ArchiveFormat() Format {
	switch {
	case r.Format != "":
		return r.Format
	case strings.HasSuffix(r.Path, ".tar"):
		return FormatTar
	case strings.HasSuffix(r.Path, ".tgz"), strings.HasSuffix(r.Path, ".tar.gz"):
		return FormatTGZ
	}
	return FormatDirectory
}

// Repo is a repository specification as `ocm` accepts it on the command
// line: an OCI registry path with an optional scheme
// ("http://127.0.0.1:5000/ocm", "ghcr.io/acme") or a CTF archive path with an
// optional type prefix ("+ctf+tar::./x.tar", "ctf+directory::dir", "./ctf").
// String returns exactly what ParseRepo read.
type Repo struct {
	Prefix string   // the type prefix as written, without "::" ("+ctf+tar"); "" when none
	Kind   RepoKind // KindRegistry or KindCTF
	Create bool     // the prefix starts with '+': create the archive if it is missing
	Format Format   // for a CTF: FormatDirectory, FormatTar, FormatTGZ, or "" to detect by content
	Scheme string   // for a registry: "http", "https", "oci", or ""
	Host   string   // for a registry: host[:port]
	Path   string   // for a registry: the sub path ("ocm/base"); for a CTF: the file system path
}

// Ref names component versions in a repository: REPO//NAME[:VERSION] or
// REPO//NAME@CONSTRAINT. Without a version or a constraint it names every
// version of the component; with a constraint, the highest version that
// satisfies it (see Select).
type Ref struct {
	Repo       Repo
	Component  string
	Version    string
	Constraint string // a semver range ("~6.3", ">=6.3.5", "latest"); "" when none
}

// ParseRef parses REPO//NAME[:VERSION] or REPO//NAME@CONSTRAINT.
func ParseRef(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("component reference %q: %s: %w", s, why, ErrInvalidRef)
	}
	body := s
	skip := 0
	if _, rest, ok := strings.Cut(s, "::"); ok {
		skip = len(s) - len(rest)
		body = rest
	}
	if i := strings.Index(body, "://"); i >= 0 && !strings.ContainsAny(body[:i], "/.") {
		skip += i + 3
	}
	i := strings.Index(s[skip:], "//")
	if i < 0 {
		return bad("no '//' between repository and component name (want REPO//NAME[:VERSION])")
	}
	i += skip
	repo, err := ParseRepo(s[:i])
	if err != nil {
		return Ref{}, err
	}
	rest := s[i+2:]
	constraint := ""
	if n, c, ok := strings.Cut(rest, "@"); ok {
		if _, err := ParseConstraint(c); err != nil {
			return bad(err.Error())
		}
		rest, constraint = n, c
		if strings.Contains(rest, ":") {
			return bad("both a version and a constraint (want NAME:VERSION or NAME@CONSTRAINT)")
		}
	}
	name, version, _ := strings.Cut(rest, ":")
	if !componentNameRE.MatchString(name) || len(name) > 255 {
		return bad(fmt.Sprintf("component name %q is not a lower-case DNS domain followed by a path (example.com/podinfo)", name))
	}
	if strings.Contains(rest, ":") && !IsVersion(version) {
		return bad(fmt.Sprintf("version %q is not a semantic version (to select by a range or the highest release, write NAME@CONSTRAINT: NAME@~6.3, NAME@latest)", version))
	}
	return Ref{Repo: repo, Component: name, Version: version, Constraint: constraint}, nil
}

// String returns the reference as ParseRef read it.
func (r Ref) String() string {
	s := r.Repo.String() + "//" + r.Component
	if r.Version != "" {
		s += ":" + r.Version
	}
	if r.Constraint != "" {
		s += "@" + r.Constraint
	}
	return s
}

// repoTypes maps the type names `ocm` accepts before "::" (without the
// leading '+') to a kind and a CTF format.
var repoTypes = map[string]struct {
	kind   RepoKind
	format Format
}{
	"OCIRegistry": {KindRegistry, ""}, "ociRegistry": {KindRegistry, ""}, "oci": {KindRegistry, ""},
	"OCIRegistry/v1": {KindRegistry, ""}, "ociRegistry/v1": {KindRegistry, ""}, "OCI/v1": {KindRegistry, ""},
	"CommonTransportFormat": {KindCTF, ""}, "CommonTransportFormat/v1": {KindCTF, ""}, "ctf": {KindCTF, ""},
	"directory": {KindCTF, FormatDirectory}, "tar": {KindCTF, FormatTar}, "tgz": {KindCTF, FormatTGZ},
	"ctf+directory": {KindCTF, FormatDirectory}, "ctf+tar": {KindCTF, FormatTar}, "ctf+tgz": {KindCTF, FormatTGZ},
}

// ParseRepo parses a repository specification. Without a type prefix the
// kind is guessed from the text alone: a scheme or a first path element that
// looks like a host (has a '.' or ':' or is "localhost") means a registry,
// unless the path starts with '.', '/' or '~' or ends in .tar, .tgz or
// .tar.gz, which mean a CTF. Callers that can look at the file system should
// prefer a CTF when the path exists (see Repo.Guessed).
func ParseRepo(s string) (Repo, error) {
	bad := func(why string) (Repo, error) {
		return Repo{}, fmt.Errorf("repository %q: %s: %w", s, why, ErrInvalidRef)
	}
	var r Repo
	body := s
	if prefix, rest, ok := strings.Cut(s, "::"); ok {
		t, known := repoTypes[strings.TrimPrefix(prefix, "+")]
		if !known {
			return bad(fmt.Sprintf("unknown repository type %q (want OCIRegistry, ctf, ctf+directory, ctf+tar or ctf+tgz, optionally with a leading '+')", prefix))
		}
		r.Prefix, r.Kind, r.Format, r.Create = prefix, t.kind, t.format, strings.HasPrefix(prefix, "+")
		body = rest
	}
	if body == "" {
		return bad("empty")
	}
	if r.Kind == "" {
		r.Kind = guessKind(body)
	}
	if r.Kind == KindCTF {
		r.Path = body
		return r, nil
	}
	if scheme, rest, ok := strings.Cut(body, "://"); ok {
		switch scheme {
		case "http", "https", "oci":
		default:
			return bad(fmt.Sprintf("unknown scheme %q (want http, https or oci)", scheme))
		}
		r.Scheme, body = scheme, rest
	}
	r.Host, r.Path, _ = strings.Cut(body, "/")
	if r.Host == "" || strings.ContainsAny(r.Host, " \t/\\@") {
		return bad("no registry host")
	}
	if strings.HasSuffix(r.Path, "/") || strings.Contains(r.Path, "//") {
		return bad("empty path element")
	}
	return r, nil
}

func guessKind(s string) RepoKind {
	if strings.Contains(s, "://") {
		return KindRegistry
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") ||
		strings.HasSuffix(s, ".tar") || strings.HasSuffix(s, ".tgz") || strings.HasSuffix(s, ".tar.gz") {
		return KindCTF
	}
	first, _, _ := strings.Cut(s, "/")
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return KindRegistry
	}
	return KindCTF
}

// Guessed reports whether the kind was guessed from the text rather than
// named by a type prefix or a scheme.
func (r Repo) Guessed() bool { return r.Prefix == "" && r.Scheme == "" }

// String returns the specification as ParseRepo read it.
func (r Repo) String() string {
	var b strings.Builder
	if r.Prefix != "" {
		b.WriteString(r.Prefix + "::")
	}
	if r.Kind == KindCTF {
		b.WriteString(r.Path)
		return b.String()
	}
	if r.Scheme != "" {
		b.WriteString(r.Scheme + "://")
	}
	b.WriteString(r.Host)
	if r.Path != "" {
		b.WriteString("/" + r.Path)
	}
	return b.String()
}

// Base returns the registry repository prefix under which component
// versions and copied artifacts land: host and sub path ("127.0.0.1:5000/ocm").
func (r Repo) Base() string {
	if r.Path == "" {
		return r.Host
	}
	return r.Host + "/" + r.Path
}

// PlainHTTP reports whether the specification asks for plain HTTP.
func (r Repo) PlainHTTP() bool { return r.Scheme == "http" }

// ErrManyRepositories: source references name more than one repository.
var ErrManyRepositories = errors.New("all sources must be in one repository")

// ParseSources parses the sources of a transfer: each REPO//NAME[:VERSION],
// or a repository alone (REPO or REPO//: every component in it). All must
// be in one repository.
func ParseSources(args []string) ([]Ref, error) {
	var refs []Ref
	for _, s := range args {
		if strings.Contains(s, "//") && !strings.HasSuffix(s, "//") {
			ref, err := ParseRef(s)
			if err != nil {
				return nil, err
			}
			refs = append(refs, ref)
			continue
		}
		spec, err := ParseRepo(strings.TrimSuffix(s, "//"))
		if err != nil {
			return nil, err
		}
		refs = append(refs, Ref{Repo: spec})
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("no source given: %w", ErrInvalidRef)
	}
	for _, r := range refs[1:] {
		if r.Repo.String() != refs[0].Repo.String() {
			return nil, fmt.Errorf("%w: %s and %s differ; run one transfer per repository", ErrManyRepositories, refs[0].Repo, r.Repo)
		}
	}
	return refs, nil
}

// ParseVersionRef parses a reference that must name its version
// (REPO//NAME:VERSION), as ParseRef does.
func ParseVersionRef(s string) (Ref, error) {
	ref, err := ParseRef(s)
	if err == nil && ref.Version == "" {
		err = fmt.Errorf("%s: name a version (REPO//NAME:VERSION)", s)
	}
	return ref, err
}
