package ocmtransfer_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// The artifact sets `ocm transfer --copy-resources ./ctf-dir ./ctf-copied`
// stored for the fixture images.
const (
	set635 = "sha256:c42524bee43aeb899bd9ca4626e99e2d32df034a3386716d8535e2f997038474"
	set636 = "sha256:745988e9393e1adf310866465b3b3a61c5e6a504d4df409ba612208cc9f60383"
)

// intoCTF transfers versions from `from` (images read through images) into
// a new CTF directory with ArtifactSets set to spool, and returns the CTF
// reopened read-only with the plan.
func intoCTF(t *testing.T, from end, images oci.Reader, spool string, o ocmtransfer.PlanOptions, nvs ...string) (*ctf.Archive, *ocmtransfer.Plan) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ctf")
	a, err := ctf.Create(dir, ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	o.ArtifactSets = spool
	p, _, err := move(t.Context(), from, images, versions(t, nvs...), end{store: a, intermediate: true}, o, transfer.Options{})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := ctf.Open(dir, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Verify(t.Context()); err != nil {
		t.Fatal(err)
	}
	return b, p
}

// TestComponentArtifactSetsIntoCTF: with ArtifactSets, the fixture release
// by reference (ctf-dir, images in a registry) goes into a CTF as
// `ocm transfer --copy-resources` wrote ctf-copied: every artifact set
// byte-identical to OCM's, every component version manifest too, and so
// the whole artifact index. A second plan from the spool reads no image.
func TestComponentArtifactSetsIntoCTF(t *testing.T) {
	ctx := t.Context()
	imgs, images := serveFixtureImages(t)
	spool := t.TempDir()
	b, p := intoCTF(t, end{store: openCTF(t, "ctf-dir")}, images, spool, ocmtransfer.PlanOptions{}, allFixtureVersions...)

	want, err := ctf.ParseIndex(readShared(t, "ctf-copied", "artifact-index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Entries(); !sameEntries(got, want) {
		t.Errorf("artifact index\n%v\nctf-copied has\n%v", got, want)
	}
	// The very same files: the index's bytes and every blob (by name, which is its digest).
	gotIndex, _ := os.ReadFile(filepath.Join(b.Path(), "artifact-index.json"))
	if !bytes.Equal(gotIndex, readShared(t, "ctf-copied", "artifact-index.json")) {
		t.Errorf("artifact-index.json differs from ctf-copied's:\n%s", gotIndex)
	}
	if got, want := dirNames(t, filepath.Join(b.Path(), "blobs")), dirNames(t, sharedOCM(t, "ctf-copied", "blobs")); !slices.Equal(got, want) {
		t.Errorf("blobs\n%v\nctf-copied has\n%v", got, want)
	}
	repo := ocireg.New(b, "")
	for _, c := range []struct{ version, image, set, mediaType string }{
		{"6.3.5", image635, set635, "application/vnd.docker.distribution.manifest.v2+tar+gzip"},
		{"6.3.6", image636, set636, "application/vnd.oci.image.index.v1+tar+gzip"},
	} {
		cv, err := repo.Get(ctx, "example.com/podinfo", c.version)
		if err != nil {
			t.Fatal(err)
		}
		r := cv.Descriptor.Resources[2]
		lb, err := r.Access.LocalBlob()
		if err != nil || lb.LocalReference != c.set || lb.MediaType != c.mediaType || lb.ReferenceName != "stefanprodan/podinfo:"+c.version {
			t.Errorf("%s: image access %+v (%v), want localBlob %s %s", c.version, lb, err, c.set, c.mediaType)
		}
		if r.Digest == nil || r.Digest.NormalisationAlgorithm != component.OCIArtifactDigestV1 || "sha256:"+r.Digest.Value != c.image {
			t.Errorf("%s: resource digest %v, want the image's", c.version, r.Digest)
		}
		// The set is a layer of the version, and opens as the image.
		h, _ := v1.NewHash(c.set)
		f, err := b.OpenBlob(h)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ctf.OpenArtifactSet(f, f.Size())
		if err != nil {
			t.Fatal(err)
		}
		if s.Main().Digest.String() != c.image || strings.Join(s.Tags(), ",") != c.version {
			t.Errorf("%s: the set holds %s tagged %v", c.version, s.Main().Digest, s.Tags())
		}
		s.Close()
		f.Close()
		// The descriptor is ctf-copied's, to the byte.
		ocm, err := ocireg.New(openCTF(t, "ctf-copied"), "").Get(ctx, "example.com/podinfo", c.version)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cv.Raw, ocm.Raw) || !bytes.Equal(cv.ManifestBytes, ocm.ManifestBytes) {
			t.Errorf("%s: descriptor or manifest differs from ctf-copied's:\n%s", c.version, cv.Raw)
		}
	}
	for _, cv := range p.Components {
		for _, ch := range cv.Resources {
			if ch.Name == "image" && (ch.How != "by value" || !ch.Checked) {
				t.Errorf("%s:%s image: how %q checked %v", cv.Name, cv.Version, ch.How, ch.Checked)
			}
		}
	}
	// The spool holds each set once, under its digest.
	for _, set := range []string{set635, set636} {
		if _, err := os.Stat(filepath.Join(spool, strings.Replace(set, ":", ".", 1))); err != nil {
			t.Errorf("spool: %v", err)
		}
	}

	// Again from the spool: no image is read (there is no registry at all),
	// and the result is the same.
	before := imgs.Requests().Count("GET", "") + imgs.Requests().Count("HEAD", "")
	b2, _ := intoCTF(t, end{store: openCTF(t, "ctf-dir")}, nil, spool, ocmtransfer.PlanOptions{}, allFixtureVersions...)
	if !sameEntries(b2.Entries(), want) {
		t.Errorf("from the spool the artifact index is\n%v", b2.Entries())
	}
	if n := imgs.Requests().Count("GET", "") + imgs.Requests().Count("HEAD", "") - before; n != 0 {
		t.Errorf("%d requests reached the image registry", n)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func sameEntries(a, b []ctf.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Repository != b[i].Repository || a[i].Tag != b[i].Tag || a[i].Digest != b[i].Digest {
			return false
		}
	}
	return true
}

// TestComponentArtifactSetsFromRegistry: images a registry release names
// under its base (ocm/stefanprodan/podinfo) get OCM's hint without the
// base's sub path, so the sets are the fixture's again; a stale spool entry
// (a set removed since) is made again.
func TestComponentArtifactSetsFromRegistry(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	s := storeFor(t, src)
	spool := t.TempDir()
	from := end{store: s, base: src.Host + "/ocm"}
	b, _ := intoCTF(t, from, s, spool, ocmtransfer.PlanOptions{}, "example.com/podinfo:6.3.5")
	cv, err := ocireg.New(b, "").Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cv.Descriptor.Resources[2].Access.LocalBlob()
	if err != nil || lb.LocalReference != set635 || lb.ReferenceName != "stefanprodan/podinfo:6.3.5" {
		t.Errorf("image access %+v (%v), want localBlob %s", lb, err, set635)
	}

	if err := os.Remove(filepath.Join(spool, strings.Replace(set635, ":", ".", 1))); err != nil {
		t.Fatal(err)
	}
	before := src.Requests().Count("GET", "")
	b2, _ := intoCTF(t, from, s, spool, ocmtransfer.PlanOptions{}, "example.com/podinfo:6.3.5")
	if src.Requests().Count("GET", "") == before {
		t.Error("the removed set was not made again from the registry")
	}
	if !sameEntries(b2.Entries(), b.Entries()) {
		t.Errorf("remade: %v, first: %v", b2.Entries(), b.Entries())
	}
}

// TestComponentArtifactSetsRefusePlatforms: artifact sets hold whole images,
// so a platform filter is refused before anything is read or written.
func TestComponentArtifactSetsRefusePlatforms(t *testing.T) {
	_, images := serveFixtureImages(t)
	a, err := ctf.Create(filepath.Join(t.TempDir(), "ctf"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	spool := t.TempDir()
	o := ocmtransfer.PlanOptions{ArtifactSets: spool, Artifacts: transfer.PlanOptions{Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}}}}
	_, src, err := plan(t.Context(), end{store: openCTF(t, "ctf-dir")}, images, versions(t, "example.com/podinfo:6.3.6"), end{store: a, intermediate: true}, o)
	if src != nil {
		src.Close()
	}
	if !errors.Is(err, oci.ErrUnsupported) || !strings.Contains(err.Error(), "platform") {
		t.Fatalf("planning returned %v, want ErrUnsupported naming the platform filter", err)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("the refused plan wrote %d spool files", len(ents))
	}
}

// TestComponentArtifactSetsKeepLocalSets: a version that holds its images
// as artifact sets already (ctf-copied) keeps them as they are; nothing is
// spooled.
func TestComponentArtifactSetsKeepLocalSets(t *testing.T) {
	spool := t.TempDir()
	b, _ := intoCTF(t, end{store: openCTF(t, "ctf-copied")}, nil, spool, ocmtransfer.PlanOptions{}, allFixtureVersions...)
	want, _ := ctf.ParseIndex(readShared(t, "ctf-copied", "artifact-index.json"))
	if !sameEntries(b.Entries(), want) {
		t.Errorf("artifact index %v, want ctf-copied's", b.Entries())
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("%d spool files for sets that were there already", len(ents))
	}
}
