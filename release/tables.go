package release

import (
	"io"
	"strings"

	"github.com/ferry-oci/ferry/internal/human"
)

// WriteTable writes each image repository beside its mirror, then the
// files written.
func (r *MirrorResult) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("SOURCE", "MIRROR")
	for _, p := range r.Pairs {
		t.Row(p.Source, p.Mirror)
	}
	t.Row("")
	t.Row("wrote " + strings.Join(r.Files, ", "))
	return t.Flush()
}

// CreatedVersions are the versions Create made, as a table prints them.
type CreatedVersions []CreatedVersion

// WriteTable writes one row per version: component, version, digest,
// target and state.
func (cs CreatedVersions) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("COMPONENT", "VERSION", "DIGEST", "TARGET", "")
	for _, c := range cs {
		t.Row(c.Component, c.Version, c.Digest.String(), c.Target, c.State)
	}
	return t.Flush()
}
