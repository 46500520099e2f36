package transfer_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/storetest"
	"github.com/ferry-oci/ferry/transfer"
)

// TestLookahead: a tag started ahead is resolved once, and that answer
// serves one Resolve; the next Resolve, and one of a tag never started, ask
// the registry.
func TestLookahead(t *testing.T) {
	ctx := t.Context()
	reg := registrytest.New(t)
	s := newStore(t)
	img := storetest.NewImage(1, 1<<10)
	img.Push(ctx, t, s, reg.Host+"/app")
	if err := s.Tag(ctx, ref(t, reg.Host+"/app:1.0"), img.Desc); err != nil {
		t.Fatal(err)
	}
	heads := func() int { return reg.Requests().Count(http.MethodHead, "/v2/app/manifests/") }

	ahead := transfer.NewLookahead(ctx, s, 2)
	defer ahead.Stop()
	reg.ResetRequests()
	ahead.Start(reg.Host+"/app", "1.0")
	ahead.Start(reg.Host+"/app", "1.0") // under way already: not asked twice
	d, err := ahead.Resolve(ctx, ref(t, reg.Host+"/app:1.0"))
	if err != nil || d.Digest != img.Desc.Digest {
		t.Fatalf("Resolve after Start = %v, %v; want %s", d.Digest, err, img.Desc.Digest)
	}
	if n := heads(); n != 1 {
		t.Errorf("Start twice and Resolve sent %d HEADs, want 1", n)
	}
	if _, err := ahead.Resolve(ctx, ref(t, reg.Host+"/app:1.0")); err != nil {
		t.Fatal(err)
	}
	if n := heads(); n != 2 {
		t.Errorf("a second Resolve was answered from the first lookup (%d HEADs, want 2)", n)
	}
	if _, err := ahead.Resolve(ctx, ref(t, reg.Host+"/app:2.0")); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Resolve of a tag nobody set = %v, want ErrNotFound", err)
	}

	ahead.Stop()
	reg.ResetRequests()
	ahead.Start(reg.Host+"/app", "1.0")
	if _, err := ahead.Resolve(ctx, ref(t, reg.Host+"/app:1.0")); err != nil {
		t.Fatal(err)
	}
	if n := heads(); n != 1 {
		t.Errorf("after Stop, Start and Resolve sent %d HEADs, want 1 (the Resolve's)", n)
	}
}

// TestLookaheadGate: the drift gate, reading through a Lookahead the
// planner fed, checks every tag with the lookups made while planning.
func TestLookaheadGate(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	s := newStore(t)
	target := f.dst.Host + "/air/app"
	plan := func(o transfer.PlanOptions) *transfer.Plan {
		pl := transfer.NewPlanner(s, o)
		if _, err := pl.Add(ctx, ref(t, f.src.Host+"/stefanprodan/podinfo:6.3.5"), target, []string{"6.3.5", "stable"}, "test"); err != nil {
			t.Fatal(err)
		}
		return pl.Plan()
	}
	if _, err := transfer.Run(ctx, plan(transfer.PlanOptions{}), s, s, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	ahead := transfer.NewLookahead(ctx, s, 4)
	defer ahead.Stop()
	f.dst.ResetRequests()
	p := plan(transfer.PlanOptions{Lookahead: ahead})
	// The lookups run in the background: planning started them.
	for deadline := time.Now().Add(5 * time.Second); len(f.dst.Requests()) < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := len(f.dst.Requests()); n != 2 {
		t.Errorf("planning asked the target %d times, want 2 (one per tag)", n)
	}
	checks, err := transfer.Gate(ctx, p, ahead, transfer.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.dst.Requests()); n != 2 {
		t.Errorf("the gate asked the target again: %d requests in all, want 2", n)
	}
	if len(checks) != 2 || len(transfer.Drifted(checks)) != 0 {
		t.Errorf("checks %+v", checks)
	}
	for _, c := range checks {
		if c.Found != p.Artifacts[0].Digest {
			t.Errorf("tag %s found %s, want %s", c.Tag, c.Found, p.Artifacts[0].Digest)
		}
	}
}
