package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-oci/ferry/oci"
)

// Options tune a Run. The zero value works.
type Options struct {
	// Jobs is how many blobs and manifests are in flight at once; <= 0 means 8.
	Jobs int
	// Attempts is how often one blob copy is tried when it fails with a
	// temporary error (oci.Temporary); <= 0 means 4. A store's own
	// per-request retries come on top.
	Attempts int
	// Backoff is the wait before the second attempt, doubled for each
	// further one, with jitter; <= 0 means 500ms.
	Backoff time.Duration
	// Progress, when set, is called from many goroutines as the run goes;
	// it must be quick and safe for concurrent use.
	Progress func(Event)
	// Logger receives debug lines; nil means none.
	Logger *slog.Logger
	// Finish, when set, writes what the plan's artifacts are part of once
	// they are all in the target (see Finisher); ocmtransfer.Run sets it.
	Finish Finisher
}

// A Finisher writes, last in a Run, content that names the plan's
// artifacts, such as the component versions of an OCM transfer
// (ocmtransfer): after every blob, manifest and tag, so that it never
// names what is not there yet.
type Finisher interface {
	// Blobs is called first: it returns the blobs of the plan the finisher
	// needs, by digest, with the target repositories that need them (Run
	// copies them with the artifacts' blobs), or an error that stops the
	// run before anything is read or written.
	Blobs() (map[v1.Hash][]string, error)
	// Finish writes into dst once the artifacts are in and tagged; the
	// plan records where they landed (Plan.Landed).
	Finish(ctx context.Context, dst oci.Store) error
}

// DefaultJobs is how many copies and reads are in flight at once when
// the caller does not say (Options.Jobs, the CLI's --jobs).
const DefaultJobs = 8

func (o Options) jobs() int {
	if o.Jobs <= 0 {
		return DefaultJobs
	}
	return o.Jobs
}

func (o Options) attempts() int {
	if o.Attempts <= 0 {
		return 4
	}
	return o.Attempts
}

func (o Options) backoff() time.Duration {
	if o.Backoff <= 0 {
		return 500 * time.Millisecond
	}
	return o.Backoff
}

func (o Options) emit(e Event) {
	if o.Progress != nil {
		o.Progress(e)
	}
}

func (o Options) debug(msg string, args ...any) {
	if o.Logger != nil {
		o.Logger.Debug(msg, args...)
	}
}

// Run copies what p plans from src to dst: blobs first (each unique blob
// once, then mounted into the other repositories that need it where dst can
// mount), then manifests children first (and attachments after their
// subjects), then tags, then what o.Finish writes. Artifacts whose target
// tag or digest already holds the same manifest are skipped with
// everything below them, so a re-run copies nothing it copied before.
//
// An index filtered by platform (Artifact.Filter) is pushed unchanged; when
// dst refuses it because the dropped children are absent, the filtered
// index is pushed and tagged instead, and Run records that in
// Filter.Landed (see Plan.Landed and ArtifactReport.FilteredFrom).
//
// Run stops at the first error that survives its attempts and returns it
// with the Report of what was done until then. Nothing is tagged unless
// every blob and manifest below the tag is in dst.
func Run(ctx context.Context, p *Plan, src oci.Reader, dst oci.Store, o Options) (*Report, error) {
	r := &run{plan: p, src: src, dst: dst, o: o, start: time.Now(), done: map[key]bool{}, byKey: p.artifactsByKey()}
	o.emit(Event{Kind: Planned, Size: p.Stats().TargetBytes})
	err := r.run(ctx)
	rep := r.report()
	return rep, err
}

type run struct {
	plan  *Plan
	src   oci.Reader
	dst   oci.Store
	o     Options
	start time.Time

	byKey map[key]*Artifact // the plan's artifacts, by target repository and digest

	mu   sync.Mutex
	done map[key]bool // artifacts already complete in dst

	finishing map[v1.Hash][]string // blobs Options.Finish needs, by target repository

	blobsCopied, blobsSkipped, blobsMounted    atomic.Int64
	bytesCopied, bytesSkipped, bytesMounted    atomic.Int64
	manifestsPushed, manifestsSkipped, tagsSet atomic.Int64
}

func (r *run) run(ctx context.Context) error {
	if r.o.Finish != nil {
		var err error
		if r.finishing, err = r.o.Finish.Blobs(); err != nil {
			return err
		}
	}
	if err := r.checkExisting(ctx); err != nil {
		return err
	}
	if err := r.copyBlobs(ctx); err != nil {
		return err
	}
	if err := r.pushManifests(ctx); err != nil {
		return err
	}
	if err := r.setTags(ctx); err != nil {
		return err
	}
	if r.o.Finish == nil {
		return nil
	}
	return r.o.Finish.Finish(ctx, r.dst)
}

// checkExisting marks every root artifact that dst already holds (and every
// artifact below it) as done, so that a re-run reads manifests only.
func (r *run) checkExisting(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.jobs())
	for _, a := range r.plan.Roots() {
		g.Go(func() error {
			ok, err := r.exists(gctx, a)
			if err != nil {
				return err
			}
			if ok {
				r.markDone(a)
			}
			return nil
		})
	}
	return g.Wait()
}

// exists reports whether dst holds the manifest of a: its own or, for an
// index filtered by platform, the filtered one, which it records as landed.
func (r *run) exists(ctx context.Context, a *Artifact) (bool, error) {
	if filtered, ok := a.foundAs(); ok {
		if a.Filter != nil {
			a.Filter.Landed = filtered
		}
		return true, nil
	}
	if a.Filter != nil && a.Filter.Forced {
		ok, err := r.dst.Exists(ctx, a.Target, a.Filtered())
		if err != nil {
			return false, fmt.Errorf("checking manifest %s@%s: %w", a.Target, a.Filter.Digest, oci.WithSide(err, oci.Destination, "exists"))
		}
		return ok, nil
	}
	ok, err := r.dst.Exists(ctx, a.Target, a.Descriptor())
	if err == nil && a.Filter != nil {
		a.Filter.Landed = false
		if !ok {
			ok, err = r.dst.Exists(ctx, a.Target, a.Filtered())
			a.Filter.Landed = ok
		}
	}
	if err != nil {
		return false, fmt.Errorf("checking manifest %s@%s: %w", a.Target, a.Digest, oci.WithSide(err, oci.Destination, "exists"))
	}
	return ok, nil
}

func (r *run) markDone(a *Artifact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mark func(a *Artifact)
	mark = func(a *Artifact) {
		k := key{a.Target, a.Digest}
		if r.done[k] {
			return
		}
		r.done[k] = true
		for _, c := range a.Children {
			if ca, ok := r.byKey[key{a.Target, c}]; ok {
				mark(ca)
			}
		}
	}
	mark(a)
}

// artifactsByKey indexes the plan's artifacts by target repository and digest.
func (p *Plan) artifactsByKey() map[key]*Artifact {
	m := make(map[key]*Artifact, len(p.Artifacts))
	for i := range p.Artifacts {
		a := &p.Artifacts[i]
		m[key{a.Target, a.Digest}] = a
	}
	return m
}

func (r *run) isDone(a *Artifact) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done[key{a.Target, a.Digest}]
}

// neededTargets returns, for each blob, the target repositories of
// artifacts that are not done yet.
func (r *run) neededTargets() map[v1.Hash][]string {
	need := map[v1.Hash][]string{}
	for i := range r.plan.Artifacts {
		a := &r.plan.Artifacts[i]
		if r.isDone(a) {
			continue
		}
		for _, b := range a.Blobs {
			if !slices.Contains(need[b], a.Target) {
				need[b] = append(need[b], a.Target)
			}
		}
	}
	for b, repos := range r.finishing {
		for _, repo := range repos {
			if !slices.Contains(need[b], repo) {
				need[b] = append(need[b], repo)
			}
		}
	}
	return need
}

func (r *run) copyBlobs(ctx context.Context) error {
	need := r.neededTargets()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.jobs())
	// Largest first: the long transfers start early and the pool drains evenly.
	order := make([]*Blob, 0, len(r.plan.Blobs))
	for i := range r.plan.Blobs {
		b := &r.plan.Blobs[i]
		if len(need[b.Digest]) > 0 {
			order = append(order, b)
		} else {
			r.blobsSkipped.Add(1)
			r.bytesSkipped.Add(b.Size)
			for _, repo := range b.Targets {
				r.o.emit(Event{Kind: BlobDone, Digest: b.Digest, Size: b.Size, Repo: repo, Outcome: Skipped})
			}
		}
	}
	slices.SortStableFunc(order, func(a, b *Blob) int { return int(min(max(b.Size-a.Size, -1), 1)) })
	if o, ok := r.dst.(blobOrderer); ok {
		orderBy(order, o.BlobOrder())
	}
	for _, b := range order {
		targets := need[b.Digest]
		g.Go(func() error { return r.copyBlob(gctx, b, targets) })
	}
	return g.Wait()
}

// blobOrderer is a destination that wants blobs in an order of its own: a
// bundle writer, whose file is laid out before the first byte arrives, can
// hash it for its checksum file while it grows when the blobs come in the
// layout's order, instead of reading it all back at the end.
type blobOrderer interface {
	BlobOrder() []v1.Hash
}

// orderBy sorts blobs into the order of want, stably; blobs want does not
// list keep their order, after the others.
func orderBy(blobs []*Blob, want []v1.Hash) {
	pos := make(map[v1.Hash]int, len(want))
	for i, h := range want {
		pos[h] = i
	}
	rank := func(b *Blob) int {
		if i, ok := pos[b.Digest]; ok {
			return i
		}
		return len(want)
	}
	slices.SortStableFunc(blobs, func(a, b *Blob) int { return rank(a) - rank(b) })
}

// copyBlob makes blob b present in every repository of targets: the first
// gets the bytes (unless it has them), the others a mount where dst can.
func (r *run) copyBlob(ctx context.Context, b *Blob, targets []string) error {
	d := b.Descriptor()
	r.o.emit(Event{Kind: BlobStarted, Digest: b.Digest, Size: b.Size})
	mounter, canMount := r.dst.(oci.Mounter)
	have := "" // a target repository known to hold the blob
	for _, repo := range targets {
		ok, err := r.dst.Exists(ctx, repo, d)
		if err != nil {
			return fmt.Errorf("checking blob %s in %s: %w", b.Digest, repo, oci.WithSide(err, oci.Destination, "exists"))
		}
		switch {
		case ok:
			r.blobsSkipped.Add(1)
			r.bytesSkipped.Add(b.Size)
			r.o.emit(Event{Kind: BlobDone, Digest: b.Digest, Size: b.Size, Repo: repo, Outcome: Skipped})
		case have != "" && canMount && mounter.Mount(ctx, have, repo, d) == nil:
			r.blobsMounted.Add(1)
			r.bytesMounted.Add(b.Size)
			r.o.emit(Event{Kind: BlobDone, Digest: b.Digest, Size: b.Size, Repo: repo, Outcome: Mounted})
		default:
			if err := r.pushBlob(ctx, b, repo); err != nil {
				return err
			}
			r.blobsCopied.Add(1)
			r.bytesCopied.Add(b.Size)
			r.o.emit(Event{Kind: BlobDone, Digest: b.Digest, Size: b.Size, Repo: repo, Outcome: Copied})
		}
		if have == "" {
			have = repo
		}
	}
	return nil
}

// pushBlob streams b, which repo was just found to lack, from the source into
// repo, verifying it on the way, and tries again on temporary errors. The
// first attempt skips dst's own check for the blob where dst can (see
// oci.AbsentPusher); a retry does not, as a failed attempt may have stored it.
func (r *run) pushBlob(ctx context.Context, b *Blob, repo string) error {
	d := b.Descriptor()
	var err error
	for attempt := 1; ; attempt++ {
		err = r.pushBlobOnce(ctx, b, repo, attempt == 1)
		if err == nil || !oci.Temporary(err) || attempt >= r.o.attempts() || ctx.Err() != nil {
			break
		}
		wait := r.o.backoff() << (attempt - 1)
		wait += rand.N(wait/2 + 1)
		r.o.debug("retrying blob copy", "digest", d.Digest, "attempt", attempt+1, "wait", wait, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	if err != nil {
		return fmt.Errorf("copying blob %s (%d bytes) from %s to %s: %w", b.Digest, b.Size, b.Source, repo, err)
	}
	return nil
}

// pushBlobOnce makes one attempt at pushing b; absent: repo is known to lack it.
func (r *run) pushBlobOnce(ctx context.Context, b *Blob, repo string, absent bool) error {
	d := b.Descriptor()
	rc, err := r.src.Fetch(ctx, b.Source, d)
	if err != nil {
		return oci.WithSide(err, oci.Source, "fetch")
	}
	defer rc.Close()
	vr, err := oci.VerifyReader(&progressReader{r: rc, o: r.o, digest: b.Digest}, d)
	if err != nil {
		return err
	}
	push := r.dst.Push
	if ap, ok := r.dst.(oci.AbsentPusher); ok && absent {
		push = ap.PushAbsent
	}
	if err := push(ctx, repo, d, vr); err != nil {
		// A mismatch found while reading the source is the source's fault.
		var se *sourceError
		if errors.As(err, &se) || errors.Is(err, oci.ErrDigestMismatch) || errors.Is(err, oci.ErrSizeMismatch) {
			return oci.WithSide(err, oci.Source, "fetch")
		}
		return oci.WithSide(err, oci.Destination, "push")
	}
	return nil
}

// sourceError marks an error that came out of the source reader during a push.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// progressReader reports bytes read in steps of at least progressStep.
type progressReader struct {
	r       io.Reader
	o       Options
	digest  v1.Hash
	pending int64
}

const progressStep = 256 << 10

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pending += int64(n)
	if p.pending >= progressStep || (err != nil && p.pending > 0) {
		p.o.emit(Event{Kind: BlobBytes, Digest: p.digest, Size: p.pending})
		p.pending = 0
	}
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

func (r *run) pushManifests(ctx context.Context) error {
	for _, level := range r.plan.levels() {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(r.o.jobs())
		for _, a := range level {
			if r.isDone(a) {
				r.manifestsSkipped.Add(1)
				continue
			}
			g.Go(func() error { return r.pushManifest(gctx, a) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) pushManifest(ctx context.Context, a *Artifact) error {
	d := a.Descriptor()
	ok, err := r.exists(ctx, a)
	if err != nil {
		return err
	}
	if ok {
		r.manifestsSkipped.Add(1)
		return nil
	}
	b := a.manifest
	if b == nil {
		if b, err = oci.FetchBytes(ctx, r.src, a.Source, d, oci.MaxManifestBytes); err != nil {
			return fmt.Errorf("reading manifest %s@%s: %w", a.Source, a.Digest, oci.WithSide(err, oci.Source, "fetch"))
		}
	}
	if a.Filter != nil && a.Filter.Forced {
		fb, err := a.filteredManifest(b)
		if err == nil {
			err = oci.PushBytes(ctx, r.dst, a.Target, a.Filtered(), fb)
		}
		if err != nil {
			return fmt.Errorf("pushing the filtered index %s@%s: %w", a.Target, a.Filter.Digest, oci.WithSide(err, oci.Destination, "push"))
		}
		r.manifestsPushed.Add(1)
		r.o.emit(Event{Kind: ManifestDone, Digest: a.Filter.Digest, Size: a.Filter.Size, Repo: a.Target})
		return nil
	}
	err = oci.PushBytes(ctx, r.dst, a.Target, d, b)
	if err != nil && a.Filter != nil && refusedIncomplete(err) {
		// The target wants every child of an index: write the filtered one.
		r.o.debug("target refused the index without its other platforms; pushing the filtered index",
			"repo", a.Target, "digest", a.Digest, "filtered", a.Filter.Digest, "error", err)
		var fb []byte
		if fb, err = a.filteredManifest(b); err != nil {
			return fmt.Errorf("pushing manifest %s@%s: %w", a.Target, a.Digest, err)
		}
		if err = oci.PushBytes(ctx, r.dst, a.Target, a.Filtered(), fb); err == nil {
			a.Filter.Landed = true
		}
	}
	if err != nil {
		return fmt.Errorf("pushing manifest %s@%s: %w", a.Target, a.Digest, oci.WithSide(err, oci.Destination, "push"))
	}
	r.manifestsPushed.Add(1)
	l := a.Landed()
	r.o.emit(Event{Kind: ManifestDone, Digest: l.Digest, Size: l.Size, Repo: a.Target})
	return nil
}

func (r *run) setTags(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.jobs())
	for i := range r.plan.Artifacts {
		a := &r.plan.Artifacts[i]
		for _, tag := range a.Tags {
			g.Go(func() error { return r.setTag(gctx, a, tag) })
		}
	}
	return g.Wait()
}

func (r *run) setTag(ctx context.Context, a *Artifact, tag string) error {
	ref, err := oci.ParseRef(a.Target + ":" + tag)
	if err != nil {
		return err
	}
	d := a.Landed()
	if h, ok := a.found[tag]; ok && h == d.Digest {
		return nil // the drift gate found it set
	}
	cur, err := r.dst.Resolve(ctx, ref)
	if err == nil && cur.Digest == d.Digest {
		return nil
	}
	if err != nil && !errors.Is(err, oci.ErrNotFound) {
		return fmt.Errorf("resolving %s: %w", ref, oci.WithSide(err, oci.Destination, "resolve"))
	}
	if err := r.dst.Tag(ctx, ref, d); err != nil {
		return fmt.Errorf("tagging %s: %w", ref, oci.WithSide(err, oci.Destination, "tag"))
	}
	r.tagsSet.Add(1)
	r.o.emit(Event{Kind: TagDone, Digest: d.Digest, Repo: ref.String()})
	return nil
}
