package testimage_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/testimage"
)

// TestSampleGolden pins the digests of the demo release. A change to the
// layer generator, the tar or gzip framing, the config or the manifest
// encoding changes them; if the change is meant, update the table (and
// expect the demo's recorded outputs to change too).
func TestSampleGolden(t *testing.T) {
	want := map[string]string{
		"stefanprodan/podinfo:6.3.5": "sha256:7e06b9864b61b1ee61cf32498ad8485b9080acaff97a1910ec21604f909a2f8e",
		"stefanprodan/podinfo:6.3.6": "sha256:b02850fbd92ff8579646f763e51928d88288ccd9dde02e3553f62c86583b6eae",
		"library/busybox:1.36":       "sha256:999301618bf099c0e4106ed961d75c08342f39401e5e75810a52f09d93140ad3",
	}
	sample := testimage.Sample()
	if len(sample) != len(want) {
		t.Fatalf("Sample has %d artifacts, want %d", len(sample), len(want))
	}
	for _, n := range sample {
		d, err := n.Artifact.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		if d.Digest.String() != want[n.String()] {
			t.Errorf("%s is %s, want %s", n, d.Digest, want[n.String()])
		}
	}
}

func TestSampleShape(t *testing.T) {
	sample := testimage.Sample()
	platforms := func(a testimage.Artifact) []string {
		var out []string
		for _, im := range a.Images() {
			out = append(out, im.Platform.String())
		}
		return out
	}
	for i, want := range [][]string{{"linux/amd64"}, {"linux/amd64", "linux/arm64"}, {"linux/amd64"}} {
		if got := platforms(sample[i].Artifact); !reflect.DeepEqual(got, want) {
			t.Errorf("%s platforms %v, want %v", sample[i], got, want)
		}
	}
	if _, ok := sample[1].Artifact.(testimage.Index); !ok {
		t.Errorf("%s is a %T, want an Index", sample[1], sample[1].Artifact)
	}
	st := sample.Stats()
	if st.UniqueBytes > 32<<10 {
		t.Errorf("sample has %d bytes of layers, want a few KiB", st.UniqueBytes)
	}
	// podinfo 6.3.5 and the amd64 image of 6.3.6 share their base layer.
	a := sample[0].Artifact.Images()[0].Layers[0]
	b := sample[1].Artifact.Images()[0].Layers[0]
	if a != b {
		t.Errorf("podinfo 6.3.5 and 6.3.6 do not share a base layer")
	}
}

// TestDeterministic builds everything twice and compares bytes: no map
// order, clock or shared state leaks into the output.
func TestDeterministic(t *testing.T) {
	for _, mk := range []func() testimage.Set{
		testimage.Sample,
		func() testimage.Set { return testimage.Corpus(9, 1<<20) },
	} {
		a, b := mk(), mk()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("two calls gave different sets")
		}
		for i := range a {
			ma, err := a[i].Artifact.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				mb, err := b[i].Artifact.Manifest()
				if err != nil {
					t.Fatal(err)
				}
				if string(ma) != string(mb) {
					t.Errorf("%s: manifests differ:\n%s\n%s", a[i], ma, mb)
				}
			}
		}
	}
}

func TestImageConfig(t *testing.T) {
	im := testimage.Image{
		Platform: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Layers:   []testimage.Layer{{Seed: 1, Size: 10}, {Seed: 2, Size: 20}},
		Config:   testimage.Config{Cmd: []string{"run"}, Labels: map[string]string{"b": "2", "a": "1"}},
	}
	b, err := im.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Variant != "v8" || cf.RootFS.Type != "layers" ||
		len(cf.RootFS.DiffIDs) != 2 || len(cf.History) != 2 || !cf.Created.Equal(testimage.ModTime) ||
		!reflect.DeepEqual(cf.Config.Cmd, []string{"run"}) || cf.Config.Labels["a"] != "1" {
		t.Errorf("config %s", b)
	}
	for i, l := range im.Layers {
		d, _ := l.DiffID()
		if cf.RootFS.DiffIDs[i] != d {
			t.Errorf("diff_id %d is %s, layer says %s", i, cf.RootFS.DiffIDs[i], d)
		}
	}

	m, err := im.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var mf v1.Manifest
	if err := json.Unmarshal(m, &mf); err != nil {
		t.Fatal(err)
	}
	if mf.MediaType != types.OCIManifestSchema1 || mf.Config.MediaType != types.OCIConfigJSON ||
		mf.Config.Size != int64(len(b)) || len(mf.Layers) != 2 || mf.Layers[1].MediaType != types.OCILayer {
		t.Errorf("manifest %s", m)
	}
}

func TestArtifactErrors(t *testing.T) {
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		name string
		a    testimage.Artifact
	}{
		{"image without platform", testimage.Image{Layers: []testimage.Layer{{Seed: 1}}}},
		{"docker image with annotations", testimage.Image{Platform: amd64, Docker: true, Annotations: map[string]string{"a": "b"}}},
		{"docker index with annotations", testimage.Index{Docker: true, Annotations: map[string]string{"a": "b"}}},
		{"index with a bad child", testimage.Index{Manifests: []testimage.Image{{Platform: amd64}, {}}}},
		{"negative layer size", testimage.Image{Platform: amd64, Layers: []testimage.Layer{{Seed: 1, Size: -5}}}},
	} {
		if _, err := tc.a.Descriptor(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want testimage.Size
	}{
		{"small", testimage.Small},
		{"default", testimage.Default},
		{"1048576", 1 << 20},
		{"200MiB", 200 << 20},
		{"2GiB", 2 << 30},
		{"3KiB", 3 << 10},
		{"500MB", 500e6},
		{"1GB", 1e9},
	} {
		got, err := testimage.ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "big", "-1", "0", "1.5GiB", "12TiB", "9999999999GiB", "MiB"} {
		if got, err := testimage.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestCorpusSeeds(t *testing.T) {
	a, b := testimage.Corpus(1, 1<<20), testimage.Corpus(2, 1<<20)
	seeds := map[uint64]bool{}
	for _, s := range []testimage.Set{a, b} {
		for _, n := range s {
			for _, im := range n.Artifact.Images() {
				for _, l := range im.Layers {
					seeds[l.Seed] = true
				}
			}
		}
	}
	if st := a.Stats(); len(seeds) != 2*st.UniqueLayers {
		t.Errorf("two seeds gave %d distinct layers, want %d", len(seeds), 2*st.UniqueLayers)
	}
	if got := testimage.Corpus(1, 0); !reflect.DeepEqual(got, testimage.Corpus(1, testimage.Default)) {
		t.Errorf("size 0 is not Default")
	}
}
