package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/faultproxy"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

const bodySize = 200 << 10

// body is the content the test backend serves for every GET.
var body = func() []byte {
	b := make([]byte, bodySize)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(b)
	return b
}()

// backend answers GET with body (Content-Length set, written in pieces),
// reads and counts the body of other requests, and answers 201.
type backend struct {
	mu       sync.Mutex
	received []int64 // body bytes of each non-GET request it answered
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for p := body; len(p) > 0; p = p[min(len(p), 8<<10):] {
			if _, err := w.Write(p[:min(len(p), 8<<10)]); err != nil {
				return
			}
		}
		return
	}
	n, _ := io.Copy(io.Discard, r.Body)
	b.mu.Lock()
	b.received = append(b.received, n)
	b.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// serve starts an httptest server with in in front of a backend.
func serve(t *testing.T, cfg faultproxy.Config) (*faultproxy.Injector, *backend, string) {
	t.Helper()
	in, err := faultproxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	be := &backend{}
	srv := httptest.NewServer(in.Wrap(be))
	t.Cleanup(srv.Close)
	return in, be, srv.URL
}

func only(k faultproxy.Kind) map[faultproxy.Kind]float64 { return map[faultproxy.Kind]float64{k: 1} }

// client has no keep-alive, so a broken connection never spoils the next test step.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func get(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := client().Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestStatusFaults(t *testing.T) {
	for _, c := range []struct {
		kind faultproxy.Kind
		code int
	}{
		{faultproxy.Status500, 500}, {faultproxy.Status502, 502}, {faultproxy.Status503, 503}, {faultproxy.Status429, 429},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			in, be, url := serve(t, faultproxy.Config{Rates: only(c.kind), RetryAfter: 1500 * time.Millisecond})
			resp, b, err := get(t, url+"/v2/a/blobs/sha256:1")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.code || !bytes.Contains(b, []byte(`"errors"`)) {
				t.Fatalf("got %d %q, want %d with a registry error body", resp.StatusCode, b, c.code)
			}
			if ra := resp.Header.Get("Retry-After"); (c.code == 429) != (ra == "2") {
				t.Errorf("Retry-After %q on %d (want 2, rounded up, on 429 only)", ra, c.code)
			}
			// A PUT gets the status without its body being read.
			req, _ := http.NewRequest(http.MethodPut, url+"/v2/a/blobs/uploads/x?digest=sha256:2", bytes.NewReader(body))
			if resp, err := client().Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != c.code {
					t.Errorf("PUT got %d, want %d", resp.StatusCode, c.code)
				}
			}
			if len(be.received) != 0 {
				t.Errorf("the backend saw %d requests", len(be.received))
			}
			st := in.Stats()
			if st.Faults[c.kind] != 2 || st.Total() != 2 || st.Requests != 2 {
				t.Errorf("stats %s, want 2 faults of %s", st, c.kind)
			}
			if fs := in.Faults(); len(fs) != 2 || fs[0].Kind != c.kind || fs[0].At != -1 || fs[0].Path != "/v2/a/blobs/sha256:1" {
				t.Errorf("fault log %v", fs)
			}
		})
	}
}

func TestResetMidBody(t *testing.T) {
	in, _, url := serve(t, faultproxy.Config{Seed: 3, Rates: only(faultproxy.Reset)})
	_, b, err := get(t, url+"/v2/a/blobs/sha256:1")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read %d bytes, error %v; want a connection reset", len(b), err)
	}
	fs := in.Faults()
	if len(fs) != 1 || fs[0].Kind != faultproxy.Reset || fs[0].At <= 0 || fs[0].At >= bodySize {
		t.Fatalf("fault log %v", fs)
	}
	// A reset may drop bytes in flight, never add any.
	if int64(len(b)) > fs[0].At || !bytes.Equal(b, body[:len(b)]) {
		t.Errorf("client got %d bytes, fault struck after %d", len(b), fs[0].At)
	}
}

func TestTruncatedBody(t *testing.T) {
	in, _, url := serve(t, faultproxy.Config{Seed: 4, Rates: only(faultproxy.Truncate)})
	resp, b, err := get(t, url+"/v2/a/blobs/sha256:1")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read %d bytes, error %v; want an unexpected EOF", len(b), err)
	}
	fs := in.Faults()
	if resp.ContentLength != bodySize || len(fs) != 1 || int64(len(b)) != fs[0].At || !bytes.Equal(b, body[:len(b)]) {
		t.Fatalf("announced %d, got %d bytes; fault log %v", resp.ContentLength, len(b), fs)
	}
}

func TestWrongContentLength(t *testing.T) {
	in, _, url := serve(t, faultproxy.Config{Seed: 5, Rates: only(faultproxy.WrongLength)})
	resp, b, err := get(t, url+"/v2/a/blobs/sha256:1")
	if err != nil {
		t.Fatal(err)
	}
	fs := in.Faults()
	if len(fs) != 1 || resp.ContentLength != fs[0].At || int64(len(b)) != fs[0].At || fs[0].At >= bodySize || !bytes.Equal(b, body[:len(b)]) {
		t.Fatalf("announced %d, got %d bytes; fault log %v", resp.ContentLength, len(b), fs)
	}
}

func TestSlowBody(t *testing.T) {
	const rate = 1 << 20 // 200 KiB take about 195 ms
	in, _, url := serve(t, faultproxy.Config{Rates: only(faultproxy.Slow), SlowRate: rate})
	start := time.Now()
	_, b, err := get(t, url+"/v2/a/blobs/sha256:1")
	took := time.Since(start)
	if err != nil || !bytes.Equal(b, body) {
		t.Fatalf("got %d bytes, %v", len(b), err)
	}
	if want := time.Duration(bodySize) * time.Second / rate; took < want*9/10 {
		t.Errorf("took %v, want at least %v", took, want)
	}
	if st := in.Stats(); st.Faults[faultproxy.Slow] != 1 {
		t.Errorf("stats %s", st)
	}
}

func TestUploadReset(t *testing.T) {
	in, be, url := serve(t, faultproxy.Config{Seed: 6, Rates: only(faultproxy.UploadReset)})
	req, _ := http.NewRequest(http.MethodPut, url+"/v2/a/blobs/uploads/x?digest=sha256:2", bytes.NewReader(body))
	resp, err := client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("upload answered %d, want a broken connection", resp.StatusCode)
	}
	fs := in.Faults()
	if len(fs) != 1 || fs[0].Kind != faultproxy.UploadReset || fs[0].At <= 0 || fs[0].At >= bodySize {
		t.Fatalf("fault log %v", fs)
	}
	if len(be.received) != 0 {
		t.Errorf("the backend saw the upload")
	}
	// Requests without a body, and GETs, are not eligible.
	if _, _, err := get(t, url+"/v2/a/blobs/sha256:1"); err != nil {
		t.Errorf("GET: %v", err)
	}
}

// TestFaultsOnlyOnAnswersWithBodies: a body fault drawn for a GET that the
// backend answers without a 200 body is not made and not counted.
func TestFaultsOnlyOnAnswersWithBodies(t *testing.T) {
	in, err := faultproxy.New(faultproxy.Config{Rates: only(faultproxy.Reset)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in.Wrap(http.NotFoundHandler()))
	defer srv.Close()
	resp, _, err := get(t, srv.URL+"/v2/a/blobs/sha256:1")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("got %v, %v", resp, err)
	}
	if st := in.Stats(); st.Total() != 0 || st.Requests != 1 {
		t.Errorf("stats %s", st)
	}
}

// TestDeterministic sends the same requests, concurrently and in a
// different order, through two injectors with the same seed: they make the
// same faults. Another seed makes others.
func TestDeterministic(t *testing.T) {
	cfg := faultproxy.Config{Seed: 42, Rates: faultproxy.Spread(0.5, faultproxy.Kinds...)}
	type req struct {
		method, path string
		body         []byte
	}
	var reqs []req
	for i := range 40 {
		reqs = append(reqs,
			req{http.MethodGet, fmt.Sprintf("/v2/r/blobs/sha256:%02d", i), nil},
			req{http.MethodHead, fmt.Sprintf("/v2/r/manifests/sha256:%02d", i), nil},
			// Upload sessions differ; the digest names the upload.
			req{http.MethodPut, fmt.Sprintf("/v2/r/blobs/uploads/%d-%d?_state=x&digest=sha256:%02d", rand.Int(), i, i), body[:1000]},
			// A body without a digest is told apart by its first bytes.
			req{http.MethodPatch, fmt.Sprintf("/v2/r/blobs/uploads/%d", rand.Int()), body[i : i+1000]},
		)
	}
	run := func(seed uint64, order []int) []string {
		c := cfg
		c.Seed = seed
		c.SlowRate = 1 << 30
		in, _, url := serve(t, c)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, i := range order {
			r := reqs[i]
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				for range 3 { // three attempts of each, one after another
					req, _ := http.NewRequest(r.method, url+r.path, bytes.NewReader(r.body))
					if r.body == nil {
						req.Body = nil
					}
					if resp, err := client().Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}()
		}
		wg.Wait()
		var out []string
		for _, f := range in.Faults() {
			out = append(out, fmt.Sprintf("%s|%d|%s|%d", f.Key, f.Attempt, f.Kind, f.At))
		}
		slices.Sort(out)
		if st := in.Stats(); st.Requests != 3*len(reqs) || st.Repeats != 2*len(reqs) {
			t.Errorf("stats %s, want %d requests, %d repeats", st, 3*len(reqs), 2*len(reqs))
		}
		return out
	}
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	a := run(42, order)
	slices.Reverse(order)
	b := run(42, order)
	if !slices.Equal(a, b) {
		t.Fatalf("the same seed made different faults:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if n := len(a); n < len(reqs) || n > 2*len(reqs) {
		t.Errorf("%d faults on %d requests at rate 0.5", n, 3*len(reqs))
	}
	if c := run(43, order); slices.Equal(a, c) {
		t.Error("another seed made the same faults")
	}
}

// TestRates checks the rate of each kind over many requests.
func TestRates(t *testing.T) {
	rates := map[faultproxy.Kind]float64{faultproxy.Status503: 0.1, faultproxy.Status429: 0.05, faultproxy.Reset: 0.05}
	in, err := faultproxy.New(faultproxy.Config{Seed: 7, Rates: rates})
	if err != nil {
		t.Fatal(err)
	}
	h := in.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		_, _ = w.Write([]byte("0123456789"))
	}))
	const n = 4000
	for i := range n {
		// HEAD: the reset does not apply, so only the status rates count.
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodHead, fmt.Sprintf("/v2/r/manifests/%d", i), nil))
	}
	st := in.Stats()
	for k, want := range map[faultproxy.Kind]float64{faultproxy.Status503: 0.1, faultproxy.Status429: 0.05, faultproxy.Reset: 0} {
		got := float64(st.Faults[k]) / n
		if got < want*0.75 || got > want*1.25 {
			t.Errorf("%s: rate %.3f, want about %.3f", k, got, want)
		}
	}
}

func TestMaxPerKeyMatchAndDisable(t *testing.T) {
	in, _, url := serve(t, faultproxy.Config{Rates: only(faultproxy.Status503), MaxPerKey: 2,
		Match: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/") }})
	var codes []int
	for range 4 {
		resp, _, err := get(t, url+"/v2/a/blobs/sha256:1")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
	}
	if !slices.Equal(codes, []int{503, 503, 200, 200}) {
		t.Errorf("MaxPerKey 2: statuses %v", codes)
	}
	if resp, _, err := get(t, url+"/v2/a/manifests/latest"); err != nil || resp.StatusCode != 200 {
		t.Errorf("a request Match rejects: %v, %v", resp, err)
	}
	in.SetEnabled(false)
	if resp, _, err := get(t, url+"/v2/a/blobs/sha256:2"); err != nil || resp.StatusCode != 200 {
		t.Errorf("disabled: %v, %v", resp, err)
	}
	if st := in.Stats(); st.Requests != 4 || st.Total() != 2 || st.Retried != 2 {
		t.Errorf("stats %s", st)
	}
	if !strings.Contains(in.Log(0), "503 GET /v2/a/blobs/sha256:1 (attempt 2)") {
		t.Errorf("log:\n%s", in.Log(0))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []faultproxy.Config{
		{Rates: map[faultproxy.Kind]float64{"teapot": 0.1}},
		{Rates: map[faultproxy.Kind]float64{faultproxy.Reset: -0.1}},
		{Rates: map[faultproxy.Kind]float64{faultproxy.Reset: 0.6, faultproxy.Status500: 0.6}},
		{RetryAfter: -time.Second},
	} {
		if _, err := faultproxy.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// TestProxyInFrontOfRegistry pushes and pulls a blob through a proxy in
// front of a real registry: without faults, then with a 503 and a reset on
// the first request of each kind, which retries cure.
func TestProxyInFrontOfRegistry(t *testing.T) {
	ctx := t.Context()
	reg := registrytest.New(t)
	in, err := faultproxy.New(faultproxy.Config{Seed: 5, Rates: map[faultproxy.Kind]float64{faultproxy.Status503: 0.4, faultproxy.Reset: 0.3, faultproxy.UploadReset: 0.3}, MaxPerKey: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.NewProxy(t, in, reg.URL, nil)
	s, err := remote.New(remote.WithRetry(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	in.SetEnabled(false)
	small := oci.DescriptorOf(types.OCILayer, body[:1000])
	d := oci.DescriptorOf(types.OCILayer, body)
	repo := p.Host + "/faults/blob"
	if err := s.Push(ctx, repo, small, bytes.NewReader(body[:small.Size])); err != nil {
		t.Fatalf("push through the proxy: %v", err)
	}
	in.SetEnabled(true)
	// The blob is larger than what the Store verifies in memory, so its
	// upload streams and a fault on it is not retried inside Push.
	for attempt := 1; ; attempt++ {
		err := s.Push(ctx, repo, d, bytes.NewReader(body))
		if err == nil {
			break
		}
		if !oci.Temporary(err) || attempt == 3 {
			t.Fatalf("push %d: %v (temporary: %v)\n%s", attempt, err, oci.Temporary(err), in.Log(0))
		}
	}
	got := fetch(t, ctx, s, repo, d)
	if !bytes.Equal(got, body) {
		t.Fatalf("pulled %d bytes through the proxy, want the %d pushed", len(got), len(body))
	}
	st := in.Stats()
	if st.Total() == 0 || st.Retried != st.Total() {
		t.Errorf("stats %s: expected faults, each retried", st)
	}
	t.Logf("%s\n%s", st, in.Log(0))
}

// fetch reads d, starting again while the read fails in a way a retry may cure.
func fetch(t *testing.T, ctx context.Context, s *remote.Store, repo string, d v1.Descriptor) []byte {
	t.Helper()
	for attempt := 1; ; attempt++ {
		rc, err := s.Fetch(ctx, repo, d)
		var b []byte
		if err == nil {
			b, err = io.ReadAll(rc)
			rc.Close()
		}
		if err == nil {
			return b
		}
		if !oci.Temporary(err) || attempt == 3 {
			t.Fatalf("fetch %d: %v", attempt, err)
		}
	}
}

func TestBodyMatch(t *testing.T) {
	in, _, url := serve(t, faultproxy.Config{
		Rates:     map[faultproxy.Kind]float64{faultproxy.Truncate: 0.5, faultproxy.Status503: 0.5},
		BodyMatch: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/") },
	})
	for i := range 40 {
		_, _, _ = get(t, fmt.Sprintf("%s/v2/a/manifests/sha256:%d", url, i))
		_, _, _ = get(t, fmt.Sprintf("%s/v2/a/blobs/sha256:%d", url, i))
	}
	for _, f := range in.Faults() {
		if f.Kind == faultproxy.Truncate && !strings.Contains(f.Path, "/blobs/") {
			t.Errorf("body fault outside BodyMatch: %s", f)
		}
	}
	if st := in.Stats(); st.Faults[faultproxy.Truncate] == 0 || st.Faults[faultproxy.Status503] < 20 {
		t.Errorf("stats %s", st)
	}
}
