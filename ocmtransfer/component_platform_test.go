package ocmtransfer_test

import (
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// TestComponentPlatformFilter transfers podinfo 6.3.6 (a two-platform
// index) with only linux/amd64 into a registry that refuses an index with
// absent children: the filtered index lands, the access names it, the
// resource digest stays the signed one, a label records the original, and
// a re-run changes nothing.
func TestComponentPlatformFilter(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	dst := registrytest.New(t)
	s := storeFor(t, src, dst)
	from := end{store: s, base: src.Host + "/ocm"}
	to := end{store: s, base: dst.Host + "/air"}
	o := ocmtransfer.PlanOptions{Artifacts: transfer.PlanOptions{Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}}}}
	refs := versions(t, "example.com/podinfo:6.3.6")
	if _, _, err := move(ctx, from, s, refs, to, o, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	cv, err := ocireg.New(s, dst.Host+"/air").Get(ctx, "example.com/podinfo", "6.3.6")
	if err != nil {
		t.Fatal(err)
	}
	r := cv.Descriptor.Resources[cv.Descriptor.ResourceIndex(component.Identity{"name": "image"})]
	const original = "925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a"
	if r.Digest == nil || r.Digest.Value != original {
		t.Fatalf("resource digest %v, want the signed %s", r.Digest, original)
	}
	acc, err := r.Access.OCIArtifact()
	if err != nil {
		t.Fatal(err)
	}
	ref := mustRef(t, acc.ImageReference)
	if ref.Digest.Hex == original {
		t.Fatalf("the access names the original index %s, which the target refuses without its arm64 child", acc.ImageReference)
	}
	d, err := s.Resolve(ctx, ref)
	if err != nil || d.Digest != ref.Digest {
		t.Fatalf("the access's index %s: %v, %v", ref, d.Digest, err)
	}
	var label string
	for _, l := range r.Labels {
		if l.Name == ocmtransfer.LabelFilteredFrom {
			_ = json.Unmarshal(l.Value, &label)
		}
	}
	if label != "sha256:"+original {
		t.Fatalf("label %s = %q, want sha256:%s", ocmtransfer.LabelFilteredFrom, label, original)
	}
	// A re-run finds the version as written.
	p, rep, err := move(ctx, from, s, refs, to, o, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Components[0].Skip || rep.BytesCopied != 0 {
		t.Fatalf("re-run: skip=%v, copied %d bytes", p.Components[0].Skip, rep.BytesCopied)
	}
	// The filtered copy can be carried on: its label explains its digest.
	next := registrytest.New(t)
	s2 := storeFor(t, dst, next)
	if _, _, err := move(ctx, end{store: s2, base: dst.Host + "/air"}, s2, refs, end{store: s2, base: next.Host + "/air"}, ocmtransfer.PlanOptions{}, transfer.Options{}); err != nil {
		t.Fatalf("carrying the filtered copy on: %v", err)
	}
}

// TestPlatformFilterComponentsNotSilent: a plan with a component version
// that holds no descriptor (so nothing Run could point at the filtered
// index that landed) fails before it writes the version, naming it, rather
// than writing a version that names an index the target lacks.
func TestPlatformFilterComponentsNotSilent(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	dst := registrytest.New(t)
	s := storeFor(t, src, dst)
	pl := transfer.NewPlanner(s, transfer.PlanOptions{Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}}, NoAttachments: true})
	if _, err := pl.Add(ctx, mustRef(t, src.Host+"/ocm/stefanprodan/podinfo:6.3.6"), dst.Host+"/air/stefanprodan/podinfo", []string{"6.3.6"}, "test"); err != nil {
		t.Fatal(err)
	}
	p := &ocmtransfer.Plan{Plan: *pl.Plan()}
	p.Components = []ocmtransfer.ComponentVersion{{Name: "example.com/podinfo", Version: "6.3.6", Target: dst.Host + "/air/component-descriptors/example.com/podinfo", Tag: "6.3.6"}}
	_, err := ocmtransfer.Run(ctx, p, s, s, transfer.Options{})
	if err == nil || !strings.Contains(err.Error(), "example.com/podinfo:6.3.6") || !strings.Contains(err.Error(), "no descriptor") {
		t.Fatalf("got %v, want an error naming the version without a descriptor", err)
	}
	if _, err := s.Resolve(ctx, mustRef(t, dst.Host+"/air/component-descriptors/example.com/podinfo:6.3.6")); err == nil {
		t.Error("the version was tagged")
	}
}
