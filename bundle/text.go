package bundle

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/internal/human"
)

// WriteTable writes what Verify or VerifyVolume checked and found, for
// people: the volumes, every problem and stray, and, when ok (the
// verification passed), one line saying what was checked.
func (r *Report) WriteTable(w io.Writer, ok bool) error {
	t := human.NewTable(w)
	if len(r.Volumes) > 0 {
		t.Row("FILE", "SIZE", "SHA256", "")
		for _, v := range r.Volumes {
			state, sum := "ok", v.SHA256
			if !v.OK {
				state = "DAMAGED"
			}
			if sum == "" {
				sum = "-"
			}
			t.Row(v.Path, human.Bytes(v.Size), sum, state)
		}
		t.Row("")
	}
	for _, p := range r.Problems {
		at := ""
		if p.Offset >= 0 {
			at = fmt.Sprintf(" at offset %d", p.Offset)
		}
		t.Row(fmt.Sprintf("DAMAGED %s%s %s: %s", p.File, at, p.Entry, p.Error))
	}
	for _, s := range r.Strays {
		t.Row(fmt.Sprintf("STRAY %s (%s): left by an interrupted write; the next write to this CTF reuses or removes it", s.Path, human.Bytes(s.Size)))
	}
	if ok {
		t.Row("ok: " + strings.Join(r.checked(), ", "))
	}
	return t.Flush()
}

// checked lists what a passed verification checked.
func (r *Report) checked() []string {
	if r.Volume {
		return []string{"the volume matches the sidecar"}
	}
	what := []string{fmt.Sprintf("%s (%s) hashed", human.Count(r.Blobs, "blob"), human.Bytes(r.Bytes)),
		fmt.Sprintf("%s and %s checked", human.Count(r.Manifests, "manifest"), human.Count(r.Components, "component version"))}
	if r.Sidecar {
		what = append(what, "volumes match the sidecar")
	}
	if r.LeftOut > 0 {
		what = append(what, human.Count(r.LeftOut, "blob")+" left out (differential)")
	}
	if r.Trailer > 0 {
		what = append(what, fmt.Sprintf("the volume listing appended after the tar (%d bytes, from 'cat FILE.*') ignored", r.Trailer))
	}
	return what
}

// WriteTable writes what Inspect found, for people: the resources of every
// component version, the images, their signatures, and the sizes.
func (in *Inspection) WriteTable(w io.Writer) error {
	t := human.NewTable(w)
	t.Row("COMPONENT", "VERSION", "RESOURCE", "TYPE", "ACCESS", "SIZE")
	for _, c := range in.Components {
		for _, r := range c.Resources {
			t.Row(c.Name, c.Version, r.Name, r.Type, r.Access+" "+r.Ref, human.Bytes(r.Size))
		}
	}
	t.Row("")
	t.Row("IMAGE", "DIGEST", "PLATFORMS", "SIZE")
	for _, im := range in.Images {
		name := im.Repository + ":" + im.Tag
		if im.Tag == "" {
			name = im.Repository + " (in the version's index)"
		}
		t.Row(name, im.Digest.String(), strings.Join(im.Platforms, ","), human.Bytes(im.Size))
	}
	t.Row("")
	if in.writeSignatures(t) {
		t.Row("")
	}
	line := fmt.Sprintf("%s in %s; %s (%s); images alone would take %s, storing shared blobs once saves %s",
		human.Bytes(in.Size), human.Count(max(1, len(in.Volumes)), "file"), human.Count(in.Blobs, "blob"), human.Bytes(in.BlobBytes), human.Bytes(in.ImageBytes), human.Bytes(in.Saved))
	if in.Tool != "" {
		line += "; written by " + in.Tool
	}
	t.Row(line)
	if in.LeftOut > 0 {
		t.Row(fmt.Sprintf("differential: %s (%s) left out, held by %s", human.Count(in.LeftOut, "blob"), human.Bytes(in.LeftOutBytes), in.LeftOutBase))
	}
	for _, s := range in.Strays {
		t.Row(fmt.Sprintf("stray: %s (%s), left by an interrupted write; the next write to this CTF reuses or removes it", s.Path, human.Bytes(s.Size)))
	}
	return t.Flush()
}

// writeSignatures writes the signatures of the component versions and
// images, and how create verified them; false when there are none.
func (in *Inspection) writeSignatures(t *human.Table) bool {
	type line struct{ what, sig, verified string }
	var lines []line
	verified := func(s bom.Signature) string {
		if s.Verified {
			return "verified with key " + s.Key
		}
		return "not checked"
	}
	for _, c := range in.Components {
		for _, s := range c.Signatures {
			lines = append(lines, line{c.Name + ":" + c.Version, "ocm " + s.Name + " (" + s.Algorithm + ")", verified(s)})
		}
		if strings.HasPrefix(c.VerifiedBy, "reference") {
			lines = append(lines, line{c.Name + ":" + c.Version, "digest", "verified by the " + c.VerifiedBy})
		}
	}
	for _, im := range in.Images {
		for _, s := range im.Signatures {
			lines = append(lines, line{im.Repository + ":" + im.Tag, "cosign " + s.Digest, verified(s)})
		}
	}
	if len(lines) == 0 {
		return false
	}
	t.Row("SIGNED", "SIGNATURE", "AT CREATE")
	for _, l := range lines {
		t.Row(l.what, l.sig, l.verified)
	}
	return true
}
