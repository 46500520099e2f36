package transfer

import (
	"context"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/pending"
	"github.com/ferry-oci/ferry/oci"
)

// A Lookahead is a target store that resolves the tags a plan will check
// while the plan is still being made: the Planner names each tag as it
// plans it (PlanOptions.Lookahead), and the drift check (CheckTags, Gate),
// reading through the Lookahead, finds the answers waiting instead of
// asking after planning. Each answer serves one Resolve of its tag; any
// other read, and any later Resolve, goes to the store, so nothing the run
// writes is hidden. At most jobs lookups run at once.
type Lookahead struct {
	oci.Store

	ctx  context.Context
	slot chan struct{}

	mu      sync.Mutex
	ahead   map[oci.Ref]*pending.Call[v1.Descriptor]
	stopped bool
}

// NewLookahead returns a Lookahead over dst whose lookups run under ctx,
// jobs at a time (DefaultJobs when jobs is 0).
func NewLookahead(ctx context.Context, dst oci.Store, jobs int) *Lookahead {
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	return &Lookahead{Store: dst, ctx: ctx, slot: make(chan struct{}, jobs), ahead: map[oci.Ref]*pending.Call[v1.Descriptor]{}}
}

// Start begins resolving the tag of repo in the store, unless it is under
// way already or the Lookahead is stopped.
func (l *Lookahead) Start(repo, tag string) {
	ref, err := oci.ParseRef(repo + ":" + tag)
	if err != nil {
		return // CheckTags reports it
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.ahead[ref]; ok || l.stopped {
		return
	}
	l.ahead[ref] = pending.Start(l.ctx, func(ctx context.Context) (v1.Descriptor, error) {
		select {
		case l.slot <- struct{}{}:
		case <-ctx.Done():
			return v1.Descriptor{}, ctx.Err()
		}
		defer func() { <-l.slot }()
		return l.Store.Resolve(ctx, ref)
	})
}

// Resolve returns the answer a lookup of ref got, once; without one it asks
// the store.
func (l *Lookahead) Resolve(ctx context.Context, ref oci.Ref) (v1.Descriptor, error) {
	l.mu.Lock()
	c, ok := l.ahead[ref]
	delete(l.ahead, ref)
	l.mu.Unlock()
	if !ok {
		return l.Store.Resolve(ctx, ref)
	}
	return c.Wait()
}

// Stop cancels the lookups nobody took and waits for them; later Starts do
// nothing.
func (l *Lookahead) Stop() {
	l.mu.Lock()
	l.stopped = true
	calls := l.ahead
	l.ahead = map[oci.Ref]*pending.Call[v1.Descriptor]{}
	l.mu.Unlock()
	for _, c := range calls {
		c.Stop()
	}
}
