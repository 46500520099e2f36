package testimage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// newStore returns the registry Store the tests push through.
func newStore(t *testing.T) oci.Store {
	t.Helper()
	s, err := remote.New(remote.WithPlainHTTP(true))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkInRegistry reads ref back with go-containerregistry (not with ferry's
// code), checks that it resolves to want, and validates it in full: every
// layer is downloaded, gunzipped and checked against its digest and diff_id.
func checkInRegistry(t *testing.T, ref string, want v1.Descriptor) {
	t.Helper()
	desc, err := ggcr.Get(mustParse(t, ref))
	if err != nil {
		t.Fatalf("getting %s: %v", ref, err)
	}
	if desc.Digest != want.Digest || desc.Size != want.Size || desc.MediaType != want.MediaType {
		t.Errorf("%s is %s %s (%d bytes), pushed %s %s (%d bytes)", ref,
			desc.MediaType, desc.Digest, desc.Size, want.MediaType, want.Digest, want.Size)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Index(idx); err != nil {
			t.Errorf("validating %s: %v", ref, err)
		}
		return
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("validating %s: %v", ref, err)
	}
}

func TestPushSampleToRegistry(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.New(t)
	sample := testimage.Sample()
	got, err := sample.Push(ctx, newStore(t), reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range sample {
		want, err := n.Artifact.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		if got[i].Digest != want.Digest {
			t.Errorf("Push of %s returned %s, Descriptor says %s", n, got[i].Digest, want.Digest)
		}
		checkInRegistry(t, reg.Host+"/"+n.String(), want)
	}
}

// TestDockerMediaTypes pushes an index with Docker media types and checks
// that every level carries them and that the result validates.
func TestDockerMediaTypes(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.New(t)
	ix := testimage.Index{Docker: true, Manifests: []testimage.Image{
		{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Layers: []testimage.Layer{{Seed: 1, Size: 1000}}},
		{Platform: v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, Layers: []testimage.Layer{{Seed: 2, Size: 1000}}},
	}}
	d, err := testimage.Push(ctx, newStore(t), reg.Host+"/docker/app", "v1", ix)
	if err != nil {
		t.Fatal(err)
	}
	if d.MediaType != types.DockerManifestList {
		t.Errorf("index media type %s", d.MediaType)
	}
	ref := reg.Host + "/docker/app:v1"
	checkInRegistry(t, ref, d)

	idx, err := ggcr.Index(mustParse(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 || im.Manifests[1].Platform == nil || im.Manifests[1].Platform.Variant != "v7" {
		t.Fatalf("index manifests %+v", im.Manifests)
	}
	for _, c := range im.Manifests {
		img, err := idx.Image(c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if c.MediaType != types.DockerManifestSchema2 || m.MediaType != types.DockerManifestSchema2 ||
			m.Config.MediaType != types.DockerConfigJSON || m.Layers[0].MediaType != types.DockerLayer {
			t.Errorf("child %s: media types %s, %s, %s, %s", c.Digest, c.MediaType, m.MediaType, m.Config.MediaType, m.Layers[0].MediaType)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Platform().String() != c.Platform.String() {
			t.Errorf("child %s: config platform %s, index says %s", c.Digest, cf.Platform(), c.Platform)
		}
	}
}

// recorder passes every call to a real Store and records the order.
type recorder struct {
	oci.Store
	mu    sync.Mutex
	calls []call
}

type call struct {
	op     string // "push", "tag", "mount"
	repo   string
	desc   v1.Descriptor
	isMani bool
}

func (r *recorder) add(c call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) Push(ctx context.Context, repo string, d v1.Descriptor, rd io.Reader) error {
	r.add(call{op: "push", repo: repo, desc: d, isMani: oci.IsManifest(d.MediaType)})
	return r.Store.Push(ctx, repo, d, rd)
}

func (r *recorder) Tag(ctx context.Context, ref oci.Ref, d v1.Descriptor) error {
	r.add(call{op: "tag", repo: ref.Repo(), desc: d, isMani: true})
	return r.Store.Tag(ctx, ref, d)
}

func (r *recorder) Mount(ctx context.Context, from, to string, d v1.Descriptor) error {
	r.add(call{op: "mount", repo: to, desc: d})
	return r.Store.(oci.Mounter).Mount(ctx, from, to, d)
}

func (r *recorder) count(op string, manifests bool) int {
	n := 0
	for _, c := range r.calls {
		if c.op == op && c.isMani == manifests {
			n++
		}
	}
	return n
}

// TestPushOrder checks the order of writes for an index: blobs, then the
// children's manifests, then the index, then the tag; and that a second
// push writes nothing but the tag.
func TestPushOrder(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.New(t)
	rec := &recorder{Store: newStore(t)}
	n := testimage.Sample()[1] // podinfo 6.3.6, an index
	ix := n.Artifact.(testimage.Index)
	repo := reg.Host + "/" + n.Name
	top, err := testimage.Push(ctx, rec, repo, n.Tag, ix)
	if err != nil {
		t.Fatal(err)
	}

	var ops []string
	for _, c := range rec.calls {
		switch {
		case c.op == "tag":
			ops = append(ops, "tag")
		case c.desc.Digest == top.Digest:
			ops = append(ops, "index")
		case c.isMani:
			ops = append(ops, "child")
		default:
			ops = append(ops, "blob")
		}
	}
	// 2 configs and 4 layers, 2 children, the index, the tag.
	want := []string{"blob", "blob", "blob", "blob", "blob", "blob", "child", "child", "index", "tag"}
	if !slices.Equal(ops, want) {
		t.Errorf("writes %v, want %v", ops, want)
	}

	rec.calls = nil
	if _, err := testimage.Push(ctx, rec, repo, n.Tag, ix); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 || rec.calls[0].op != "tag" {
		t.Errorf("second push wrote %+v, want only the tag", rec.calls)
	}
}

// TestPushBadTag checks that a tag that cannot be parsed fails before
// anything is written.
func TestPushBadTag(t *testing.T) {
	reg := registrytest.New(t)
	rec := &recorder{Store: newStore(t)}
	_, err := testimage.Push(context.Background(), rec, reg.Host+"/x", "bad tag!", testimage.Sample()[0].Artifact)
	if !errors.Is(err, oci.ErrInvalidReference) {
		t.Errorf("got %v, want ErrInvalidReference", err)
	}
	if len(rec.calls) != 0 {
		t.Errorf("wrote %d times before failing", len(rec.calls))
	}
}

// TestPushCorpus pushes a tiny corpus and checks, from what the registry
// holds, that its sharing and its Stats are what Corpus documents.
func TestPushCorpus(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.New(t)
	rec := &recorder{Store: newStore(t)}
	set := testimage.Corpus(3, 2<<20)
	if _, err := set.Push(ctx, rec, reg.Host); err != nil {
		t.Fatal(err)
	}
	st := set.Stats()

	// Every distinct layer is uploaded once (besides one config per image);
	// other repositories mount it.
	if got := rec.count("push", false) - st.Images; got != st.UniqueLayers {
		t.Errorf("uploaded %d layers, want %d (one per distinct layer)", got, st.UniqueLayers)
	}
	if rec.count("mount", false) == 0 {
		t.Errorf("no layer was mounted")
	}

	// Read the layers back from the registry and count them.
	layers := map[v1.Hash]int64{}
	refs, total := 0, int64(0)
	base := map[v1.Hash]int{}
	for _, n := range set {
		ref := reg.Host + "/" + n.String()
		want, _ := n.Artifact.Descriptor()
		desc, err := ggcr.Get(mustParse(t, ref))
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != want.Digest {
			t.Fatalf("%s: registry has %s, pushed %s", ref, desc.Digest, want.Digest)
		}
		var imgs []v1.Image
		if desc.MediaType.IsIndex() {
			idx, _ := desc.ImageIndex()
			im, _ := idx.IndexManifest()
			for _, c := range im.Manifests {
				img, err := idx.Image(c.Digest)
				if err != nil {
					t.Fatal(err)
				}
				imgs = append(imgs, img)
			}
		} else {
			img, _ := desc.Image()
			imgs = append(imgs, img)
		}
		for _, img := range imgs {
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			base[m.Layers[0].Digest]++
			for _, l := range m.Layers {
				refs++
				total += l.Size
				layers[l.Digest] = l.Size
			}
		}
	}
	unique := int64(0)
	for _, s := range layers {
		unique += s
	}
	if refs != st.Layers || len(layers) != st.UniqueLayers || total != st.TotalBytes || unique != st.UniqueBytes {
		t.Errorf("registry holds %d layer references, %d distinct, %d bytes total, %d unique; Stats says %+v",
			refs, len(layers), total, unique, st)
	}
	if uses := slices.Sorted(maps.Values(base)); !slices.Equal(uses, []int{1, 13}) {
		t.Errorf("base layers used %v times, want one in 13 images and one in 1", uses)
	}

	checkInRegistry(t, reg.Host+"/bench/multi:1.0", mustDescriptor(t, set[len(set)-1].Artifact))
	checkInRegistry(t, reg.Host+"/bench/app-01:1.0", mustDescriptor(t, set[0].Artifact))
}

func mustParse(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustDescriptor(t *testing.T, a testimage.Artifact) v1.Descriptor {
	t.Helper()
	d, err := a.Descriptor()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ExampleSet_Stats() {
	fmt.Println(testimage.Corpus(1, testimage.Default).Stats())
	fmt.Println(testimage.Corpus(1, testimage.Small).Stats())
	// Output:
	// 13 artifacts (14 images, 1 indexes), 66 layers (32 distinct), 3.04 GiB total, 1.00 GiB unique
	// 13 artifacts (14 images, 1 indexes), 66 layers (32 distinct), 152.1 MiB total, 50.1 MiB unique
}
