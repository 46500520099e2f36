package transfer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
	"github.com/ferry-oci/ferry/transfer"
)

func newStore(t testing.TB) *remote.Store {
	t.Helper()
	s, err := remote.New(remote.WithRetry(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ref(t testing.TB, s string) oci.Ref {
	t.Helper()
	r, err := oci.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// imageFixture is a source registry holding a single-platform image and a
// two-platform index whose amd64 child shares its base layer with the image.
type imageFixture struct {
	src, dst *registrytest.Registry
	image    storetest.Image
	index    v1.Descriptor
	amd, arm storetest.Image
}

func newFixture(t *testing.T) *imageFixture {
	ctx := t.Context()
	f := &imageFixture{src: registrytest.New(t), dst: registrytest.New(t)}
	s := newStore(t)
	f.image = storetest.NewImage(2, 64<<10)
	f.amd, f.arm = storetest.NewImage(1, 32<<10), storetest.NewImage(1, 32<<10)
	// The amd64 child shares the image's first layer.
	f.amd = withExtraLayer(f.amd, f.image.Layers[0])
	f.image.Push(ctx, t, s, f.src.Host+"/stefanprodan/podinfo")
	if err := s.Tag(ctx, ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.5"), f.image.Desc); err != nil {
		t.Fatal(err)
	}
	repo := f.src.Host + "/stefanprodan/podinfo"
	f.amd.Push(ctx, t, s, repo)
	f.arm.Push(ctx, t, s, repo)
	ad, rd := f.amd.Desc, f.arm.Desc
	ad.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	rd.Platform = &v1.Platform{OS: "linux", Architecture: "arm64"}
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{ad, rd}})
	f.index = oci.DescriptorOf(types.OCIImageIndex, idx)
	if err := s.Push(ctx, repo, f.index, bytes.NewReader(idx)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, ref(t, repo+":6.3.6"), f.index); err != nil {
		t.Fatal(err)
	}
	return f
}

func withExtraLayer(img storetest.Image, layer []byte) storetest.Image {
	var m v1.Manifest
	_ = json.Unmarshal(img.Manifest, &m)
	d := oci.DescriptorOf(types.OCILayer, layer)
	m.Layers = append(m.Layers, d)
	img.Layers = append(img.Layers, layer)
	img.Blobs = append(img.Blobs, d)
	img.Manifest, _ = json.Marshal(m)
	img.Desc = oci.DescriptorOf(types.OCIManifestSchema1, img.Manifest)
	return img
}

// plan plans both tags of the fixture into dst under the base "air".
func (f *imageFixture) plan(t *testing.T, src oci.Reader) *transfer.Plan {
	pl := transfer.NewPlanner(src)
	for _, tag := range []string{"6.3.5", "6.3.6"} {
		from := ref(t, f.src.Host+"/stefanprodan/podinfo:"+tag)
		if _, err := pl.Add(t.Context(), from, f.dst.Host+"/air/stefanprodan/podinfo", []string{tag}, from.String()); err != nil {
			t.Fatal(err)
		}
	}
	// The same image under a second name: its blobs must be mounted, not sent again.
	from := ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.5")
	if _, err := pl.Add(t.Context(), from, f.dst.Host+"/air/mirror/podinfo", []string{"6.3.5"}, from.String()); err != nil {
		t.Fatal(err)
	}
	return pl.Plan()
}

func TestRunCopiesEverythingOnce(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	p := f.plan(t, s)
	st := p.Stats()
	if st.Artifacts != 5 { // image (in 2 repos), index, 2 children
		t.Fatalf("plan has %d artifacts, want 5", st.Artifacts)
	}
	rep, err := transfer.Run(t.Context(), p, s, s, transfer.Options{Jobs: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Every tag resolves to the source digest, and everything below it is there.
	for _, c := range []struct {
		ref  string
		want v1.Hash
	}{
		{"/air/stefanprodan/podinfo:6.3.5", f.image.Desc.Digest},
		{"/air/stefanprodan/podinfo:6.3.6", f.index.Digest},
		{"/air/mirror/podinfo:6.3.5", f.image.Desc.Digest},
	} {
		d, err := s.Resolve(t.Context(), ref(t, f.dst.Host+c.ref))
		if err != nil || d.Digest != c.want {
			t.Fatalf("%s = %v, %v; want %s", c.ref, d.Digest, err, c.want)
		}
		checkComplete(t, s, f.dst.Host+strings.Split(c.ref, ":")[0], d)
	}
	// Each unique blob crossed once: the shared base layer and the image in
	// the second repository were mounted.
	uploads := f.dst.Requests().Filter(http.MethodPut, "/v2/")
	blobPuts := 0
	for _, r := range uploads {
		if strings.Contains(r.Path, "/blobs/uploads/") {
			blobPuts++
		}
	}
	if blobPuts != st.Blobs {
		t.Errorf("target received %d blob uploads for %d unique blobs", blobPuts, st.Blobs)
	}
	if rep.BlobsMounted == 0 || rep.BytesCopied != st.Bytes {
		t.Errorf("report: copied %d bytes (plan: %d unique), mounted %d blobs", rep.BytesCopied, st.Bytes, rep.BlobsMounted)
	}
}

func TestRerunReadsManifestsOnly(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	if _, err := transfer.Run(t.Context(), f.plan(t, s), s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	f.dst.ResetRequests()
	f.src.ResetRequests()
	rep, err := transfer.Run(t.Context(), f.plan(t, s), s, s, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BytesCopied != 0 || rep.ManifestsPushed != 0 || rep.TagsSet != 0 {
		t.Fatalf("second run copied %d bytes, %d manifests, %d tags", rep.BytesCopied, rep.ManifestsPushed, rep.TagsSet)
	}
	for _, r := range f.dst.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			t.Errorf("second run sent %s %s to the target", r.Method, r.Path)
		}
	}
	for _, r := range f.src.Requests() {
		if strings.Contains(r.Path, "/blobs/") {
			t.Errorf("second run read a blob from the source: %s %s", r.Method, r.Path)
		}
	}
}

// checkComplete fails unless every manifest and blob below d is in repo.
func checkComplete(t *testing.T, s oci.Store, repo string, d v1.Descriptor) {
	t.Helper()
	if err := complete(t.Context(), s, repo, d); err != nil {
		t.Fatal(err)
	}
}

func complete(ctx context.Context, s oci.Store, repo string, d v1.Descriptor) error {
	b, err := oci.FetchBytes(ctx, s, repo, d, 0)
	if err != nil {
		return fmt.Errorf("%s@%s: %w", repo, d.Digest, err)
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if oci.IsManifest(k.MediaType) {
			if err := complete(ctx, s, repo, k); err != nil {
				return err
			}
			continue
		}
		ok, err := s.Exists(ctx, repo, k)
		if err != nil || !ok {
			return fmt.Errorf("%s: blob %s below %s is missing (%v)", repo, k.Digest, d.Digest, err)
		}
	}
	return nil
}

// TestCancelledRunsLeaveNoDanglingTag cancels runs at many points; after
// each, every tag in the target points at complete content, and a final
// run completes to the same result as an uninterrupted one.
func TestCancelledRunsLeaveNoDanglingTag(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	tags := []string{"/air/stefanprodan/podinfo:6.3.5", "/air/stefanprodan/podinfo:6.3.6", "/air/mirror/podinfo:6.3.5"}
	for point := 1; point <= 12; point++ {
		ctx, cancel := context.WithCancel(t.Context())
		var events atomic.Int64
		o := transfer.Options{Jobs: 3, Progress: func(transfer.Event) {
			if events.Add(1) == int64(point*2) {
				cancel()
			}
		}}
		_, err := transfer.Run(ctx, f.plan(t, s), s, s, o)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("point %d: %v", point, err)
		}
		for _, tag := range tags {
			d, err := s.Resolve(t.Context(), ref(t, f.dst.Host+tag))
			if errors.Is(err, oci.ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			checkComplete(t, s, f.dst.Host+strings.Split(tag, ":")[0], d)
		}
	}
	if _, err := transfer.Run(t.Context(), f.plan(t, s), s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if _, err := s.Resolve(t.Context(), ref(t, f.dst.Host+tag)); err != nil {
			t.Fatalf("after the final run %s: %v", tag, err)
		}
	}
}

// corrupting serves a real store but flips a byte of one blob.
type corrupting struct {
	oci.Reader
	digest v1.Hash
}

func (c corrupting) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	rc, err := c.Reader.Fetch(ctx, repo, d)
	if err != nil || d.Digest != c.digest {
		return rc, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	b[len(b)/2] ^= 0x01
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestCorruptSourceBlobStopsTheRun(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	bad := f.image.Blobs[2].Digest // the image's second layer, not shared
	src := corrupting{s, bad}
	p := f.plan(t, s)
	_, err := transfer.Run(t.Context(), p, src, s, transfer.Options{Attempts: 1})
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("got %v, want ErrDigestMismatch", err)
	}
	var oe *oci.Error
	if !errors.As(err, &oe) || oe.Side != oci.Source {
		t.Errorf("error %v does not say it was the source", err)
	}
	if !strings.Contains(err.Error(), bad.String()) {
		t.Errorf("error %q does not name the blob", err)
	}
	for _, tag := range []string{"/air/stefanprodan/podinfo:6.3.5", "/air/mirror/podinfo:6.3.5"} {
		if _, err := s.Resolve(t.Context(), ref(t, f.dst.Host+tag)); !errors.Is(err, oci.ErrNotFound) {
			t.Errorf("%s was tagged although a blob below it is corrupt (%v)", tag, err)
		}
	}
	if tags, _ := s.Tags(t.Context(), f.dst.Host+"/air/stefanprodan/podinfo"); slices.Contains(tags, "6.3.5") {
		t.Error("6.3.5 listed in the target")
	}
}
