package kustomize

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/localize"
)

var update = flag.Bool("update", false, "rewrite testdata/want from the current output")

const (
	digestApp = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	sample    = "../../testdata/podinfo/kustomize"
)

var testImages = localize.ImageList{
	{Identity: localize.Identity{"name": "podinfo"}, Image: localize.Image{
		Ref: "registry.local/air/stefanprodan/podinfo:6.3.6@" + digestApp, Original: "ghcr.io/stefanprodan/podinfo:6.3.6"}},
}

func readTree(t testing.TB, dir string) localize.Files {
	t.Helper()
	files, err := localize.ReadFS(os.DirFS(dir), localize.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func rules(t testing.TB) []localize.Rule {
	t.Helper()
	b, err := os.ReadFile("../../testdata/podinfo/kustomize-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := localize.ParseRules(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		_ = os.MkdirAll(filepath.Dir(file), 0o755)
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs:\n%s", file, localize.Diff(file, want, got))
	}
}

// TestGolden: the rule on the overlay's images: entry rewrites newName and
// newTag in place (comments kept); the built output names only the copy.
// With --pin-digest the entry's digest is required.
func TestGolden(t *testing.T) {
	files := readTree(t, sample)
	roots, err := Roots(files)
	if err != nil || len(roots) != 1 || roots[0] != "overlays/production" {
		t.Fatalf("roots %v %v", roots, err)
	}
	res, err := Localize(files, rules(t), testImages, localize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/want/overlays/production/kustomization.yaml", res.Files["overlays/production/kustomization.yaml"])
	golden(t, "testdata/want/built.yaml", res.Built["overlays/production/kustomization.yaml (built)"])
	if res.Coverage.Checked != 1 || len(res.Coverage.Unlocalized) != 0 || len(res.Changed) != 1 {
		t.Errorf("coverage %+v changed %v", res.Coverage, res.Changed)
	}
	_, err = Localize(files, rules(t), testImages, localize.Options{PinDigest: true})
	if err == nil || !strings.Contains(err.Error(), "has no digest") {
		t.Errorf("pinning an entry without digest: %v", err)
	}
}

// TestOverlayPointingPublic: an overlay whose images: entry names a public
// image fails the proof on the built output, naming the kustomization file
// and the entry, although the base names the original (which --auto would
// have rewritten).
func TestOverlayPointingPublic(t *testing.T) {
	files := readTree(t, sample)
	k := "overlays/production/kustomization.yaml"
	files[k] = bytes.Replace(files[k], []byte("  newName: ghcr.io/stefanprodan/podinfo"), []byte("  newName: docker.io/evil/podinfo"), 1)
	_, err := Localize(files, nil, testImages, localize.Options{})
	var cerr *localize.CoverageError
	if !errors.As(err, &cerr) {
		t.Fatalf("got %v", err)
	}
	f := cerr.Unlocalized[0]
	if f.File != k || f.Path != "images[0].newName" || f.Image != "docker.io/evil/podinfo:6.3.6" {
		t.Errorf("finding %+v", f)
	}
	// --auto rewrites the entry (its name is the original's repository).
	res, err := Localize(files, nil, testImages, localize.Options{Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.Files[k], []byte("newName: registry.local/air/stefanprodan/podinfo\n")) {
		t.Errorf("auto wrote:\n%s", res.Files[k])
	}
	// A base left public with no overlay entry is named by its base file.
	files = readTree(t, sample)
	files[k] = []byte("resources:\n- ../../base\n")
	_, err = Localize(files, nil, testImages, localize.Options{})
	if !errors.As(err, &cerr) || cerr.Unlocalized[0].File != "base/deployment.yaml" ||
		cerr.Unlocalized[0].Path != "spec.template.spec.containers[0].image" {
		t.Fatalf("got %v", err)
	}
}
