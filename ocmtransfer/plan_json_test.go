package ocmtransfer_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// TestPlanIsData: a plan written as JSON (what --dry-run -o json prints)
// and read back runs as the plan itself does: the same artifacts, tags and
// component versions byte for byte, with nothing re-read from the source's
// tags. The images are filtered to one platform, so the versions are
// relocated to the filtered indexes the target lands, from the data alone.
func TestPlanIsData(t *testing.T) {
	ctx := t.Context()
	src := seedSource(t)
	refs := versions(t, "example.com/app:1.0.0", "example.com/podinfo:6.3.6")
	o := ocmtransfer.PlanOptions{Recursive: true, Artifacts: transfer.PlanOptions{Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}}}}

	direct := registrytest.New(t)
	ds := storeFor(t, src, direct)
	from := end{store: ds, base: src.Host + "/ocm"}
	want, _, err := move(ctx, from, ds, refs, end{store: ds, base: direct.Host + "/air"}, o, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}

	replayed := registrytest.New(t)
	rs := storeFor(t, src, replayed)
	p, sources, err := plan(ctx, end{store: rs, base: src.Host + "/ocm"}, rs, refs, end{store: rs, base: replayed.Host + "/air"}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer sources.Close()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back ocmtransfer.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("reading the plan back: %v", err)
	}
	rep, err := ocmtransfer.Run(ctx, &back, sources, rs, transfer.Options{})
	if err != nil {
		t.Fatalf("running the plan read back: %v", err)
	}
	if rep.ComponentsWritten != int64(len(want.Components)) {
		t.Fatalf("%d component versions written, want %d", rep.ComponentsWritten, len(want.Components))
	}
	landed := 0
	for _, a := range back.Artifacts {
		if a.Filter != nil && a.Filter.Landed {
			landed++
		}
	}
	if landed == 0 {
		t.Fatal("no filtered index landed: the test does not exercise relocation")
	}
	for _, cv := range want.Components {
		a, err := ocireg.New(ds, direct.Host+"/air").Get(ctx, cv.Name, cv.Version)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ocireg.New(rs, replayed.Host+"/air").Get(ctx, cv.Name, cv.Version)
		if err != nil {
			t.Fatal(err)
		}
		da, db := string(a.Raw), string(b.Raw)
		// The descriptors differ only in the registry host they name.
		if got := replaceHost(db, replayed.Host, direct.Host); got != da {
			t.Errorf("%s:%s from the replayed plan:\n%s\nwant (direct run):\n%s", cv.Name, cv.Version, db, da)
		}
	}
	// The images are the same; the versions' manifests differ by the host
	// their descriptors name, which the loop above compares.
	images := func(m map[string]v1.Hash) map[string]v1.Hash {
		maps.DeleteFunc(m, func(k string, _ v1.Hash) bool { return strings.Contains(k, "/component-descriptors/") })
		return m
	}
	if a, b := images(closure(ctx, t, ds, ds.Lister(direct.Host), direct.Host)), images(closure(ctx, t, rs, rs.Lister(replayed.Host), replayed.Host)); !maps.Equal(a, b) || len(a) != 2 {
		t.Errorf("the replayed plan's target holds\n%v\nthe direct run's\n%v", b, a)
	}
}

func replaceHost(s, from, to string) string { return strings.ReplaceAll(s, from, to) }
