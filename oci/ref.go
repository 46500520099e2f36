package oci

import (
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Ref names a repository, and in it a tag, a digest or both, in the grammar
// of the distribution reference ("host:port/path/name:tag@sha256:…").
//
// Registry is empty for a repository inside a CTF archive, where names
// carry no host ("stefanprodan/podinfo:6.3.5"). Ref is comparable, and
// ParseRef(r.String()) == r for every Ref that ParseRef returned.
type Ref struct {
	Registry   string // "ghcr.io", "127.0.0.1:5000", "[::1]:5000"; "" inside a CTF
	Repository string // "stefanprodan/podinfo"
	Tag        string // "6.3.5"; "" when absent
	Digest     v1.Hash
}

// DockerHub is the registry of references that name no host, as Docker
// reads them.
const DockerHub = "docker.io"

var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
	hostPattern   = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
)

// ParseRef parses a reference. The first path component is the registry when
// it contains a '.' or a ':', is "localhost", or is a bracketed IPv6 address,
// as Docker decides; otherwise the reference has no registry. Nothing is
// defaulted: see Ref.WithDefaultRegistry.
func ParseRef(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("reference %q: %s: %w", s, why, ErrInvalidReference)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > 4096 {
		return bad("longer than 4096 characters")
	}
	var r Ref
	rest := s
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		dg := rest[i+1:]
		if !digestPattern.MatchString(dg) {
			return bad(fmt.Sprintf("digest %q is not sha256:<64 hex> or sha512:<128 hex>", dg))
		}
		h, err := v1.NewHash(dg)
		if err != nil {
			return bad(err.Error())
		}
		r.Digest = h
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		// A colon after the last slash starts a tag, unless it is the port
		// of a bare host ("localhost:5000" alone has no repository anyway).
		tag := rest[i+1:]
		if !tagPattern.MatchString(tag) {
			return bad(fmt.Sprintf("tag %q has characters other than letters, digits, '_', '.', '-', or is longer than 128", tag))
		}
		r.Tag = tag
		rest = rest[:i]
	}
	if first, path, ok := strings.Cut(rest, "/"); ok && isHost(first) {
		if !hostPattern.MatchString(first) {
			return bad(fmt.Sprintf("registry %q is not a host name with an optional port", first))
		}
		r.Registry = first
		rest = path
	}
	if rest == "" {
		return bad("no repository")
	}
	for _, c := range strings.Split(rest, "/") {
		if !pathComponent.MatchString(c) {
			msg := fmt.Sprintf("repository component %q must be lower case letters and digits separated by '.', '_', '__' or '-'", c)
			if low := strings.ToLower(c); low != c && pathComponent.MatchString(low) {
				msg += fmt.Sprintf(" (OCI repository names are lower case: write %q)", low)
			}
			return bad(msg)
		}
	}
	r.Repository = rest
	if len(r.Repo()) > 255 {
		return bad("repository name longer than 255 characters")
	}
	return r, nil
}

// ValidTag reports whether tag is a tag of the distribution grammar: a
// letter, digit or '_', then up to 127 of those, '.' and '-'.
func ValidTag(tag string) bool { return tagPattern.MatchString(tag) }

// ValidPathComponent reports whether c is one component of a repository
// name: lower-case letters and digits separated by '.', '_', '__' or '-'.
func ValidPathComponent(c string) bool { return pathComponent.MatchString(c) }

func isHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost" || strings.HasPrefix(s, "[")
}

// Repo returns the repository with its registry ("ghcr.io/stefanprodan/podinfo"),
// the form Store methods take.
func (r Ref) Repo() string {
	if r.Registry == "" {
		return r.Repository
	}
	return r.Registry + "/" + r.Repository
}

// String returns the reference in the form ParseRef reads.
func (r Ref) String() string {
	s := r.Repo()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != (v1.Hash{}) {
		s += "@" + r.Digest.String()
	}
	return s
}

// Identifier returns the digest when there is one, else the tag: what a
// registry is asked for.
func (r Ref) Identifier() string {
	if r.Digest != (v1.Hash{}) {
		return r.Digest.String()
	}
	return r.Tag
}

// WithDefaultRegistry returns r with Docker's defaults: no registry means
// docker.io, and a one-component repository there lives under "library/".
func (r Ref) WithDefaultRegistry() Ref {
	if r.Registry == "" {
		r.Registry = DockerHub
	}
	if r.Registry == DockerHub && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	return r
}

// InRepo returns a reference to repository repo (with its registry, as Repo
// returns it) carrying r's tag and digest.
func (r Ref) InRepo(repo string) (Ref, error) {
	n, err := ParseRef(repo)
	if err != nil {
		return Ref{}, err
	}
	n.Tag, n.Digest = r.Tag, r.Digest
	return n, nil
}
