package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/internal/human"
)

func newBundleVerifyCmd(g *globals) *cobra.Command {
	var jobs int
	var volume bool
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check every blob, volume and reference of a bundle",
		Long: `verify re-hashes every blob of the bundle FILE (or of the volumes FILE.000, ...),
checks the volumes against FILE.sha256, checks that every manifest's children
and every component version's local blobs and images are there (or, for a
differential bundle, were left out on purpose), and that ferry's metadata agrees
with the archive. The sidecar is checked first, so damage anywhere in a volume
is put on that volume. It exits 4 naming the first damaged file and the offset
in it. Files an interrupted write left beside or in a CTF are listed as strays.

With --volume, FILE is one volume (FILE.NNN), checked against FILE.sha256 alone:
the other volumes need not be there yet.`,
		Example: `  ferry bundle verify podinfo.tar
  ferry bundle verify podinfo.tar.000 -o json
  ferry bundle verify podinfo.tar.001 --volume`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runBundleVerify(cmd.Context(), args[0], jobs, volume)
		},
	}
	cmd.Flags().IntVar(&jobs, "jobs", 4, "blobs hashed at once")
	cmd.Flags().BoolVar(&volume, "volume", false, "check FILE, one volume, against the sidecar alone")
	return cmd
}

func (g *globals) runBundleVerify(ctx context.Context, file string, jobs int, volume bool) error {
	var rep *bundle.Report
	var err error
	if volume {
		rep, err = bundle.VerifyVolume(ctx, file)
	} else {
		rep, err = bundle.Verify(ctx, file, bundle.VerifyOptions{Jobs: jobs})
	}
	if perr := g.printVerified(rep, err == nil, volume); perr != nil {
		return perr
	}
	if errors.Is(err, bundle.ErrNoSidecar) {
		return withHint(err, "keep the sidecar (the .sha256 file made with the bundle) beside the volume, or verify the whole bundle")
	}
	if err != nil {
		return bundleHint(fmt.Errorf("verifying %s: %w", file, err), file)
	}
	return nil
}

// printVolumes prints the volumes bundle verify checked, if any.
func printVolumes(t *tableWriter, vols []bundle.VolumeReport) {
	if len(vols) == 0 {
		return
	}
	t.row("FILE", "SIZE", "SHA256", "")
	for _, v := range vols {
		state := "ok"
		if !v.OK {
			state = "DAMAGED"
		}
		sum := v.SHA256
		if sum == "" {
			sum = "-"
		}
		t.row(v.Path, sizeString(v.Size), sum, state)
	}
	t.row("")
}

// printVerified prints what bundle verify checked and found.
func (g *globals) printVerified(rep *bundle.Report, ok, volume bool) error {
	return g.print(rep, func(t *tableWriter) {
		printVolumes(t, rep.Volumes)
		for _, p := range rep.Problems {
			at := ""
			if p.Offset >= 0 {
				at = fmt.Sprintf(" at offset %d", p.Offset)
			}
			t.row(fmt.Sprintf("DAMAGED %s%s %s: %s", p.File, at, p.Entry, p.Error))
		}
		for _, s := range rep.Strays {
			t.row(fmt.Sprintf("STRAY %s (%s): left by an interrupted write; the next write to this CTF reuses or removes it", s.Path, human.Bytes(s.Size)))
		}
		what := []string{fmt.Sprintf("%s (%s) hashed", human.Count(rep.Blobs, "blob"), human.Bytes(rep.Bytes)),
			fmt.Sprintf("%s and %s checked", human.Count(rep.Manifests, "manifest"), human.Count(rep.Components, "component version"))}
		if volume {
			what = []string{"the volume matches the sidecar"}
		} else if rep.Sidecar {
			what = append(what, "volumes match the sidecar")
		}
		if rep.LeftOut > 0 {
			what = append(what, human.Count(rep.LeftOut, "blob")+" left out (differential)")
		}
		if rep.Trailer > 0 {
			what = append(what, fmt.Sprintf("the volume listing appended after the tar (%d bytes, from 'cat FILE.*') ignored", rep.Trailer))
		}
		if ok {
			t.row("ok: " + strings.Join(what, ", "))
		}
	})
}

func newBundleInspectCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE",
		Short: "List the component versions, resources and images of a bundle",
		Long: `inspect lists what the bundle FILE holds: component versions and their resources,
images with their platforms and sizes, and the space storing shared blobs once
saves. Nothing is hashed: use 'bundle verify' for that.`,
		Example: `  ferry bundle inspect podinfo.tar
  ferry bundle inspect podinfo.tar -o json`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, err := bundle.Open(ctx, args[0])
			if err != nil {
				return withHint(err, "run 'ferry bundle verify %s' for details", args[0])
			}
			defer b.Close()
			in, err := bundle.Inspect(ctx, b)
			if err != nil {
				return fmt.Errorf("inspecting %s: %w", args[0], err)
			}
			return g.printInspected(in)
		},
	}
}

// printInspected prints what bundle inspect found.
func (g *globals) printInspected(in *bundle.Inspection) error {
	return g.print(in, func(t *tableWriter) {
		t.row("COMPONENT", "VERSION", "RESOURCE", "TYPE", "ACCESS", "SIZE")
		for _, c := range in.Components {
			for _, r := range c.Resources {
				t.row(c.Name, c.Version, r.Name, r.Type, r.Access+" "+r.Ref, sizeString(r.Size))
			}
		}
		t.row("")
		t.row("IMAGE", "DIGEST", "PLATFORMS", "SIZE")
		for _, im := range in.Images {
			name := im.Repository + ":" + im.Tag
			if im.Tag == "" {
				name = im.Repository + " (in the version's index)"
			}
			t.row(name, im.Digest.String(), strings.Join(im.Platforms, ","), sizeString(im.Size))
		}
		t.row("")
		if printSignatures(t, in) {
			t.row("")
		}
		line := fmt.Sprintf("%s in %s; %s (%s); images alone would take %s, storing shared blobs once saves %s",
			human.Bytes(in.Size), human.Count(max(1, len(in.Volumes)), "file"), human.Count(in.Blobs, "blob"), human.Bytes(in.BlobBytes), human.Bytes(in.ImageBytes), human.Bytes(in.Saved))
		if in.Tool != "" {
			line += "; written by " + in.Tool
		}
		t.row(line)
		if in.LeftOut > 0 {
			t.row(fmt.Sprintf("differential: %s (%s) left out, held by %s", human.Count(in.LeftOut, "blob"), human.Bytes(in.LeftOutBytes), in.LeftOutBase))
		}
		for _, s := range in.Strays {
			t.row(fmt.Sprintf("stray: %s (%s), left by an interrupted write; the next write to this CTF reuses or removes it", s.Path, sizeString(s.Size)))
		}
	})
}

// printSignatures prints the signatures of a bundle's component versions
// and images, and how create verified them; false when there are none.
func printSignatures(t *tableWriter, in *bundle.Inspection) bool {
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
	t.row("SIGNED", "SIGNATURE", "AT CREATE")
	for _, l := range lines {
		t.row(l.what, l.sig, l.verified)
	}
	return true
}
