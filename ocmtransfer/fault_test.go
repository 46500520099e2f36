package ocmtransfer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/internal/faultproxy"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// The fault tests carry a corpus (testimage.Corpus: 13 artifacts, 14 image
// manifests, 32 distinct layers) from a source registry, reached through a
// fault-injecting reverse proxy, to a destination registry with a fault
// injector in front of it, and check that
//
//   - at 5% and 20% faults per request (every kind a retrying client should
//     survive), on both sides at once, every run completes and the target
//     holds every tag at its source digest with everything below it;
//   - when faults exceed the retry budget, the run fails with an error that
//     names the blob or artifact and that oci.Temporary recognises (the CLI
//     then hints that a re-run resumes), leaves no tag over incomplete
//     content, and a re-run without faults completes without copying
//     anything twice.
//
// Each run logs one line that starts with RELIABILITY (see faultLine) for
// docs/reliability.md. FERRY_FAULT_SEEDS=N runs N seeds per rate instead of
// 3 (1 with -short); FERRY_FAULT_MIB sets the corpus size in MiB (default 10).
//
// Body faults (resets, truncation, slow and short bodies) act on every
// download (blobs, manifests, tag lists, the component version's config and
// descriptor layer) and every upload, and the registry ping is faulted too.

// faultEnv is the source side shared by the subtests of TestFaults.
type faultEnv struct {
	src    *registrytest.Registry
	proxy  *faultproxy.Proxy // in front of src; its Host is the source the runs read
	corpus testimage.Set
	descs  []v1.Descriptor // of corpus, in order
	stats  testimage.Stats
}

func faultEnvFor(t *testing.T) *faultEnv {
	t.Helper()
	size := testimage.Size(10 << 20)
	if v := os.Getenv("FERRY_FAULT_MIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("FERRY_FAULT_MIB=%q: want a positive number of MiB", v)
		}
		size = testimage.Size(n) << 20
	}
	e := &faultEnv{src: registrytest.New(t), corpus: testimage.Corpus(7, size)}
	e.stats = e.corpus.Stats()
	in, err := faultproxy.New(faultproxy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in.SetEnabled(false)
	e.proxy = faultproxy.NewProxy(t, in, e.src.URL, nil)
	e.descs, err = e.corpus.Push(t.Context(), faultStore(t, 2), e.src.Host)
	if err != nil {
		t.Fatalf("pushing the corpus: %v", err)
	}
	return e
}

// faultStore returns a fresh registry Store, as a new ferry process has,
// trying each replayable request attempts times with 2ms backoff.
func faultStore(t testing.TB, attempts int) *remote.Store {
	t.Helper()
	s, err := remote.New(remote.WithRetry(attempts, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// faultDst starts a destination registry with an injector in front of it.
func faultDst(t *testing.T, cfg faultproxy.Config) (*registrytest.Registry, *faultproxy.Injector) {
	t.Helper()
	in, err := faultproxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return registrytest.New(t, registrytest.WithHandlerWrapper(in.Wrap)), in
}

// faultPlan plans the corpus from the source (through the proxy) into dst
// under "air".
func (e *faultEnv) faultPlan(ctx context.Context, s oci.Reader, dstHost string) (*transfer.Plan, error) {
	pl := transfer.NewPlanner(s)
	for _, n := range e.corpus {
		from, err := oci.ParseRef(n.Repo(e.proxy.Host) + ":" + n.Tag)
		if err != nil {
			return nil, err
		}
		if _, err := pl.Add(ctx, from, n.Repo(dstHost+"/air"), []string{n.Tag}, from.String()); err != nil {
			return nil, err
		}
	}
	return pl.Plan(), nil
}

// faultRecorder counts what a Run reports: the engine's blob retries (its
// debug log) and which blobs landed how, per repository.
type faultRecorder struct {
	retries atomic.Int64
	mu      sync.Mutex
	done    map[string]transfer.Outcome // "repo@digest" -> outcome
}

func newFaultRecorder() *faultRecorder { return &faultRecorder{done: map[string]transfer.Outcome{}} }

func (r *faultRecorder) options(o transfer.Options) transfer.Options {
	o.Logger = slog.New(faultLogHandler{r})
	o.Progress = func(ev transfer.Event) {
		if ev.Kind == transfer.BlobDone {
			r.mu.Lock()
			r.done[ev.Repo+"@"+ev.Digest.String()] = ev.Outcome
			r.mu.Unlock()
		}
	}
	return o
}

// faultLogHandler counts the engine's "retrying blob copy" debug records.
type faultLogHandler struct{ r *faultRecorder }

func (h faultLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h faultLogHandler) Handle(_ context.Context, rec slog.Record) error {
	if strings.HasPrefix(rec.Message, "retrying") {
		h.r.retries.Add(1)
	}
	return nil
}
func (h faultLogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h faultLogHandler) WithGroup(string) slog.Handler      { return h }

// faultCheck fails the test unless dst holds every corpus tag under "air" at
// its source digest, with every manifest and blob below it.
func (e *faultEnv) faultCheck(t *testing.T, s oci.Store, dstHost string) {
	t.Helper()
	for i, n := range e.corpus {
		ref, err := oci.ParseRef(n.Repo(dstHost+"/air") + ":" + n.Tag)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Resolve(t.Context(), ref)
		if err != nil || d.Digest != e.descs[i].Digest {
			t.Errorf("%s = %v, %v; want %s", ref, d.Digest, err, e.descs[i].Digest)
			continue
		}
		if err := faultComplete(t.Context(), s, ref.Repo(), d); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
}

// faultComplete reports the first manifest or blob below d that repo lacks.
func faultComplete(ctx context.Context, s oci.Store, repo string, d v1.Descriptor) error {
	b, err := oci.FetchBytes(ctx, s, repo, d, oci.MaxManifestBytes)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if oci.IsManifest(k.MediaType) {
			if err := faultComplete(ctx, s, repo, k); err != nil {
				return err
			}
			continue
		}
		if ok, err := s.Exists(ctx, repo, k); err != nil || !ok {
			return fmt.Errorf("blob %s below %s is missing (%v)", k.Digest, d.Digest, err)
		}
	}
	return nil
}

// faultNoDanglingTag fails the test if a corpus tag in dst points at
// content that is not all there.
func (e *faultEnv) faultNoDanglingTag(t *testing.T, s oci.Store, dstHost string) (tagged int) {
	t.Helper()
	for _, n := range e.corpus {
		ref, _ := oci.ParseRef(n.Repo(dstHost+"/air") + ":" + n.Tag)
		d, err := s.Resolve(t.Context(), ref)
		if errors.Is(err, oci.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("resolving %s: %v", ref, err)
		}
		tagged++
		if err := faultComplete(t.Context(), s, ref.Repo(), d); err != nil {
			t.Errorf("%s is tagged over incomplete content: %v", ref, err)
		}
	}
	return tagged
}

// faultResult is one run, for the log line and the summary.
type faultResult struct {
	name      string
	rate      float64
	seed      uint64
	completed bool
	src, dst  faultproxy.Stats
	retries   int64
	bytes     int64
	took      time.Duration
}

// faultLine is the machine-greppable line of one run:
//
//	RELIABILITY test=images fault-rate=0.20 seed=3 runs=1 completed=1 faults=41 retried=40 engine-retries=9 … time=2.10s src.requests=… dst.503=…
func faultLine(r faultResult) string {
	completed := 0
	if r.completed {
		completed = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "RELIABILITY test=%s fault-rate=%.2f seed=%d runs=1 completed=%d faults=%d retried=%d engine-retries=%d requests=%d bytes=%d time=%.2fs",
		r.name, r.rate, r.seed, completed, r.src.Total()+r.dst.Total(), r.src.Retried+r.dst.Retried, r.retries,
		r.src.Requests+r.dst.Requests, r.bytes, r.took.Seconds())
	for _, side := range []struct {
		name string
		st   faultproxy.Stats
	}{{"src", r.src}, {"dst", r.dst}} {
		for _, f := range strings.Fields(side.st.String()) {
			b.WriteString(" " + side.name + "." + f)
		}
	}
	return b.String()
}

// faultSeeds returns how many seeds each rate runs.
func faultSeeds(t *testing.T) int {
	if v := os.Getenv("FERRY_FAULT_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("FERRY_FAULT_SEEDS=%q: want a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 1
	}
	return 3
}

// faultRunOptions are the engine's settings under faults: attempts enough
// for 20% faults per request, backoffs short enough for a test.
var faultRunOptions = transfer.Options{Jobs: 8, Attempts: 8, Backoff: 2 * time.Millisecond}

// faultStoreAttempts is how often the Store tries a replayable request.
const faultStoreAttempts = 6

func TestFaults(t *testing.T) {
	e := faultEnvFor(t)
	t.Logf("RELIABILITY corpus %s", e.stats)
	var results []faultResult
	t.Run("images", func(t *testing.T) {
		for _, rate := range []float64{0.05, 0.20} {
			for seed := uint64(1); seed <= uint64(faultSeeds(t)); seed++ {
				t.Run(fmt.Sprintf("rate=%.2f/seed=%d", rate, seed), func(t *testing.T) {
					results = append(results, e.imagesUnderFaults(t, rate, seed))
				})
			}
		}
	})
	t.Run("component", func(t *testing.T) {
		for _, rate := range []float64{0.05, 0.20} {
			for seed := uint64(101); seed <= uint64(100+faultSeeds(t)); seed++ {
				t.Run(fmt.Sprintf("rate=%.2f/seed=%d", rate, seed), func(t *testing.T) {
					results = append(results, e.componentUnderFaults(t, rate, seed))
				})
			}
		}
	})
	t.Run("one-blob-always-fails", e.oneBlobAlwaysFails)
	t.Run("no-retries-at-50", e.noRetriesAtFifty)
	t.Run("wrong-content-length", e.wrongContentLength)
	t.Run("retry-after", e.retryAfter)

	// The summary: one line per test and rate.
	type agg struct {
		runs, completed, faults, retried int
		retries                          int64
		took                             time.Duration
	}
	sums := map[string]*agg{}
	var order []string
	for _, r := range results {
		k := fmt.Sprintf("test=%s fault-rate=%.2f", r.name, r.rate)
		if sums[k] == nil {
			sums[k] = &agg{}
			order = append(order, k)
		}
		a := sums[k]
		a.runs++
		if r.completed {
			a.completed++
		}
		a.faults += r.src.Total() + r.dst.Total()
		a.retries += r.retries
		a.retried += r.src.Retried + r.dst.Retried
		a.took += r.took
	}
	for _, k := range order {
		a := sums[k]
		t.Logf("RELIABILITY-SUMMARY %s runs=%d completed=%d faults=%d retried=%d engine-retries=%d time=%.2fs",
			k, a.runs, a.completed, a.faults, a.retried, a.retries, a.took.Seconds())
	}
}

// faultConfig returns the configuration of one side: rate spread over the
// kinds a retrying client survives, bodies slowed to 32 MiB/s, 429s asking
// for no wait, on every request.
func faultConfig(rate float64, seed uint64) faultproxy.Config {
	return faultproxy.Config{Seed: seed, Rates: faultproxy.Spread(rate, faultproxy.Retryable...), SlowRate: 32 << 20}
}

// imagesUnderFaults plans and runs the corpus transfer with faults on both
// sides and checks the result.
func (e *faultEnv) imagesUnderFaults(t *testing.T, rate float64, seed uint64) faultResult {
	ctx := t.Context()
	res := faultResult{name: "images", rate: rate, seed: seed}
	if err := e.proxy.Reset(faultConfig(rate, seed)); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetEnabled(true)
	defer e.proxy.SetEnabled(false)
	dst, dstIn := faultDst(t, faultConfig(rate, seed+1000))
	s := faultStore(t, faultStoreAttempts)
	rec := newFaultRecorder()
	start := time.Now()
	p, err := e.faultPlan(ctx, s, dst.Host)
	var rep *transfer.Report
	if err == nil {
		rep, err = transfer.Run(ctx, p, s, s, rec.options(faultRunOptions))
	}
	res.took = time.Since(start)
	res.src, res.dst, res.retries, res.completed = e.proxy.Stats(), dstIn.Stats(), rec.retries.Load(), err == nil
	if rep != nil {
		res.bytes = rep.BytesCopied
	}
	t.Log(faultLine(res))
	if err != nil {
		t.Fatalf("run failed at %.0f%% faults, seed %d: %v\nsource faults:\n%sdestination faults:\n%s",
			rate*100, seed, err, e.proxy.Log(40), dstIn.Log(40))
	}
	e.proxy.SetEnabled(false)
	dstIn.SetEnabled(false)
	e.faultCheck(t, faultStore(t, 1), dst.Host)
	return res
}

// componentUnderFaults builds a component version in the source that names
// three corpus images and holds a local blob of 1.5 MiB, and transfers it
// with its resources (ocmtransfer.NewPlan, wired as `ferry transfer`
// wires it) with faults on both sides.
func (e *faultEnv) componentUnderFaults(t *testing.T, rate float64, seed uint64) faultResult {
	ctx := t.Context()
	res := faultResult{name: "component", rate: rate, seed: seed}
	version := fmt.Sprintf("1.0.%d", seed)
	e.faultComponent(t, version)

	if err := e.proxy.Reset(faultConfig(rate, seed)); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetEnabled(true)
	defer e.proxy.SetEnabled(false)
	dst, dstIn := faultDst(t, faultConfig(rate, seed+1000))
	s := faultStore(t, faultStoreAttempts)
	rec := newFaultRecorder()
	start := time.Now()
	sources := &ocmtransfer.SourceReader{Store: s, Images: s}
	defer sources.Close()
	target := ocmtransfer.Target{Repository: ocireg.New(s, dst.Host+"/air"), Scheme: "http"}
	refs := []component.Ref{{Component: faultComponentName, Version: version}}
	p, err := ocmtransfer.NewPlan(ctx, sources, ocireg.New(s, e.proxy.Host+"/ocm"), refs, target, ocmtransfer.PlanOptions{})
	var rep *ocmtransfer.Report
	if err == nil {
		rep, err = ocmtransfer.Run(ctx, p, sources, s, rec.options(faultRunOptions))
	}
	res.took = time.Since(start)
	res.src, res.dst, res.retries, res.completed = e.proxy.Stats(), dstIn.Stats(), rec.retries.Load(), err == nil
	if rep != nil {
		res.bytes = rep.BytesCopied
	}
	t.Log(faultLine(res))
	if err != nil {
		t.Fatalf("component transfer failed at %.0f%% faults, seed %d: %v\nsource faults:\n%sdestination faults:\n%s",
			rate*100, seed, err, e.proxy.Log(40), dstIn.Log(40))
	}
	e.proxy.SetEnabled(false)
	dstIn.SetEnabled(false)

	// The copy names the copied images by digest, and every one is complete.
	clean := faultStore(t, 1)
	cv, err := ocireg.New(clean, dst.Host+"/air").Get(ctx, faultComponentName, version)
	if err != nil {
		t.Fatalf("reading the copied version: %v", err)
	}
	images := 0
	for _, r := range cv.Descriptor.Resources {
		if r.Access.Kind() != component.AccessOCIArtifact {
			continue
		}
		acc, _ := r.Access.OCIArtifact()
		ref, err := oci.ParseRef(strings.TrimPrefix(acc.ImageReference, "http://"))
		if err != nil || ref.Registry != dst.Host || ref.Digest == (v1.Hash{}) {
			t.Errorf("resource %s: access %q does not name the target by digest (%v)", r.Name, acc.ImageReference, err)
			continue
		}
		d, err := clean.Resolve(ctx, ref)
		if err == nil {
			err = faultComplete(ctx, clean, ref.Repo(), d)
		}
		if err != nil {
			t.Errorf("resource %s at %s: %v", r.Name, ref, err)
		}
		images++
	}
	if images != 3 {
		t.Errorf("the copy names %d images, want 3", images)
	}
	if len(cv.Layers) < 2 {
		t.Errorf("the copy holds no local blob")
	}
	for _, l := range cv.Layers {
		if ok, err := clean.Exists(ctx, cv.Ref.Repo(), l); err != nil || !ok {
			t.Errorf("layer %s of the copied version is missing (%v)", l.Digest, err)
		}
	}
	return res
}

const faultComponentName = "example.com/faulty"

// faultComponent writes version of faultComponentName into the source
// under "ocm", naming three corpus images through the proxy.
func (e *faultEnv) faultComponent(t *testing.T, version string) {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	data := make([]byte, 3<<19)
	_, _ = rand.NewChaCha8([32]byte{byte(len(version)), version[len(version)-1]}).Read(data)
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var imgs strings.Builder
	for i, n := range []testimage.Named{e.corpus[0], e.corpus[1], e.corpus[len(e.corpus)-1]} {
		fmt.Fprintf(&imgs, "  - name: image-%d\n    type: ociImage\n    version: %q\n    access: {type: ociArtifact, imageReference: %q}\n",
			i, n.Tag, n.Repo(e.proxy.Host)+":"+n.Tag)
	}
	constructor := fmt.Sprintf(`name: %s
version: %s
provider: {name: ferry}
creationTime: "2020-01-01T00:00:00Z"
resources:
%s  - name: data
    type: blob
    input: {type: file, path: blob.bin}
`, faultComponentName, version, imgs.String())
	specs, err := construct.Parse([]byte(constructor), construct.ParseOptions{Dir: dir})
	if err != nil {
		t.Fatalf("constructor: %v\n%s", err, constructor)
	}
	s := faultStore(t, 2)
	res, err := construct.Build(ctx, specs[0], construct.Options{Resolver: s})
	if err != nil {
		t.Fatal(err)
	}
	var blobs []ocireg.LocalBlob
	for _, b := range res.Blobs {
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: b.Descriptor, Open: func(context.Context) (io.ReadCloser, error) { return b.Open() }})
	}
	if _, err := ocireg.New(s, e.proxy.Host+"/ocm").Write(ctx, res.Descriptor, blobs, ocireg.WriteOptions{}); err != nil {
		t.Fatalf("writing the source version: %v", err)
	}
}

// faultRerun runs the transfer again without faults, into the same
// destination, and checks that it completes, copying each blob that no
// target repository holds yet exactly once and nothing else: what the failed
// run put there is not sent again.
func (e *faultEnv) faultRerun(t *testing.T, dst *registrytest.Registry, firstRep *transfer.Report) {
	t.Helper()
	ctx := t.Context()
	e.proxy.SetEnabled(false)
	s := faultStore(t, 2)
	p, err := e.faultPlan(ctx, s, dst.Host)
	if err != nil {
		t.Fatal(err)
	}
	held := map[v1.Hash]bool{}
	var missing int64
	for _, b := range p.Blobs {
		for _, repo := range b.Targets {
			ok, err := s.Exists(ctx, repo, b.Descriptor())
			if err != nil {
				t.Fatal(err)
			}
			held[b.Digest] = held[b.Digest] || ok
		}
		if !held[b.Digest] {
			missing += b.Size
		}
	}
	dst.ResetRequests()
	rec := newFaultRecorder()
	rep, err := transfer.Run(ctx, p, s, s, rec.options(transfer.Options{}))
	if err != nil {
		t.Fatalf("re-run without faults: %v", err)
	}
	copies := map[v1.Hash]int{}
	for k, o := range rec.done {
		if o == transfer.Copied {
			_, dg, _ := strings.Cut(k, "@")
			h, _ := v1.NewHash(dg)
			copies[h]++
		}
	}
	sent := 0
	for _, b := range p.Blobs {
		want := 1
		if held[b.Digest] {
			want = 0
		}
		if copies[b.Digest] != want {
			t.Errorf("the re-run sent blob %s %d times; the failed run left it in the target: %v", b.Digest, copies[b.Digest], held[b.Digest])
		}
		sent += copies[b.Digest]
	}
	uploads := 0
	for _, r := range dst.Requests().Filter(http.MethodPut, "/v2/") {
		if strings.Contains(r.Path, "/blobs/uploads/") && r.Status == http.StatusCreated {
			uploads++
		}
	}
	if uploads != sent || rep.BytesCopied != missing {
		t.Errorf("the re-run completed %d uploads and copied %d bytes; want %d uploads, the %d bytes the target lacked",
			uploads, rep.BytesCopied, sent, missing)
	}
	e.faultCheck(t, faultStore(t, 1), dst.Host)
	t.Logf("RELIABILITY-RERUN first-copied=%d rerun-copied=%d rerun-skipped=%d rerun-mounted=%d unique=%d",
		firstRep.BytesCopied, rep.BytesCopied, rep.BytesSkipped, rep.BytesMounted, p.Stats().Bytes)
}

// faultBlob returns the digest of a layer only the first corpus image has.
func (e *faultEnv) faultBlob(t *testing.T) v1.Hash {
	t.Helper()
	im := e.corpus[0].Artifact.Images()[0]
	d, err := im.Layers[len(im.Layers)-1].Descriptor()
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest
}

func blobMatch(d v1.Hash) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) }
}

// oneBlobAlwaysFails: the source answers 503 to every request for one blob.
// The run fails naming that blob, as an error a re-run may cure, with no
// tag over incomplete content; a re-run without faults completes.
func (e *faultEnv) oneBlobAlwaysFails(t *testing.T) {
	ctx := t.Context()
	bad := e.faultBlob(t)
	if err := e.proxy.Reset(faultproxy.Config{Rates: map[faultproxy.Kind]float64{faultproxy.Status503: 1}, Match: blobMatch(bad)}); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetEnabled(true)
	defer e.proxy.SetEnabled(false)
	dst, _ := faultDst(t, faultproxy.Config{})
	s := faultStore(t, 3)
	p, err := e.faultPlan(ctx, s, dst.Host)
	if err != nil {
		t.Fatal(err)
	}
	rec := newFaultRecorder()
	start := time.Now()
	rep, err := transfer.Run(ctx, p, s, s, rec.options(transfer.Options{Attempts: 3, Backoff: time.Millisecond}))
	took := time.Since(start)
	if err == nil {
		t.Fatal("the run succeeded although the source never served a blob")
	}
	var oe *oci.Error
	if !errors.As(err, &oe) || oe.Digest != bad || oe.Side != oci.Source {
		t.Errorf("error %v does not name the source blob %s", err, bad)
	}
	if !oci.Temporary(err) {
		t.Errorf("error %v is not oci.Temporary: the CLI would not hint that a re-run resumes", err)
	}
	st := e.proxy.Stats()
	if want := 3 * 3; st.Faults[faultproxy.Status503] != want {
		t.Errorf("the source answered %d requests for the blob with 503, want %d (3 engine attempts × 3 requests)", st.Faults[faultproxy.Status503], want)
	}
	t.Logf("RELIABILITY test=budget-one-blob runs=1 completed=0 faults=%d engine-retries=%d time=%.2fs error=%q",
		st.Total(), rec.retries.Load(), took.Seconds(), err)
	tagged := e.faultNoDanglingTag(t, faultStore(t, 1), dst.Host)
	if tagged == len(e.corpus) {
		t.Errorf("every tag was set although a blob is missing")
	}
	e.faultRerun(t, dst, rep)
}

// noRetriesAtFifty: half the destination's requests fail and neither the
// engine nor the Store retries. The run fails with an error that names what
// it was doing and that a re-run may cure; a re-run without faults
// completes without copying anything twice.
func (e *faultEnv) noRetriesAtFifty(t *testing.T) {
	ctx := t.Context()
	e.proxy.SetEnabled(false)
	cfg := faultConfig(0.5, 50)
	dst, dstIn := faultDst(t, cfg)
	s := faultStore(t, 1)
	p, err := e.faultPlan(ctx, s, dst.Host)
	if err != nil {
		t.Fatal(err)
	}
	rec := newFaultRecorder()
	rep, err := transfer.Run(ctx, p, s, s, rec.options(transfer.Options{Attempts: 1}))
	if err == nil {
		t.Fatalf("the run succeeded with half the requests failing and no retries\n%s", dstIn.Log(20))
	}
	var oe *oci.Error
	if !errors.As(err, &oe) || oe.Side != oci.Destination || (oe.Digest == (v1.Hash{}) && oe.Ref == "") {
		t.Errorf("error %v does not name the destination artifact or blob", err)
	}
	if !oci.Temporary(err) {
		t.Errorf("error %v is not oci.Temporary: the CLI would not hint that a re-run resumes\n%s", err, dstIn.Log(20))
	}
	t.Logf("RELIABILITY test=budget-no-retries fault-rate=0.50 runs=1 completed=0 faults=%d error=%q", dstIn.Stats().Total(), err)
	dstIn.SetEnabled(false)
	e.faultNoDanglingTag(t, faultStore(t, 1), dst.Host)
	e.faultRerun(t, dst, rep)
}

// wrongContentLength: the source announces a short Content-Length for one
// blob and sends that many bytes. ferry takes it for damaged content: the
// run fails at once with oci.ErrSizeMismatch naming the blob, and tags
// nothing above it; a re-run without faults completes.
func (e *faultEnv) wrongContentLength(t *testing.T) {
	ctx := t.Context()
	bad := e.faultBlob(t)
	if err := e.proxy.Reset(faultproxy.Config{Rates: map[faultproxy.Kind]float64{faultproxy.WrongLength: 1}, Match: blobMatch(bad)}); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetEnabled(true)
	defer e.proxy.SetEnabled(false)
	dst, _ := faultDst(t, faultproxy.Config{})
	s := faultStore(t, 3)
	p, err := e.faultPlan(ctx, s, dst.Host)
	if err != nil {
		t.Fatal(err)
	}
	rec := newFaultRecorder()
	rep, err := transfer.Run(ctx, p, s, s, rec.options(transfer.Options{Attempts: 3, Backoff: time.Millisecond}))
	var oe *oci.Error
	if !errors.Is(err, oci.ErrSizeMismatch) || !errors.As(err, &oe) || oe.Digest != bad || oe.Side != oci.Source {
		t.Fatalf("got %v, want a size mismatch of the source blob %s", err, bad)
	}
	t.Logf("RELIABILITY test=wrong-content-length runs=1 completed=0 faults=%d engine-retries=%d error=%q",
		e.proxy.Stats().Total(), rec.retries.Load(), err)
	e.faultNoDanglingTag(t, faultStore(t, 1), dst.Host)
	e.faultRerun(t, dst, rep)
}

// retryAfter: the source answers the first request for one tag with 429
// and Retry-After: 1. The run completes, and waited.
func (e *faultEnv) retryAfter(t *testing.T) {
	ctx := t.Context()
	tag := "/v2/" + e.corpus[0].Name + "/manifests/" + e.corpus[0].Tag
	if err := e.proxy.Reset(faultproxy.Config{
		Rates: map[faultproxy.Kind]float64{faultproxy.Status429: 1}, RetryAfter: time.Second, MaxPerKey: 1,
		Match: func(r *http.Request) bool { return r.URL.Path == tag },
	}); err != nil {
		t.Fatal(err)
	}
	e.proxy.SetEnabled(true)
	defer e.proxy.SetEnabled(false)
	dst, _ := faultDst(t, faultproxy.Config{})
	s := faultStore(t, 3)
	start := time.Now()
	p, err := e.faultPlan(ctx, s, dst.Host)
	if err == nil {
		_, err = transfer.Run(ctx, p, s, s, faultRunOptions)
	}
	took := time.Since(start)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, e.proxy.Log(0))
	}
	st := e.proxy.Stats()
	if st.Faults[faultproxy.Status429] != 1 || st.Retried != 1 || took < time.Second {
		t.Errorf("%d answers of 429 with Retry-After: 1, and the run took %v", st.Faults[faultproxy.Status429], took)
	}
	t.Logf("RELIABILITY test=retry-after runs=1 completed=1 faults=%d time=%.2fs", st.Total(), took.Seconds())
	e.proxy.SetEnabled(false)
	e.faultCheck(t, faultStore(t, 1), dst.Host)
}
