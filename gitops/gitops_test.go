package gitops

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/localize"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

func writeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := localize.Files{
		"kustomization.yaml":       []byte("resources:\n- deploy.yaml\n"),
		"deploy.yaml":              []byte("kind: Deployment\n"),
		"base/config/map.yaml":     []byte("kind: ConfigMap\n"),
		"base/a-b/x.yaml":          []byte("x: 1\n"),
		"hack/run.sh":              []byte("#!/bin/sh\n"),
		"very/" + long(120) + ".y": []byte("long name\n"),
	}
	if err := localize.WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "hack/run.sh"), 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

func long(n int) string { return string(bytes.Repeat([]byte("n"), n)) }

// inZone runs f with time.Local set to zone.
func inZone(t *testing.T, zone *time.Location, f func()) {
	t.Helper()
	old := time.Local
	time.Local = zone
	defer func() { time.Local = old }()
	f()
}

func TestBuildIsDeterministic(t *testing.T) {
	dir := writeTree(t)
	o := Options{Source: "https://github.com/acme/app", Revision: "6.3.5@sha256:abc"}
	var a1, a2 *Artifact
	var err error
	inZone(t, time.FixedZone("Berlin", 3600), func() { a1, err = Build(os.DirFS(dir), o) })
	if err != nil {
		t.Fatal(err)
	}
	// Other file times, another time zone, another process umask: same digest.
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		return os.Chtimes(p, time.Now().Add(-time.Hour*1000), time.Now().Add(time.Hour))
	})
	inZone(t, time.FixedZone("NewYork", -5*3600), func() { a2, err = Build(os.DirFS(dir), o) })
	if err != nil {
		t.Fatal(err)
	}
	if a1.Descriptor.Digest != a2.Descriptor.Digest || !bytes.Equal(a1.Layer, a2.Layer) {
		t.Fatalf("digests differ: %s %s", a1.Descriptor.Digest, a2.Descriptor.Digest)
	}
	// The same files from memory give the same artifact too.
	files, err := localize.ReadFS(os.DirFS(dir), localize.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	a3, err := Build(files, o)
	if err != nil {
		t.Fatal(err)
	}
	if a3.Descriptor.Digest == a1.Descriptor.Digest {
		t.Error("the executable bit of hack/run.sh was lost in one of the builds, yet digests agree")
	}

	var m v1.Manifest
	if err := json.Unmarshal(a1.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != oci.MediaTypeOCIEmptyConfig || string(a1.Config) != "{}" || m.ArtifactType != ArtifactType ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeLayer {
		t.Errorf("manifest %s", a1.Manifest)
	}
	want := map[string]string{AnnotationCreated: "1970-01-01T00:00:00Z", AnnotationSource: o.Source, AnnotationRevision: o.Revision}
	for k, v := range want {
		if m.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}
	checkLayer(t, a1.Layer)
}

// checkLayer checks the normalised headers of a layer.
func checkLayer(t *testing.T, layer []byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() || zr.Comment != "" {
		t.Errorf("gzip header %+v", zr.Header)
	}
	tr := tar.NewReader(zr)
	var names []string
	modes := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		modes[h.Name] = h.Mode
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 0 ||
			(h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir) {
			t.Errorf("header %+v", h)
		}
	}
	wantNames := []string{"base/", "base/a-b/", "base/a-b/x.yaml", "base/config/", "base/config/map.yaml", "deploy.yaml",
		"hack/", "hack/run.sh", "kustomization.yaml", "very/", "very/" + long(120) + ".y"}
	if len(names) != len(wantNames) {
		t.Fatalf("entries %v", names)
	}
	for i := range names {
		if names[i] != wantNames[i] {
			t.Fatalf("entries %v, want %v", names, wantNames)
		}
	}
	if modes["hack/run.sh"] != 0o755 || modes["deploy.yaml"] != 0o644 || modes["base/"] != 0o755 {
		t.Errorf("modes %v", modes)
	}
}

func TestBuildRefusesSymlinks(t *testing.T) {
	dir := writeTree(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(os.DirFS(dir), Options{}); !errors.Is(err, localize.ErrUnsafeArchive) {
		t.Errorf("got %v", err)
	}
}

func TestBuildFlux(t *testing.T) {
	a, err := Build(localize.Files{"a.yaml": []byte("a: 1\n")}, Options{Format: FormatFlux, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 7200))})
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	json.Unmarshal(a.Manifest, &m)
	if m.Config.MediaType != MediaTypeFluxConfig || m.Layers[0].MediaType != MediaTypeFluxLayer || m.ArtifactType != "" ||
		m.Annotations[AnnotationCreated] != "2026-01-02T01:04:05Z" {
		t.Errorf("manifest %s", a.Manifest)
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(a.Config, &cfg); err != nil || len(cfg.RootFS.DiffIDs) != 1 {
		t.Errorf("config %s: %v", a.Config, err)
	}
	if _, err := Build(localize.Files{}, Options{Format: "helm"}); !errors.Is(err, oci.ErrUnsupported) {
		t.Errorf("unknown format: %v", err)
	}
}

func newStore(t *testing.T) (*remote.Store, string) {
	t.Helper()
	reg := registrytest.New(t)
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	return s, reg.Host
}

func TestPushPull(t *testing.T) {
	ctx := context.Background()
	dir := writeTree(t)
	// Built in two time zones, with the files' times changed in between;
	// before any registry runs, since changing time.Local races with servers.
	var arts []*Artifact
	for i, zone := range []*time.Location{time.UTC, time.FixedZone("Tokyo", 9*3600)} {
		var a *Artifact
		var err error
		inZone(t, zone, func() { a, err = Build(os.DirFS(dir), Options{Source: "oci://x", Revision: "1.0"}) })
		if err != nil {
			t.Fatal(err)
		}
		arts = append(arts, a)
		os.Chtimes(filepath.Join(dir, "deploy.yaml"), time.Now(), time.Now().Add(time.Duration(i+1)*time.Hour))
	}
	s, host := newStore(t)
	var digests []v1.Hash
	for i, a := range arts {
		ref, _ := oci.ParseRef(host + "/apps/podinfo-deploy:6.3.5")
		if i == 1 {
			ref, _ = oci.ParseRef(host + "/apps/podinfo-deploy:again")
		}
		d, err := Push(ctx, s, ref, a)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d.Digest)
	}
	if digests[0] != digests[1] {
		t.Fatalf("digests differ: %v", digests)
	}
	ref, _ := oci.ParseRef(host + "/apps/podinfo-deploy:6.3.5")
	out := filepath.Join(t.TempDir(), "out")
	p, err := Pull(ctx, s, ref, out, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Descriptor.Digest != digests[0] || p.Annotations[AnnotationRevision] != "1.0" {
		t.Errorf("pulled %+v", p)
	}
	want, _ := localize.ReadFS(os.DirFS(dir), localize.Limits{})
	got, err := localize.ReadFS(os.DirFS(out), localize.Limits{})
	if err != nil || len(got) != len(want) {
		t.Fatalf("pulled %v, want %v (%v)", got.Names(), want.Names(), err)
	}
	for p, b := range want {
		if !bytes.Equal(got[p], b) {
			t.Errorf("%s differs", p)
		}
	}
}

// corrupting serves a different layer body than the manifest names.
type corrupting struct {
	oci.Store
	layer v1.Hash
}

func (c corrupting) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if d.Digest == c.layer {
		rc, err := c.Store.Fetch(ctx, repo, d)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		b[len(b)/2] ^= 0xff
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return c.Store.Fetch(ctx, repo, d)
}

func TestPullRefuses(t *testing.T) {
	ctx := context.Background()
	s, host := newStore(t)
	a, err := Build(localize.Files{"a.yaml": []byte("a: 1\n")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := oci.ParseRef(host + "/apps/a:1")
	if _, err := Push(ctx, s, ref, a); err != nil {
		t.Fatal(err)
	}

	// A layer that does not match its digest: nothing is written.
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Pull(ctx, corrupting{s, a.LayerDescriptor.Digest}, ref, out, PullOptions{}); !errors.Is(err, oci.ErrDigestMismatch) {
		t.Errorf("corrupt layer: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("something was written: %v", err)
	}

	// Another layer media type.
	var m v1.Manifest
	json.Unmarshal(a.Manifest, &m)
	m.Layers[0].MediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	mb, _ := json.Marshal(m)
	d := oci.DescriptorOf(m.MediaType, mb)
	if err := oci.PushBytes(ctx, s, ref.Repo(), d, mb); err != nil {
		t.Fatal(err)
	}
	ref2, _ := oci.ParseRef(host + "/apps/a:helm")
	if err := s.Tag(ctx, ref2, d); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, s, ref2, PullOptions{}); !errors.Is(err, ErrNotArtifact) {
		t.Errorf("helm layer: %v", err)
	}

	// A layer over the size limit is not fetched.
	if _, err := Fetch(ctx, s, ref, PullOptions{MaxLayerSize: 10}); !errors.Is(err, oci.ErrTooLarge) {
		t.Errorf("size limit: %v", err)
	}
}

// FuzzUnpack: any layer bytes give an error or a tree of clean relative
// paths, never a panic.
func FuzzUnpack(f *testing.F) {
	a, err := Build(localize.Files{"a/b.yaml": []byte("b: 1\n"), "c": []byte("c")}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(a.Layer)
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := Unpack(b, localize.Limits{MaxTotalSize: 1 << 20})
		if err != nil {
			return
		}
		for p := range files {
			if filepath.IsAbs(p) || filepath.Clean(p) != p || p == ".." || len(p) >= 3 && p[:3] == "../" {
				t.Fatalf("unsafe path %q", p)
			}
		}
	})
}
