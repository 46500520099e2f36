package transfer_test

import (
	"encoding/json"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/transfer"
)

type v1Desc struct {
	tag  string
	desc v1.Descriptor
}

// TestPrefetchLeavesAddNothingToRead prefetches the image and the
// multi-platform index of the fixture with attachments (a cosign signature
// of the index, an OCI 1.1 referrer of a child) concurrently, then adds
// them in order: the Adds read nothing more from the source, and the plan
// is the one a planner without the prefetch makes, attachments included.
func TestPrefetchLeavesAddNothingToRead(t *testing.T) {
	ctx := t.Context()
	f := newAttached(t)
	s := newStore(t)
	target := f.dst.Host + "/air/stefanprodan/podinfo"

	plan := func(prefetch bool) (*transfer.Plan, int) {
		pl := transfer.NewPlanner(s)
		if prefetch {
			var wg sync.WaitGroup
			for _, tag := range []string{"6.3.5", "6.3.6"} {
				from := ref(t, f.src.Host+"/stefanprodan/podinfo:"+tag)
				wg.Go(func() {
					d, err := s.Resolve(ctx, from)
					if err != nil {
						t.Error(err)
						return
					}
					pl.Prefetch(ctx, from.Repo(), d)
				})
			}
			wg.Wait()
		}
		f.src.ResetRequests()
		for _, d := range []v1Desc{{"6.3.5", f.image.Desc}, {"6.3.6", f.index}} {
			from := ref(t, f.src.Host+"/stefanprodan/podinfo:"+d.tag)
			if err := pl.AddResolved(ctx, from.Repo(), d.desc, target, []string{d.tag}, from.String()); err != nil {
				t.Fatal(err)
			}
		}
		return pl.Plan(), len(f.src.Requests())
	}

	want, cold := plan(false)
	got, warm := plan(true)
	if cold == 0 {
		t.Fatal("planning without the prefetch read nothing from the source: the test proves nothing")
	}
	if warm != 0 {
		t.Errorf("after the prefetch the Adds sent %d requests to the source, want none", warm)
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Errorf("the plan differs with the prefetch:\n got %s\nwant %s", gj, wj)
	}
	attachments := 0
	for _, a := range got.Artifacts {
		if a.Attachment != "" {
			attachments++
		}
	}
	if attachments != 3 { // the signature, the referrers index, the SBOM
		t.Errorf("the plan has %d attachments, want 3", attachments)
	}
}
