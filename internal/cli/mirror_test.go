package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci/remote"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// sampleRelease publishes the sample release (testdata/podinfo) with its
// images in a registry, as the demo and the e2e tests do.
func sampleRelease(t *testing.T) (*registrytest.Registry, string) {
	t.Helper()
	reg := registrytest.New(t)
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testimage.Sample().Push(t.Context(), s, reg.Host); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join("..", "..", "testdata", "podinfo", "component-constructor.yaml")
	mustRun(t, "component", "create", "-f", sample, "--to", "http://"+reg.Host+"/releases", "--var", "REGISTRY="+reg.Host,
		"--creation-time", "2026-01-01T00:00:00Z")
	return reg, "http://" + reg.Host + "/releases//example.com/podinfo:6.3.6"
}

// TestMirrorConfigGolden writes every format for the sample release and
// compares it with the golden files, the registries' random ports replaced
// by fixed names.
func TestMirrorConfigGolden(t *testing.T) {
	pub, ref := sampleRelease(t)
	priv := registrytest.New(t)
	out := t.TempDir()
	mustRun(t, "mirror-config", ref, "--registry", priv.Host+"/air", "-O", out)
	norm := strings.NewReplacer(pub.Host, "ghcr.io", priv.Host, "registry.local:5000")
	golden := filepath.Join("testdata", "mirror-config")
	got := map[string][]byte{}
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		b, err := os.ReadFile(p)
		got[norm.Replace(filepath.ToSlash(rel))] = []byte(norm.Replace(string(b)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if *updateGolden {
		os.RemoveAll(golden)
		for rel, b := range got {
			p := filepath.Join(golden, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := 0
	err = filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want++
		rel, _ := filepath.Rel(golden, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if g, ok := got[filepath.ToSlash(rel)]; !ok || string(g) != string(b) {
			t.Errorf("%s differs from the golden file (run go test -run TestMirrorConfigGolden -update):\n%s", rel, g)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want != len(got) || want != 4 {
		t.Errorf("wrote %d files, the golden tree has %d, want 4", len(got), want)
	}

	// One format goes into the directory itself; an unknown one is a usage error.
	one := t.TempDir()
	mustRun(t, "mirror-config", ref, "--registry", priv.Host+"/air", "--format", "containerd", "-O", one)
	if _, err := os.Stat(filepath.Join(one, pub.Host, "hosts.toml")); err != nil {
		t.Error(err)
	}
	if code, _, stderr := run(t, "mirror-config", ref, "--registry", priv.Host+"/air", "--format", "docker", "-O", one); code != 2 {
		t.Errorf("--format docker: exit %d: %s", code, stderr)
	}

	// transfer --mirror-config writes the same files after the copy.
	after := t.TempDir()
	code, _, stderr := run(t, "transfer", ref, priv.Host+"/air", "--mirror-config", after)
	if code != 0 || !strings.Contains(stderr, "wrote mirror configuration") {
		t.Fatalf("transfer --mirror-config: exit %d: %s", code, stderr)
	}
	for rel, want := range got {
		b, err := os.ReadFile(filepath.Join(after, filepath.FromSlash(strings.NewReplacer("ghcr.io", pub.Host).Replace(rel))))
		if err != nil || norm.Replace(string(b)) != string(want) {
			t.Errorf("transfer --mirror-config %s: %v", rel, err)
		}
	}

	// bundle import --mirror-config knows the upstream from the bundle's
	// metadata, and writes the same files.
	file := filepath.Join(t.TempDir(), "podinfo.tar")
	mustRun(t, "bundle", "create", ref, "-o", file)
	inside := registrytest.New(t)
	imported := t.TempDir()
	code, _, stderr = run(t, "bundle", "import", file, inside.Host+"/air", "--mirror-config", imported)
	if code != 0 || !strings.Contains(stderr, "wrote mirror configuration") {
		t.Fatalf("bundle import --mirror-config: exit %d: %s", code, stderr)
	}
	normInside := strings.NewReplacer(pub.Host, "ghcr.io", inside.Host, "registry.local:5000")
	for rel, want := range got {
		b, err := os.ReadFile(filepath.Join(imported, filepath.FromSlash(strings.NewReplacer("ghcr.io", pub.Host).Replace(rel))))
		if err != nil || normInside.Replace(string(b)) != string(want) {
			t.Errorf("bundle import --mirror-config %s: %v\n%s", rel, err, b)
		}
	}
	// A CTF made by hand carries no upstream: refused before anything is written.
	ctfDir := filepath.Join(t.TempDir(), "ctf")
	mustRun(t, "transfer", ref, ctfDir)
	if code, _, stderr := run(t, "bundle", "import", ctfDir, inside.Host+"/other", "--mirror-config", t.TempDir()); code != 2 || !strings.Contains(stderr, "no copied image names the registry it came from") {
		t.Errorf("import of a CTF with --mirror-config: exit %d: %s", code, stderr)
	}
}
