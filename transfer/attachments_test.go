package transfer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/transfer"
)

const sbomType = "application/vnd.example.sbom.v1+json"

// attached is the fixture with a cosign signature of the index (tag
// sha256-<hex>.sig, a simple-signing payload as cosign writes it) and an
// OCI 1.1 referrer (an SBOM) of the index's amd64 child, listed under the
// referrers tag schema as clients of distribution, which has no referrers
// API, keep it.
type attached struct {
	*imageFixture
	sig, sbom v1.Descriptor
}

func newAttached(t *testing.T) *attached {
	f := &attached{imageFixture: newFixture(t)}
	s := newStore(t)
	repo := f.src.Host + "/stefanprodan/podinfo"

	payload := fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}`,
		repo, f.index.Digest)
	pd := oci.DescriptorOf("application/vnd.dev.cosign.simplesigning.v1+json", payload)
	pd.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDtest"}
	cfg := fmt.Appendf(nil, `{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":["%s"]},"config":{}}`, pd.Digest)
	cd := oci.DescriptorOf(types.OCIConfigJSON, cfg)
	f.sig = pushManifest(t, s, repo, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cd, Layers: []v1.Descriptor{pd}},
		[][]byte{cfg, payload}, "sha256-"+f.index.Digest.Hex+".sig")

	empty := []byte("{}")
	ed := oci.DescriptorOf(oci.MediaTypeOCIEmptyConfig, empty)
	doc := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}`)
	dd := oci.DescriptorOf(sbomType, doc)
	subject := f.amd.Desc
	f.sbom = pushManifest(t, s, repo, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: sbomType,
		Config: ed, Layers: []v1.Descriptor{dd}, Subject: &subject}, [][]byte{empty, doc}, "")
	listed := f.sbom
	listed.ArtifactType = sbomType
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{listed}})
	id := oci.DescriptorOf(types.OCIImageIndex, idx)
	if err := s.Push(t.Context(), repo, id, bytes.NewReader(idx)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(t.Context(), ref(t, repo+":"+remote.ReferrersTag(subject.Digest)), id); err != nil {
		t.Fatal(err)
	}
	// Check the fixture: the source lists the referrer.
	if got, err := s.Referrers(t.Context(), repo, subject.Digest, ""); err != nil || len(got) != 1 {
		t.Fatalf("source referrers = %v, %v", got, err)
	}
	return f
}

// pushManifest pushes the blobs and the manifest m to repo, tagged tag
// unless it is empty.
func pushManifest(t *testing.T, s oci.Store, repo string, m v1.Manifest, blobs [][]byte, tag string) v1.Descriptor {
	t.Helper()
	for i, b := range blobs {
		d := m.Config
		if i > 0 {
			d = m.Layers[i-1]
		}
		if err := s.Push(t.Context(), repo, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(m)
	d := oci.DescriptorOf(m.MediaType, b)
	if err := s.Push(t.Context(), repo, d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if tag != "" {
		if err := s.Tag(t.Context(), ref(t, repo+":"+tag), d); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (f *attached) planAll(t *testing.T, src oci.Reader, target string, o transfer.PlanOptions) *transfer.Plan {
	t.Helper()
	pl := transfer.NewPlanner(src, o)
	for _, tag := range []string{"6.3.5", "6.3.6"} {
		from := ref(t, f.src.Host+"/stefanprodan/podinfo:"+tag)
		if _, err := pl.Add(t.Context(), from, target, []string{tag}, from.String()); err != nil {
			t.Fatal(err)
		}
	}
	return pl.Plan()
}

// checkAttachments fails unless the signature and the SBOM are in the
// registry repository target, found the way cosign and oras find them.
func (f *attached) checkAttachments(t *testing.T, s *remote.Store, target string) {
	t.Helper()
	d, err := s.Resolve(t.Context(), ref(t, target+":sha256-"+f.index.Digest.Hex+".sig"))
	if err != nil || d.Digest != f.sig.Digest {
		t.Fatalf("signature tag = %s, %v; want %s", d.Digest, err, f.sig.Digest)
	}
	checkComplete(t, s, target, d)
	got, err := s.Referrers(t.Context(), target, f.amd.Desc.Digest, sbomType)
	if err != nil || len(got) != 1 || got[0].Digest != f.sbom.Digest {
		t.Fatalf("referrers of the amd64 child = %v, %v; want the SBOM %s", got, err, f.sbom.Digest)
	}
	checkComplete(t, s, target, got[0])
}

func TestAttachmentsTravel(t *testing.T) {
	f := newAttached(t)
	s := newStore(t)
	target := f.dst.Host + "/air/stefanprodan/podinfo"
	p := f.planAll(t, s, target, transfer.PlanOptions{})

	kinds := map[string]*transfer.Artifact{}
	for i := range p.Artifacts {
		if a := &p.Artifacts[i]; a.Attachment != "" {
			kinds[a.Attachment] = a
		}
	}
	if a := kinds["sig"]; a == nil || a.Subject == nil || *a.Subject != f.index.Digest || !slices.Contains(a.Tags, "sha256-"+f.index.Digest.Hex+".sig") {
		t.Fatalf("the plan's signature is %+v", a)
	}
	if a := kinds["referrer"]; a == nil || a.Subject == nil || *a.Subject != f.amd.Desc.Digest || a.Digest != f.sbom.Digest {
		t.Fatalf("the plan's referrer is %+v", a)
	}
	if a := kinds["referrers"]; a == nil || len(a.Tags) != 1 || a.Tags[0] != remote.ReferrersTag(f.amd.Desc.Digest) {
		t.Fatalf("the plan's referrers index is %+v", a)
	}

	var order []v1.Hash
	o := transfer.Options{Progress: func(e transfer.Event) {
		if e.Kind == transfer.ManifestDone {
			order = append(order, e.Digest) // Jobs: 1 below, so no lock
		}
	}, Jobs: 1}
	if _, err := transfer.Run(t.Context(), p, s, s, o); err != nil {
		t.Fatal(err)
	}
	f.checkAttachments(t, s, target)
	// Subjects are in before what refers to them.
	pos := func(d v1.Hash) int { return slices.Index(order, d) }
	if pos(f.index.Digest) > pos(f.sig.Digest) || pos(f.amd.Desc.Digest) > pos(f.sbom.Digest) || pos(f.sbom.Digest) < 0 {
		t.Errorf("manifests pushed in the order %v", order)
	}

	// A re-run copies nothing.
	f.dst.ResetRequests()
	rep, err := transfer.Run(t.Context(), f.planAll(t, s, target, transfer.PlanOptions{}), s, s, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BytesCopied != 0 || rep.ManifestsPushed != 0 || rep.TagsSet != 0 {
		t.Errorf("re-run copied %d bytes, %d manifests, %d tags", rep.BytesCopied, rep.ManifestsPushed, rep.TagsSet)
	}
	for _, r := range f.dst.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			t.Errorf("re-run sent %s %s to the target", r.Method, r.Path)
		}
	}
}

func TestNoAttachments(t *testing.T) {
	f := newAttached(t)
	s := newStore(t)
	target := f.dst.Host + "/air/stefanprodan/podinfo"
	p := f.planAll(t, s, target, transfer.PlanOptions{NoAttachments: true})
	for _, a := range p.Artifacts {
		if a.Attachment != "" {
			t.Errorf("planned %s attachment %s", a.Attachment, a.Digest)
		}
	}
	if _, err := transfer.Run(t.Context(), p, s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.Tags(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	if !slices.Equal(tags, []string{"6.3.5", "6.3.6"}) {
		t.Errorf("target tags %v", tags)
	}
	for _, d := range []v1.Descriptor{f.sig, f.sbom} {
		if ok, _ := s.Exists(t.Context(), target, d); ok {
			t.Errorf("%s is in the target", d.Digest)
		}
	}
	if n := f.src.Requests().Count(http.MethodGet, "/v2/stefanprodan/podinfo/tags/list"); n != 0 {
		t.Errorf("listed the source's tags %d times without attachments", n)
	}
}

// TestAttachmentsThroughCTF carries the attachments into a CTF (which has
// no referrers API: the tag schema index travels as a tagged index) and out
// of it into another registry.
func TestAttachmentsThroughCTF(t *testing.T) {
	f := newAttached(t)
	s := newStore(t)
	a, err := ctf.Create(filepath.Join(t.TempDir(), "ctf"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := transfer.Run(t.Context(), f.planAll(t, s, "stefanprodan/podinfo", transfer.PlanOptions{}), s, a, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	tags, _ := a.Tags(t.Context(), "stefanprodan/podinfo")
	for _, want := range []string{"sha256-" + f.index.Digest.Hex + ".sig", remote.ReferrersTag(f.amd.Desc.Digest)} {
		if !slices.Contains(tags, want) {
			t.Errorf("CTF tags %v lack %s", tags, want)
		}
	}

	pl := transfer.NewPlanner(a)
	target := f.dst.Host + "/back/podinfo"
	if _, err := pl.Add(t.Context(), ref(t, "stefanprodan/podinfo:6.3.6"), target, []string{"6.3.6"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := transfer.Run(t.Context(), pl.Plan(), a, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	f.checkAttachments(t, s, target)
}

// TestAttachmentDiscoveryCost counts what finding attachments costs on a
// re-run (plan and run against a target that holds everything): one tag
// list per source repository, and for each manifest without a referrers tag
// the source's Referrers call (on distribution, without the referrers API:
// the API's 404, then a look for the tag). Nothing per blob, nothing more at
// the target than the attachments' own HEADs and tag checks.
func TestAttachmentDiscoveryCost(t *testing.T) {
	f := newAttached(t)
	s := newStore(t)
	target := f.dst.Host + "/air/stefanprodan/podinfo"
	if _, err := transfer.Run(t.Context(), f.planAll(t, s, target, transfer.PlanOptions{}), s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	count := func(o transfer.PlanOptions) (src, dst int, p *transfer.Plan) {
		s := newStore(t) // a fresh one, as a new ferry process has: no cached manifests or tokens
		f.src.ResetRequests()
		f.dst.ResetRequests()
		p = f.planAll(t, s, target, o)
		if _, err := transfer.Run(t.Context(), p, s, s, transfer.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, r := range f.src.Requests() {
			if strings.Contains(r.Path, "/blobs/") {
				t.Errorf("re-run read a blob: %s %s", r.Method, r.Path)
			}
		}
		return len(f.src.Requests()), len(f.dst.Requests()), p
	}
	src0, dst0, p0 := count(transfer.PlanOptions{NoAttachments: true})
	src1, dst1, p1 := count(transfer.PlanOptions{})
	if n := f.src.Requests().Count(http.MethodGet, "/v2/stefanprodan/podinfo/tags/list"); n != 1 {
		t.Errorf("listed the source's tags %d times, want once", n)
	}
	for _, r := range f.src.Requests() {
		if strings.Contains(r.Path, ".att") || strings.Contains(r.Path, ".sbom") {
			t.Errorf("asked for an attachment the tag list does not hold: %s %s", r.Method, r.Path)
		}
	}
	// The registry has no referrers API: it is asked once, the answer (404)
	// is remembered, and the tag list already says which manifests have a
	// referrers index under the tag schema.
	referrerCalls := f.src.Requests().Count(http.MethodGet, "/v2/stefanprodan/podinfo/referrers/")
	if referrerCalls != 1 {
		t.Errorf("asked the referrers API %d times; a registry without it should be asked once", referrerCalls)
	}
	tagLookups := 0 // of referrers tags the registry does not have
	for _, r := range f.src.Requests().Filter("", "/v2/stefanprodan/podinfo/manifests/sha256-") {
		if !strings.Contains(r.Path, ".") && r.Status == http.StatusNotFound {
			tagLookups++
		}
	}
	found := len(p1.Artifacts) - len(p0.Artifacts)
	t.Logf("re-run of %d manifests (+%d attachments): source %d -> %d requests (tag list 1, referrers API %d, referrers tag look-ups %d), target %d -> %d",
		len(p0.Artifacts), found, src0, src1, referrerCalls, tagLookups, dst0, dst1)
	if tagLookups != 0 {
		t.Errorf("looked up %d referrers tags the tag list does not hold", tagLookups)
	}
	// tag list + one referrers API call + one GET of each attachment found
	// through a tag (the signature, the referrers index) + fetch of the
	// referrer.
	if want := 1 + 1 + 2 + 1; src1-src0 != want {
		t.Errorf("discovery cost %d source requests, want %d", src1-src0, want)
	}
	// At the target: HEAD of each attachment root, a look at each of its tags.
	if want := 2 + 2; dst1-dst0 != want {
		t.Errorf("attachments cost %d target requests on a re-run, want %d", dst1-dst0, want)
	}
}
