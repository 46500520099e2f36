package component

import (
	"fmt"
	"io"
	"strings"
)

// Same reports whether s and o are the same choice: the version a
// constraint chose for a component.
func (s Selection) Same(o Selection) bool {
	return s.Component == o.Component && s.Constraint == o.Constraint && s.Version == o.Version
}

// Describe writes the choice for people: a note naming the tags that are
// no semantic version, when there are any, then the version chosen, the
// constraint and the versions that matched it.
func (s Selection) Describe(w io.Writer) {
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "note: %s: ignored tag(s) that are no semantic version: %s\n", s.Component, strings.Join(s.Ignored, ", "))
	}
	fmt.Fprintf(w, "selected %s:%s for %q (matching: %s)\n", s.Component, s.Version, s.Constraint, strings.Join(s.Matching, ", "))
}
