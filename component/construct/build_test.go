package construct_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// build parses a one-component constructor whose resources are given in
// YAML, with dir as the constructor's directory, and builds it.
func build(t *testing.T, dir, resources string, opts construct.Options) *construct.Result {
	t.Helper()
	text := "name: example.com/demo\nversion: 1.0.0\nprovider: {name: acme}\nresources:\n" + resources
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{File: filepath.Join(dir, "component-constructor.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	res, err := construct.Build(context.Background(), specs[0], opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestUTF8AndBinary(t *testing.T) {
	res := build(t, t.TempDir(), `
- name: text
  type: blob
  input: {type: utf8, text: "hello\n"}
- name: json
  type: blob
  input:
    type: utf8
    json: {b: [1, 2.5, "x<y"], a: true}
- name: formatted
  type: blob
  input:
    type: utf8
    formattedJson: {b: 1, a: {c: null}}
- name: yaml
  type: blob
  input:
    type: utf8
    mediaType: application/x-yaml
    yaml: {name: demo, list: [1, two]}
- name: json-from-string
  type: blob
  input:
    type: utf8
    json: "a: 1\nb: [x]"
- name: binary
  type: blob
  input: {type: binary, data: "AAEC/w=="}
- name: empty
  type: blob
  input: {type: utf8}
`, construct.Options{})
	want := map[string]struct{ content, mediaType string }{
		"text":             {"hello\n", construct.MediaTypeOctetStream},
		"json":             {`{"a":true,"b":[1,2.5,"x\u003cy"]}`, construct.MediaTypeOctetStream},
		"formatted":        {"{\n  \"a\": {\n    \"c\": null\n  },\n  \"b\": 1\n}", construct.MediaTypeOctetStream},
		"yaml":             {"list:\n- 1\n- two\nname: demo\n", "application/x-yaml"},
		"json-from-string": {`{"a":1,"b":["x"]}`, construct.MediaTypeOctetStream},
		"binary":           {"\x00\x01\x02\xff", construct.MediaTypeOctetStream},
		"empty":            {"", construct.MediaTypeOctetStream},
	}
	if len(res.Blobs) != len(want) {
		t.Fatalf("%d blobs", len(res.Blobs))
	}
	for i, b := range res.Blobs {
		w := want[b.Identity["name"]]
		if got := string(readBlob(t, b)); got != w.content {
			t.Errorf("%s: content %q, want %q", b.Identity["name"], got, w.content)
		}
		r := res.Descriptor.Resources[i]
		la, err := r.Access.LocalBlob()
		if err != nil {
			t.Fatal(err)
		}
		if la.MediaType != w.mediaType || la.LocalReference != b.Descriptor.Digest.String() || la.ReferenceName != "" {
			t.Errorf("%s: access %+v, blob %v", r.Name, la, b.Descriptor)
		}
		if r.Digest == nil || r.Digest.Value != b.Descriptor.Digest.Hex || r.Digest.NormalisationAlgorithm != component.GenericBlobDigestV1 {
			t.Errorf("%s: digest %v", r.Name, r.Digest)
		}
		if r.Version != "1.0.0" || r.Relation != component.RelationLocal {
			t.Errorf("%s: version %q relation %q", r.Name, r.Version, r.Relation)
		}
	}
}

func TestFileCompress(t *testing.T) {
	dir := t.TempDir()
	content := strings.Repeat("compress me ", 1000)
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	res := build(t, dir, "- name: ff\n  type: blob\n  input: {type: file, path: f.txt, compress: true}\n", construct.Options{})
	b := res.Blobs[0]
	if b.Descriptor.MediaType != construct.MediaTypeGzip {
		t.Errorf("media type %s", b.Descriptor.MediaType)
	}
	zr, err := gzip.NewReader(bytes.NewReader(readBlob(t, b)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != content {
		t.Error("gzip content differs")
	}
	if b.Descriptor.Size >= int64(len(content)) {
		t.Errorf("compressed size %d", b.Descriptor.Size)
	}
}

// TestBlobChangedAfterBuild: Open streams the file as it is now; a
// digest-checking reader reports that it no longer matches.
func TestBlobChangedAfterBuild(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f.txt")
	os.WriteFile(f, []byte("before"), 0o644)
	res := build(t, dir, "- name: ff\n  type: blob\n  input: {type: file, path: f.txt}\n", construct.Options{})
	os.WriteFile(f, []byte("after!"), 0o644)
	rc, err := res.Blobs[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	vr, err := oci.VerifyReader(rc, res.Blobs[0].Descriptor)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(vr)
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Errorf("reading a changed file: %v, want ErrDigestMismatch", err)
	}
}

type entry struct {
	name string
	typ  byte
	mode int64
	link string
	body string
}

func tarEntries(t *testing.T, b []byte) []entry {
	t.Helper()
	var out []entry
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: header not normalised", h.Name)
		}
		out = append(out, entry{h.Name, h.Typeflag, h.Mode, h.Linkname, string(body)})
	}
}

// tree makes a directory: a/x.yaml, a/b/y.txt, a-b.yaml (sorts between a
// and a/ in a flat sort, after a/ in OCM's walk), run.sh (executable),
// link -> a/x.yaml, and returns it.
func tree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	for name, content := range map[string]string{"a/x.yaml": "x", "a/b/y.txt": "y", "a-b.yaml": "ab", "run.sh": "#!/bin/sh\n"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "run.sh"), 0o700)
	if err := os.Symlink("a/x.yaml", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDirInput(t *testing.T) {
	dir := tree(t)
	for _, tc := range []struct {
		name, input string
		want        []entry
	}{
		{"plain", "{type: dir, path: tree}", []entry{
			{"a", tar.TypeDir, 0o755, "", ""},
			{"a/b", tar.TypeDir, 0o755, "", ""},
			{"a/b/y.txt", tar.TypeReg, 0o644, "", "y"},
			{"a/x.yaml", tar.TypeReg, 0o644, "", "x"},
			{"a-b.yaml", tar.TypeReg, 0o644, "", "ab"},
			{"link", tar.TypeSymlink, 0o777, "a/x.yaml", ""},
			{"run.sh", tar.TypeReg, 0o755, "", "#!/bin/sh\n"},
		}},
		{"preserveDir", "{type: dir, path: tree, preserveDir: true, excludeFiles: [a]}", []entry{
			{"tree", tar.TypeDir, 0o755, "", ""},
			{"tree/a-b.yaml", tar.TypeReg, 0o644, "", "ab"},
			{"tree/link", tar.TypeSymlink, 0o777, "a/x.yaml", ""},
			{"tree/run.sh", tar.TypeReg, 0o755, "", "#!/bin/sh\n"},
		}},
		// OCM applies include patterns to directories too: "a" does not
		// match *.yaml, so a/x.yaml is left out with it.
		{"include", "{type: dir, path: tree, includeFiles: ['*.yaml']}", []entry{
			{"a-b.yaml", tar.TypeReg, 0o644, "", "ab"},
		}},
		{"include nested", "{type: dir, path: tree, includeFiles: [a, 'a/*.yaml']}", []entry{
			{"a", tar.TypeDir, 0o755, "", ""},
			{"a/x.yaml", tar.TypeReg, 0o644, "", "x"},
		}},
		{"followSymlinks", "{type: dir, path: tree, followSymlinks: true, excludeFiles: [a, '*.sh', '*.yaml']}", []entry{
			{"link", tar.TypeReg, 0o644, "", "x"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := build(t, filepath.Dir(dir), "- name: dd\n  type: directoryTree\n  input: "+tc.input+"\n", construct.Options{})
			b := res.Blobs[0]
			if b.Descriptor.MediaType != construct.MediaTypeTar {
				t.Errorf("media type %s", b.Descriptor.MediaType)
			}
			got := tarEntries(t, readBlob(t, b))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("entries\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

func TestDirSymlinkLoop(t *testing.T) {
	dir := tree(t)
	if err := os.Symlink("..", filepath.Join(dir, "a", "up")); err != nil {
		t.Fatal(err)
	}
	text := "name: example.com/demo\nversion: 1.0.0\nprovider: {name: acme}\nresources:\n- name: dd\n  type: directoryTree\n  input: {type: dir, path: tree, followSymlinks: true}\n"
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{Dir: filepath.Dir(dir)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = construct.Build(context.Background(), specs[0], construct.Options{})
	var e *construct.Error
	if !errors.As(err, &e) || e.Path != "resources[0].input.path" || !strings.Contains(err.Error(), "loop") {
		t.Errorf("error %v, want a loop at resources[0].input.path", err)
	}
}

func TestSourceInput(t *testing.T) {
	text := `name: example.com/demo
version: 1.0.0
provider: {name: acme}
sources:
- name: src
  type: filesystem
  input: {type: utf8, text: source}
resources:
- name: bin
  type: blob
  srcRefs: [{identitySelector: {name: src}}]
  input: {type: binary, data: AA==}
`
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := construct.Build(context.Background(), specs[0], construct.Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Blobs) != 2 || res.Blobs[0].Kind != "source" || res.Blobs[1].Kind != "resource" {
		t.Fatalf("blobs %+v", res.Blobs)
	}
	if la, err := res.Descriptor.Sources[0].Access.LocalBlob(); err != nil || la.LocalReference != res.Blobs[0].Descriptor.Digest.String() {
		t.Errorf("source access %+v %v", la, err)
	}
	if res.Descriptor.Sources[0].Version != "1.0.0" {
		t.Errorf("source version %q", res.Descriptor.Sources[0].Version)
	}
	if !res.Descriptor.CreationTime.Equal(fixedClock()) || res.Descriptor.Scheme != component.SchemeV2 {
		t.Errorf("creationTime %v scheme %q", res.Descriptor.CreationTime, res.Descriptor.Scheme)
	}
}

// TestOCIArtifactDigest resolves an image reference in a real registry.
func TestOCIArtifactDigest(t *testing.T) {
	reg := registrytest.New(t)
	s, err := remote.New(remote.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	img := storetest.NewImage(1, 64)
	repo := reg.Host + "/acme/app"
	img.Push(ctx, t, s, repo)
	ref, _ := oci.ParseRef(repo + ":1.0")
	if err := s.Tag(ctx, ref, img.Desc); err != nil {
		t.Fatal(err)
	}
	other := storetest.NewImage(1, 64) // pinned by digest: never asked for
	res := build(t, t.TempDir(), fmt.Sprintf(`
- name: tagged
  type: ociImage
  version: 1.0.0
  access: {type: ociArtifact, imageReference: "%[1]s:1.0"}
- name: pinned
  type: ociImage
  version: 1.0.0
  access: {type: ociArtifact, imageReference: "%[1]s:2.0@%[2]s"}
- name: skipped
  type: ociImage
  version: 1.0.0
  options: {skipDigestGeneration: true}
  access: {type: ociArtifact, imageReference: "%[1]s:missing"}
- name: given
  type: ociImage
  version: 1.0.0
  digest: {hashAlgorithm: SHA-256, normalisationAlgorithm: ociArtifactDigest/v1, value: "%[3]s"}
  access: {type: ociArtifact, imageReference: "%[1]s:missing"}
- name: chart
  type: helmChart
  version: 1.0.0
  access: {type: helm, helmRepository: "https://charts.example.com", helmChart: "app:1.0.0"}
`, repo, other.Desc.Digest, other.Desc.Digest.Hex), construct.Options{Resolver: s})
	want := map[string]string{"tagged": img.Desc.Digest.Hex, "pinned": other.Desc.Digest.Hex, "given": other.Desc.Digest.Hex}
	for _, r := range res.Descriptor.Resources {
		w, ok := want[r.Name]
		switch {
		case !ok && r.Digest != nil:
			t.Errorf("%s: digest %v, want none", r.Name, r.Digest)
		case ok && (r.Digest == nil || r.Digest.Value != w || r.Digest.NormalisationAlgorithm != component.OCIArtifactDigestV1 || r.Digest.HashAlgorithm != "SHA-256"):
			t.Errorf("%s: digest %v, want ociArtifactDigest/v1 %s", r.Name, r.Digest, w)
		}
		if r.Relation != component.RelationExternal {
			t.Errorf("%s: relation %q", r.Name, r.Relation)
		}
	}
	if len(res.Blobs) != 0 {
		t.Errorf("%d blobs for accesses", len(res.Blobs))
	}

	// A tag the registry does not have.
	text := fmt.Sprintf("name: example.com/demo\nversion: 1.0.0\nprovider: {name: acme}\nresources:\n- name: img\n  type: ociImage\n  version: 1.0.0\n  access: {type: ociArtifact, imageReference: %q}\n", repo+":nope")
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{File: "cc.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = construct.Build(ctx, specs[0], construct.Options{Resolver: s})
	var e *construct.Error
	if !errors.Is(err, oci.ErrNotFound) || !errors.As(err, &e) || e.Path != "resources[0].access.imageReference" {
		t.Errorf("missing tag: %v, want ErrNotFound at resources[0].access.imageReference", err)
	}
}

func TestCreationTimeAndScheme(t *testing.T) {
	text := `name: example.com/demo
version: 1.0.0
provider: {name: acme}
creationTime: "2024-02-03T04:05:06.7+01:00"
meta: {configuredSchemaVersion: ocm.software/v3alpha1}
resources:
- {name: n, type: blob, input: {type: utf8, text: x}}
`
	text = strings.Replace(text, "name: n,", "name: nn,", 1)
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := construct.Build(context.Background(), specs[0], construct.Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 2, 3, 3, 5, 6, 0, time.UTC); !res.Descriptor.CreationTime.Equal(want) {
		t.Errorf("creationTime %v, want %v", res.Descriptor.CreationTime, want)
	}
	if res.Descriptor.Scheme != component.SchemeV3Alpha1 {
		t.Errorf("scheme %q", res.Descriptor.Scheme)
	}
	enc, err := component.Encode(res.Descriptor, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := component.Decode(enc); err != nil {
		t.Errorf("built descriptor does not decode: %v\n%s", err, enc)
	}
}
