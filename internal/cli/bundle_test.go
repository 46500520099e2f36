package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/transfer"
)

// mustRun runs ferry and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("ferry %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// testRelease is a component version made of images and a text blob.
type testRelease struct {
	name, version string
	images        []testimage.Named
	text          string
}

// seedRelease starts a registry, pushes the images at its root and builds
// the component versions under ocm/ with `ferry component create`. It
// returns the registry and the component repository ("http://HOST/ocm").
func seedRelease(t *testing.T, images testimage.Set, rels ...testRelease) (*registrytest.Registry, string) {
	t.Helper()
	reg := registrytest.New(t)
	return reg, seedReleaseIn(t, reg, images, rels...)
}

// seedReleaseIn is seedRelease into a registry that is running already.
func seedReleaseIn(t *testing.T, reg *registrytest.Registry, images testimage.Set, rels ...testRelease) string {
	t.Helper()
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Push(t.Context(), s, reg.Host); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("components:\n")
	for _, r := range rels {
		fmt.Fprintf(&b, "- name: %s\n  version: %s\n  provider:\n    name: example.com\n  resources:\n", r.name, r.version)
		fmt.Fprintf(&b, "  - name: notes\n    type: blob\n    input:\n      type: utf8\n      text: %q\n      mediaType: text/plain\n", r.text)
		for i, im := range r.images {
			fmt.Fprintf(&b, "  - name: image-%d\n    type: ociImage\n    version: \"%s\"\n    relation: external\n    access:\n      type: ociArtifact\n      imageReference: %s/%s:%s\n",
				i, im.Tag, reg.Host, im.Name, im.Tag)
		}
	}
	f := filepath.Join(t.TempDir(), "component-constructor.yaml")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := "http://" + reg.Host + "/ocm"
	mustRun(t, "component", "create", "-f", f, "--to", repo, "--creation-time", "2026-01-01T00:00:00Z")
	return repo
}

func podinfoSample(t *testing.T) (testimage.Named, testimage.Named) {
	t.Helper()
	var p635, p636 testimage.Named
	for _, n := range testimage.Sample() {
		switch n.String() {
		case "stefanprodan/podinfo:6.3.5":
			p635 = n
		case "stefanprodan/podinfo:6.3.6":
			p636 = n
		}
	}
	return p635, p636
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarEntries lists the names and sizes of a tar's entries, in order.
func tarEntries(t *testing.T, b []byte) ([]string, map[string]int64) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var names []string
	sizes := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, sizes
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		sizes[h.Name] = h.Size
	}
}

// TestBundleFixtureRoundTrip carries the OCM fixture release (a Docker
// image, an OCI index, local blobs, a component reference) through a bundle
// into a second registry.
func TestBundleFixtureRoundTrip(t *testing.T) {
	ctx := t.Context()
	src := registrytest.New(t)
	mustRun(t, "transfer", filepath.Join(sharedDir(t), "testdata", "ocm", "ctf-copied"), "http://"+src.Host+"/ocm")
	dir := t.TempDir()
	file := filepath.Join(dir, "release.tar")
	refs := []string{"http://" + src.Host + "/ocm//example.com/app:1.0.0", "http://" + src.Host + "/ocm//example.com/podinfo:6.3.6"}
	mustRun(t, append([]string{"bundle", "create", "-r", "-o", file}, refs...)...)

	// The tar is what ctf writes: canonical order, no "./", and ctf writes
	// the same bytes back.
	b := readFile(t, file)
	names, _ := tarEntries(t, b)
	if names[0] != ctf.IndexFile || names[1] != ctf.BlobsDir || !slices.IsSorted(names[2:]) {
		t.Errorf("tar order %v is not OCM's", names[:3])
	}
	for _, n := range names[2:] {
		if !strings.HasPrefix(n, "blobs/sha256.") {
			t.Errorf("unexpected entry %q", n)
		}
	}
	a, err := ctf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := a.WriteTar(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b) {
		t.Error("ctf writes this bundle differently: the layout is not ctf's")
	}
	entries := map[string]string{}
	for _, e := range a.Entries() {
		entries[e.String()] = e.Digest.String()
	}
	a.Close()
	for ref, want := range map[string]string{
		"stefanprodan/podinfo:6.3.5": "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774",
		"stefanprodan/podinfo:6.3.6": "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a",
	} {
		if entries[ref] != want {
			t.Errorf("bundle index: %s is %q, want %s", ref, entries[ref], want)
		}
	}
	if _, ok := entries[bundle.MetadataRepository+":"+bundle.MetadataTag]; !ok {
		t.Error("no metadata artifact in the index")
	}

	// The same input gives the same bytes.
	file2 := filepath.Join(dir, "again.tar")
	mustRun(t, append([]string{"bundle", "create", "-r", "-o", file2}, refs...)...)
	if !bytes.Equal(readFile(t, file2), b) {
		t.Error("two creates of the same release differ")
	}

	mustRun(t, "bundle", "verify", file)
	out := mustRun(t, "bundle", "inspect", file, "-o", "json")
	if !strings.Contains(out, `"platforms": [`) || !strings.Contains(out, "linux/arm64") {
		t.Errorf("inspect does not list platforms:\n%s", out)
	}

	dst := registrytest.New(t)
	mustRun(t, "bundle", "import", file, "http://"+dst.Host+"/air")
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		dst.Host + "/air/stefanprodan/podinfo:6.3.5": "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774",
		dst.Host + "/air/stefanprodan/podinfo:6.3.6": "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a",
	} {
		r, _ := oci.ParseRef(ref)
		d, err := s.Resolve(ctx, r)
		if err != nil || d.Digest.String() != want {
			t.Errorf("%s: %v, %v; want %s", ref, d.Digest, err, want)
		}
	}
	repo := ocireg.New(s, dst.Host+"/air")
	for _, nv := range [][2]string{{"example.com/podinfo", "6.3.5"}, {"example.com/podinfo", "6.3.6"}, {"example.com/app", "1.0.0"}} {
		cv, err := repo.Get(ctx, nv[0], nv[1])
		if err != nil {
			t.Fatalf("%s:%s in the target: %v", nv[0], nv[1], err)
		}
		for _, r := range cv.Descriptor.Resources {
			if r.Access.Kind() == component.AccessOCIArtifact {
				acc, _ := r.Access.OCIArtifact()
				if !strings.HasPrefix(acc.ImageReference, "http://"+dst.Host+"/air/stefanprodan/podinfo:"+nv[1]+"@sha256:") {
					t.Errorf("%s:%s image access %s does not point into the target", nv[0], nv[1], acc.ImageReference)
				}
			}
		}
	}
}

// TestBundleImportsWhatOCMMade: CTFs written by ocm (artifact sets inside,
// directory, tar and tgz) verify, list and import like ferry's bundles.
func TestBundleImportsWhatOCMMade(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	for _, name := range []string{"ctf-copied", "ctf.tar", "ctf.tgz"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(ocm, name)
			if name == "ctf.tar" { // ocm rewrites tars it reads; ferry must not, but read a copy anyway
				p = filepath.Join(t.TempDir(), name)
				os.WriteFile(p, readFile(t, filepath.Join(ocm, name)), 0o644)
			}
			mustRun(t, "bundle", "verify", p)
			mustRun(t, "bundle", "inspect", p)
			dst := registrytest.New(t)
			mustRun(t, "bundle", "import", p, "http://"+dst.Host+"/air")
			s, _ := remote.New()
			if _, err := ocireg.New(s, dst.Host+"/air").Get(t.Context(), "example.com/app", "1.0.0"); err != nil {
				t.Errorf("app 1.0.0 in the target: %v", err)
			}
			if name == "ctf-copied" { // images by value, in artifact sets: they become real images
				r, _ := oci.ParseRef(dst.Host + "/air/stefanprodan/podinfo:6.3.6")
				if d, err := s.Resolve(t.Context(), r); err != nil || d.Digest.String() != "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a" {
					t.Errorf("%s: %v, %v", r, d.Digest, err)
				}
			}
		})
	}
}

// corpusRelease is a testimage corpus as one component version.
func corpusRelease(t *testing.T, size testimage.Size) (*registrytest.Registry, string, testimage.Set) {
	t.Helper()
	set := testimage.Corpus(7, size)
	reg, repo := seedRelease(t, set, testRelease{name: "example.com/bench", version: "1.0.0", images: set, text: "bench"})
	return reg, repo, set
}

// TestBundleSharedBlobsOnce: a layer shared by many images is in the tar
// once, and the tar is no larger than the unique bytes plus headers.
func TestBundleSharedBlobsOnce(t *testing.T) {
	_, repo, set := corpusRelease(t, 2<<20)
	file := filepath.Join(t.TempDir(), "bench.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", file)
	b := readFile(t, file)
	names, sizes := tarEntries(t, b)
	st := set.Stats()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("%s is in the tar twice", n)
		}
		seen[n] = true
	}
	for _, im := range set {
		for _, img := range im.Artifact.Images() {
			for _, l := range img.Layers {
				d, _ := l.Descriptor()
				if sizes["blobs/"+d.Digest.Algorithm+"."+d.Digest.Hex] != d.Size {
					t.Fatalf("layer %s missing from the tar", d.Digest)
				}
			}
		}
	}
	var blobBytes int64
	for n, s := range sizes {
		if strings.HasPrefix(n, "blobs/") {
			blobBytes += s
		}
	}
	if blobBytes < st.UniqueBytes || blobBytes > st.UniqueBytes+256<<10 {
		t.Errorf("blobs take %d bytes; the corpus has %d unique layer bytes (%d counted per image)", blobBytes, st.UniqueBytes, st.TotalBytes)
	}
	if int64(len(b)) > blobBytes+int64(len(names)+4)*1024 {
		t.Errorf("tar of %d bytes for %d blob bytes in %d entries", len(b), blobBytes, len(names))
	}
	out := mustRun(t, "bundle", "inspect", file)
	if !strings.Contains(out, "saves") {
		t.Errorf("inspect output:\n%s", out)
	}
}

// TestBundleVolumes: a split bundle is the single file cut in pieces, its
// sidecar passes sha256sum -c, and missing, truncated or swapped volumes
// are named by verify and refused by import.
func TestBundleVolumes(t *testing.T) {
	_, repo, _ := corpusRelease(t, 1<<20)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", whole)
	split := filepath.Join(dir, "split.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", split, "--split", "300KB")
	vols, _ := filepath.Glob(split + ".*")
	var parts []string
	var cat []byte
	for _, v := range vols {
		if !strings.HasSuffix(v, ".sha256") {
			parts = append(parts, v)
			cat = append(cat, readFile(t, v)...)
		}
	}
	if len(parts) < 3 {
		t.Fatalf("volumes %v", vols)
	}
	if !bytes.Equal(cat, readFile(t, whole)) {
		t.Fatal("cat of the volumes differs from the unsplit bundle")
	}
	if sum, err := exec.LookPath("sha256sum"); err == nil {
		for _, side := range []string{whole + ".sha256", split + ".sha256"} {
			cmd := exec.Command(sum, "-c", filepath.Base(side))
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c %s: %v\n%s", side, err, out)
			}
		}
	} else {
		t.Log("no sha256sum on this machine")
	}
	mustRun(t, "bundle", "verify", split)
	mustRun(t, "bundle", "verify", parts[0])
	// The joined file reads as a bundle beside the volumes' sidecar.
	if err := os.WriteFile(split, cat, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "bundle", "verify", split)
	os.Remove(split)
	mustRun(t, "bundle", "import", parts[0], "http://"+registrytest.New(t).Host+"/air")

	damaged := func(name string, change func(dir string) string) {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			for _, p := range append(slices.Clone(parts), split+".sha256") {
				if err := os.WriteFile(filepath.Join(d, filepath.Base(p)), readFile(t, p), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := change(d)
			first := filepath.Join(d, filepath.Base(parts[0]))
			code, stdout, stderr := run(t, "bundle", "verify", first)
			if code != 4 || !strings.Contains(stderr, want) {
				t.Errorf("verify: exit %d, want 4 (damaged input) naming %s:\n%s%s", code, want, stdout, stderr)
			}
			dst := registrytest.New(t)
			code, _, stderr = run(t, "bundle", "import", first, "http://"+dst.Host+"/air")
			if code != 4 {
				t.Errorf("import of a bundle with %s: exit %d, want 4:\n%s", name, code, stderr)
			}
			assertNoTags(t, dst)
		})
	}
	damaged("a missing volume", func(d string) string {
		p := filepath.Join(d, filepath.Base(parts[1]))
		os.Remove(p)
		return filepath.Base(p)
	})
	damaged("a missing last volume", func(d string) string {
		p := filepath.Join(d, filepath.Base(parts[len(parts)-1]))
		os.Remove(p)
		return filepath.Base(p)
	})
	damaged("a truncated volume", func(d string) string {
		p := filepath.Join(d, filepath.Base(parts[1]))
		if err := os.Truncate(p, 1000); err != nil {
			t.Fatal(err)
		}
		return filepath.Base(p)
	})
	damaged("an extra volume", func(d string) string {
		last := filepath.Base(parts[len(parts)-1])
		n, _ := strconv.Atoi(last[strings.LastIndexByte(last, '.')+1:])
		p := filepath.Join(d, fmt.Sprintf("%s.%03d", strings.TrimSuffix(last, last[strings.LastIndexByte(last, '.'):]), n+1))
		os.WriteFile(p, []byte("a volume that belongs to another bundle"), 0o644)
		return filepath.Base(p)
	})
	damaged("swapped volumes", func(d string) string {
		p0, p1 := filepath.Join(d, filepath.Base(parts[0])), filepath.Join(d, filepath.Base(parts[1]))
		b0, b1 := readFile(t, p0), readFile(t, p1)
		os.WriteFile(p0, b1, 0o644)
		os.WriteFile(p1, b0, 0o644)
		return filepath.Base(p0)
	})
}

// assertNoTags checks that a registry has no tag in air/.
func assertNoTags(t *testing.T, reg *registrytest.Registry) {
	t.Helper()
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	repos, err := s.Lister(reg.Host).Repositories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range repos {
		tags, err := s.Tags(t.Context(), r)
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			t.Fatal(err)
		}
		if len(tags) > 0 {
			t.Errorf("%s was tagged %v by an import that failed", r, tags)
		}
	}
}

// TestBundleFlippedByte: one flipped byte in a blob is found by verify,
// named with its offset, and stops an import before any tag.
func TestBundleFlippedByte(t *testing.T) {
	_, repo, set := corpusRelease(t, 1<<20)
	file := filepath.Join(t.TempDir(), "bench.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", file)
	a, err := ctf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := set[3].Artifact.Images()[0].Layers[4].Descriptor()
	off, size, ok := a.BlobOffset(d.Digest)
	a.Close()
	if !ok {
		t.Fatal("layer not in the bundle")
	}
	b := readFile(t, file)
	flip := off + size/2
	b[flip] ^= 0x40
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "bundle", "verify", file)
	if code != 4 || !strings.Contains(stderr, fmt.Sprintf("at offset %d", off)) || !strings.Contains(stderr, d.Digest.Hex) {
		t.Errorf("verify: exit %d, want 4 naming offset %d and %s:\n%s%s", code, off, d.Digest, stdout, stderr)
	}
	dst := registrytest.New(t)
	code, _, stderr = run(t, "bundle", "import", file, "http://"+dst.Host+"/air")
	if code != 4 || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("import: exit %d, want 4 with a digest mismatch:\n%s", code, stderr)
	}
	assertNoTags(t, dst)
}

// TestBundleResume: a create cancelled part way and run again with
// --resume gives the same bytes as an uninterrupted create.
func TestBundleResume(t *testing.T) {
	_, repo, _ := corpusRelease(t, 4<<20)
	dir := t.TempDir()
	want := filepath.Join(dir, "whole.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", want, "--split", "1MiB")
	file := filepath.Join(dir, "resumed.tar")
	for _, cut := range []int64{5, 20} {
		ctx, cancel := context.WithCancel(t.Context())
		var n atomic.Int64
		g := &globals{stdout: io.Discard, stderr: io.Discard}
		newRoot(g) // the flags' defaults
		g.noProgress = true
		o := bundleCreateOptions{file: file, split: "1MiB", resume: cut != 5, copyFlags: copyFlags{Options: release.Options{Jobs: 4}}, onEvent: func(e transfer.Event) {
			if e.Kind == transfer.BlobDone && n.Add(1) == cut {
				cancel()
			}
		}}
		err := g.runBundleCreate(ctx, []string{repo + "//example.com/bench:1.0.0"}, o)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cut after %d blobs: %v", cut, err)
		}
		if _, err := os.Stat(file + ".000.partial"); err != nil {
			t.Fatalf("no partial bundle after the cut: %v", err)
		}
	}
	code, _, stderr := run(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", file, "--split", "1MiB")
	if code != 1 || !strings.Contains(stderr, "--resume") {
		t.Errorf("create over a partial bundle without --resume: exit %d: %s", code, stderr)
	}
	out := mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", file, "--split", "1MiB", "--resume", "-v")
	if !strings.Contains(out, "resumed:") {
		t.Errorf("the resumed create does not say what it found:\n%s", out)
	}
	for _, suffix := range []string{".000", ".001", ".002", ".003"} {
		if !bytes.Equal(readFile(t, file+suffix), readFile(t, want+suffix)) {
			t.Errorf("volume %s of the resumed bundle differs from an uninterrupted one", suffix)
		}
	}
	if m, _ := filepath.Glob(file + "*partial*"); len(m) > 0 {
		t.Errorf("partial files left: %v", m)
	}
}

// TestBundleDifferential: against an inventory of a registry holding
// podinfo 6.3.5, a bundle of 6.3.6 carries only what 6.3.6 adds, and
// imports on top of 6.3.5; a registry without 6.3.5 refuses it.
func TestBundleDifferential(t *testing.T) {
	p635, p636 := podinfoSample(t)
	_, repo := seedRelease(t, testimage.Set{p635, p636},
		testRelease{name: "example.com/podinfo", version: "6.3.5", images: []testimage.Named{p635}, text: "podinfo config"},
		testRelease{name: "example.com/podinfo", version: "6.3.6", images: []testimage.Named{p636}, text: "podinfo config"})
	dir := t.TempDir()
	full := filepath.Join(dir, "635.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/podinfo:6.3.5", "-o", full)
	dst := registrytest.New(t)
	mustRun(t, "bundle", "import", full, "http://"+dst.Host+"/air")
	inv := filepath.Join(dir, "inventory.json")
	mustRun(t, "inventory", "http://"+dst.Host+"/air//example.com/podinfo", "-o", inv)
	held, err := bundle.ParseInventory(readFile(t, inv))
	if err != nil {
		t.Fatal(err)
	}
	holds := map[v1.Hash]bool{}
	for _, r := range held.Repos {
		for _, hb := range append(r.Manifests, r.Blobs...) {
			holds[hb.Digest] = true
		}
	}
	base, _ := p635.Artifact.Images()[0].Layers[0].Descriptor()
	if !holds[base.Digest] {
		t.Fatalf("the inventory does not list 6.3.5's base layer %s", base.Digest)
	}

	diff := filepath.Join(dir, "636-diff.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/podinfo:6.3.6", "-o", diff, "--missing-from", inv)
	mustRun(t, "bundle", "verify", diff)
	a, err := ctf.Open(diff)
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := a.Blobs()
	a.Close()
	for _, h := range hs {
		if holds[h] {
			t.Errorf("the differential bundle carries %s, which the target holds", h)
		}
	}
	b, err := bundle.Open(t.Context(), diff)
	if err != nil {
		t.Fatal(err)
	}
	left := b.LeftOut()
	b.Close()
	var leftBase bool
	for _, hb := range left {
		leftBase = leftBase || hb.Digest == base.Digest
	}
	if !leftBase {
		t.Errorf("the shared base layer was not left out: %v", left)
	}
	for _, im := range p636.Artifact.Images() {
		for _, l := range im.Layers[1:] {
			d, _ := l.Descriptor()
			if !slices.Contains(hs, d.Digest) {
				t.Errorf("6.3.6's own layer %s is not in the differential bundle", d.Digest)
			}
		}
	}

	empty := registrytest.New(t)
	code, _, stderr := run(t, "bundle", "import", diff, "http://"+empty.Host+"/air")
	if code != 1 || !strings.Contains(stderr, base.Digest.String()) && !strings.Contains(stderr, "lacks") {
		t.Errorf("import of a differential bundle into an empty registry: exit %d:\n%s", code, stderr)
	}
	assertNoTags(t, empty)

	mustRun(t, "bundle", "import", diff, "http://"+dst.Host+"/air")
	s, _ := remote.New()
	r, _ := oci.ParseRef(dst.Host + "/air/stefanprodan/podinfo:6.3.6")
	want, _ := p636.Artifact.Descriptor()
	if d, err := s.Resolve(t.Context(), r); err != nil || d.Digest != want.Digest {
		t.Errorf("6.3.6 in the target: %v, %v; want %s", d.Digest, err, want.Digest)
	}
	if _, err := ocireg.New(s, dst.Host+"/air").Get(t.Context(), "example.com/podinfo", "6.3.6"); err != nil {
		t.Errorf("component version 6.3.6 in the target: %v", err)
	}
}

// TestBundleThroughput measures create and import of a corpus of
// FERRY_BUNDLE_BENCH bytes (e.g. 200MiB) between registries on loopback
// with on-disk storage, and the peak heap of the process (registries
// included). Skipped unless the variable is set.
func TestBundleThroughput(t *testing.T) {
	sz := os.Getenv("FERRY_BUNDLE_BENCH")
	if sz == "" {
		t.Skip("set FERRY_BUNDLE_BENCH=200MiB to measure")
	}
	size, err := testimage.ParseSize(sz)
	if err != nil {
		t.Fatal(err)
	}
	set := testimage.Corpus(11, size)
	reg := registrytest.New(t, registrytest.WithFilesystem(t.TempDir()))
	s, _ := remote.New()
	if _, err := set.Push(t.Context(), s, reg.Host); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("name: example.com/bench\nversion: 1.0.0\nprovider:\n  name: example.com\nresources:\n")
	for i, im := range set {
		fmt.Fprintf(&b, "- name: image-%d\n  type: ociImage\n  version: %q\n  relation: external\n  access:\n    type: ociArtifact\n    imageReference: %s/%s:%s\n", i, im.Tag, reg.Host, im.Name, im.Tag)
	}
	f := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(f, []byte(b.String()), 0o644)
	mustRun(t, "component", "create", "-f", f, "--to", "http://"+reg.Host+"/ocm")

	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	file := filepath.Join(t.TempDir(), "bench.tar")
	start := time.Now()
	mustRun(t, "bundle", "create", "http://"+reg.Host+"/ocm//example.com/bench:1.0.0", "-o", file)
	createTime := time.Since(start)
	fi, _ := os.Stat(file)
	peakCreate := peak.Swap(0)
	start = time.Now()
	mustRun(t, "bundle", "verify", file)
	verifyTime := time.Since(start)
	dst := registrytest.New(t, registrytest.WithFilesystem(t.TempDir()))
	start = time.Now()
	mustRun(t, "bundle", "import", file, "http://"+dst.Host+"/air")
	importTime := time.Since(start)
	close(stop)
	<-done
	mb := float64(fi.Size()) / (1 << 20)
	t.Logf("bundle %.1f MiB (corpus %s): create %.2fs (%.0f MiB/s), verify %.2fs (%.0f MiB/s), import %.2fs (%.0f MiB/s); peak heap create %d MiB, verify+import %d MiB",
		mb, set.Stats(), createTime.Seconds(), mb/createTime.Seconds(), verifyTime.Seconds(), mb/verifyTime.Seconds(),
		importTime.Seconds(), mb/importTime.Seconds(), peakCreate>>20, peak.Load()>>20)
}
