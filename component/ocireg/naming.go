package ocireg

import (
	"cmp"
	"regexp"
	"strings"

	"github.com/ferry-oci/ferry/component"
)

// ComponentRepo returns the repository that holds the versions of the
// component name under base (§2.2): "<base>/component-descriptors/<name>",
// or "component-descriptors/<name>" when base is empty (a CTF). A trailing
// '/' on base is ignored.
func ComponentRepo(base, name string) string {
	base = strings.TrimRight(base, "/")
	if base == "" {
		return componentDescriptors + "/" + name
	}
	return base + "/" + componentDescriptors + "/" + name
}

const componentDescriptors = "component-descriptors"

// VersionTag returns the tag of version as OCM v1 writes it: every '+'
// becomes ".build-" ("1.2.3+ci.42" → "1.2.3.build-ci.42"); OCI tags cannot
// hold a '+'.
func VersionTag(version string) string {
	return strings.ReplaceAll(version, "+", buildSep)
}

// TagVersion returns the version a tag stands for, as OCM v1 reads it: the
// last ".build-" becomes '+'.
func TagVersion(tag string) string {
	i := strings.LastIndex(tag, buildSep)
	if i < 0 {
		return tag
	}
	return tag[:i] + "+" + tag[i+len(buildSep):]
}

const buildSep = ".build-"

// digestTag matches tags that stand for a digest rather than a version:
// the OCI referrers fallback tags and cosign's sha256-<hex>[.sig|.att|…].
var digestTag = regexp.MustCompile(`^(sha256|sha512)-[0-9a-f]{64,128}(\..*)?$`)

// IsVersion reports whether v is a version in OCM's relaxed semver.
func IsVersion(v string) bool { return component.IsVersion(v) }

type semver struct {
	major, minor, patch string // decimal, no leading zeros
	pre                 []string
}

func parseSemver(v string) (semver, bool) {
	m, ok := component.VersionParts(v)
	if !ok {
		return semver{}, false
	}
	s := semver{major: m[0], minor: cmp.Or(m[1], "0"), patch: cmp.Or(m[2], "0")}
	if m[3] != "" {
		s.pre = strings.Split(m[3], ".")
	}
	return s, true
}

// CompareVersions orders two versions by SemVer 2.0 precedence, reading
// them as OCM does ("v1.2" is 1.2.0): numbers compare numerically, a
// version with a pre-release is lower than one without, pre-release
// identifiers compare numerically when both are numeric, else as ASCII,
// numeric ones lower, and a shorter list of identifiers is lower when it is
// a prefix of the longer. Versions of equal precedence (build metadata
// differs, or "v1" and "1.0.0") are ordered as strings, so the order is
// total. Anything that is not a version sorts after every version, as a
// string.
func CompareVersions(a, b string) int {
	sa, oka := parseSemver(a)
	sb, okb := parseSemver(b)
	switch {
	case !oka && !okb:
		return strings.Compare(a, b)
	case !oka:
		return 1
	case !okb:
		return -1
	}
	for _, p := range [][2]string{{sa.major, sb.major}, {sa.minor, sb.minor}, {sa.patch, sb.patch}} {
		if c := compareNumeric(p[0], p[1]); c != 0 {
			return c
		}
	}
	if c := comparePre(sa.pre, sb.pre); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareNumeric compares decimal strings without leading zeros of any
// length.
func compareNumeric(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func comparePre(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		na, nb := isNumeric(a[i]), isNumeric(b[i])
		var c int
		switch {
		case na && nb:
			c = compareNumeric(strings.TrimLeft(a[i], "0"), strings.TrimLeft(b[i], "0"))
		case na:
			c = -1
		case nb:
			c = 1
		default:
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
