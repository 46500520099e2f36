package transfer_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/transfer"
)

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// planIndex plans the fixture's two-platform index (tag 6.3.6) into
// target, copying only platforms.
func (f *imageFixture) planIndex(t *testing.T, src oci.Reader, target string, o transfer.PlanOptions) *transfer.Plan {
	t.Helper()
	pl := transfer.NewPlanner(src, o)
	from := ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.6")
	if _, err := pl.Add(t.Context(), from, target, []string{"6.3.6"}, from.String()); err != nil {
		t.Fatal(err)
	}
	return pl.Plan()
}

// wantFiltered is the fixture's index with only its amd64 child, encoded as
// the fixture encodes the whole one.
func (f *imageFixture) wantFiltered() v1.Descriptor {
	ad := f.amd.Desc
	ad.Platform = &amd64
	b, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{ad}})
	return oci.DescriptorOf(types.OCIImageIndex, b)
}

func indexArtifact(t *testing.T, p *transfer.Plan, d v1.Hash) *transfer.Artifact {
	t.Helper()
	for i := range p.Artifacts {
		if p.Artifacts[i].Digest == d {
			return &p.Artifacts[i]
		}
	}
	t.Fatalf("the plan holds no artifact %s", d)
	return nil
}

// TestPlatformFilterRegistry: distribution (validation of index children on,
// its default) refuses the index without its arm64 child, so the filtered
// index lands, and the plan, the report and Plan.Landed say so.
func TestPlatformFilterRegistry(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	target := f.dst.Host + "/air/stefanprodan/podinfo"
	o := transfer.PlanOptions{Platforms: []v1.Platform{amd64}, NoAttachments: true}
	p := f.planIndex(t, s, target, o)
	want := f.wantFiltered()

	idx := indexArtifact(t, p, f.index.Digest)
	if idx.Filter == nil || idx.Filter.Digest != want.Digest || idx.Filter.Size != want.Size {
		t.Fatalf("plan filter = %+v; want digest %s size %d", idx.Filter, want.Digest, want.Size)
	}
	if len(idx.Filter.Platforms) != 1 || idx.Filter.Platforms[0].String() != "linux/amd64" ||
		len(idx.Filter.Dropped) != 1 || idx.Filter.Dropped[0].String() != "linux/arm64" {
		t.Errorf("plan filter keeps %v, drops %v", idx.Filter.Platforms, idx.Filter.Dropped)
	}
	if len(p.Artifacts) != 2 || len(idx.Children) != 1 || idx.Children[0] != f.amd.Desc.Digest {
		t.Fatalf("plan has %d artifacts, index children %v; want the index and its amd64 child", len(p.Artifacts), idx.Children)
	}

	rep, err := transfer.Run(t.Context(), p, s, s, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve(t.Context(), ref(t, target+":6.3.6"))
	if err != nil || got.Digest != want.Digest {
		t.Fatalf("6.3.6 in the target = %s, %v; want the filtered index %s", got.Digest, err, want.Digest)
	}
	checkComplete(t, s, target, got)
	b, err := oci.FetchBytes(t.Context(), s, target, got, 0)
	if err != nil {
		t.Fatal(err)
	}
	kids, _ := oci.Children(got.MediaType, b)
	if len(kids) != 1 || kids[0].Digest != f.amd.Desc.Digest {
		t.Fatalf("the filtered index names %v; want only the amd64 child", kids)
	}
	for _, d := range []v1.Descriptor{f.arm.Desc, f.index} {
		if ok, _ := s.Exists(t.Context(), target, d); ok {
			t.Errorf("%s is in the target", d.Digest)
		}
	}
	if len(rep.Artifacts) != 1 || rep.Artifacts[0].Digest != want.Digest ||
		rep.Artifacts[0].FilteredFrom == nil || *rep.Artifacts[0].FilteredFrom != f.index.Digest {
		t.Errorf("report = %+v; want digest %s filtered from %s", rep.Artifacts, want.Digest, f.index.Digest)
	}
	if d, ok := p.Landed(target, f.index.Digest); !ok || d.Digest != want.Digest {
		t.Errorf("Landed = %s, %v; want %s", d.Digest, ok, want.Digest)
	}

	// A re-run with a fresh plan finds the filtered index and copies nothing.
	f.dst.ResetRequests()
	p2 := f.planIndex(t, s, target, o)
	rep, err = transfer.Run(t.Context(), p2, s, s, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ManifestsPushed != 0 || rep.TagsSet != 0 || rep.BytesCopied != 0 {
		t.Errorf("re-run pushed %d manifests, %d tags, %d bytes", rep.ManifestsPushed, rep.TagsSet, rep.BytesCopied)
	}
	if d, _ := p2.Landed(target, f.index.Digest); d.Digest != want.Digest {
		t.Errorf("re-run: Landed = %s, want %s", d.Digest, want.Digest)
	}
	if n := len(f.dst.Requests().Filter(http.MethodPut, "/v2/")); n != 0 {
		t.Errorf("re-run sent %d PUTs", n)
	}
}

// TestPlatformFilterCTF: a CTF takes the index with an absent child, so the
// index keeps its digest, and only the amd64 child is copied.
func TestPlatformFilterCTF(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	a, err := ctf.Create(filepath.Join(t.TempDir(), "ctf"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	target := "stefanprodan/podinfo"
	p := f.planIndex(t, s, target, transfer.PlanOptions{Platforms: []v1.Platform{amd64}, NoAttachments: true})
	rep, err := transfer.Run(t.Context(), p, s, a, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Resolve(t.Context(), ref(t, target+":6.3.6"))
	if err != nil || got.Digest != f.index.Digest {
		t.Fatalf("6.3.6 in the CTF = %s, %v; want the source index %s", got.Digest, err, f.index.Digest)
	}
	if ok, _ := a.Exists(t.Context(), target, f.amd.Desc); !ok {
		t.Error("the amd64 child is missing")
	}
	if ok, _ := a.Exists(t.Context(), target, f.arm.Desc); ok {
		t.Error("the arm64 child was copied")
	}
	if ok, _ := a.Exists(t.Context(), target, f.wantFiltered()); ok {
		t.Error("the filtered index was written although the CTF took the whole one")
	}
	if rep.Artifacts[0].Digest != f.index.Digest || rep.Artifacts[0].FilteredFrom != nil || len(rep.Artifacts[0].Platforms) != 1 {
		t.Errorf("report = %+v; want the source digest, one platform, not filtered", rep.Artifacts[0])
	}
	if d, _ := p.Landed(target, f.index.Digest); d.Digest != f.index.Digest {
		t.Errorf("Landed = %s, want %s", d.Digest, f.index.Digest)
	}
}

func TestPlatformFilterNoMatch(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	pl := transfer.NewPlanner(s, transfer.PlanOptions{Platforms: []v1.Platform{{OS: "linux", Architecture: "s390x"}}})
	from := ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.6")
	_, err := pl.Add(t.Context(), from, f.dst.Host+"/air/podinfo", nil, "")
	if !errors.Is(err, transfer.ErrNoPlatform) {
		t.Fatalf("got %v, want ErrNoPlatform", err)
	}
	for _, s := range []string{f.index.Digest.String(), "linux/amd64, linux/arm64", "linux/s390x"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	// A single image has no platforms to choose from: it is copied.
	if _, err := pl.Add(t.Context(), ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.5"), f.dst.Host+"/air/podinfo", nil, ""); err != nil {
		t.Fatal(err)
	}
}
