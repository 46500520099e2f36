package transfer_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci/storetest"
	"github.com/ferry-oci/ferry/transfer"
)

// blobHeads counts the HEAD requests for each blob path in reqs.
func blobHeads(reqs registrytest.Requests) map[string]int {
	n := map[string]int{}
	for _, r := range reqs.Filter(http.MethodHead, "/v2/") {
		if strings.Contains(r.Path, "/blobs/") {
			n[r.Path]++
		}
	}
	return n
}

// TestRunAsksOnceForEachBlob checks that a blob the run found missing is
// pushed without the store asking again: every blob path in every target
// repository gets exactly one HEAD, copied, mounted or not.
func TestRunAsksOnceForEachBlob(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	rep, err := transfer.Run(t.Context(), f.plan(t, s), s, s, transfer.Options{Jobs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlobsCopied == 0 {
		t.Fatal("the run copied no blob")
	}
	heads := blobHeads(f.dst.Requests())
	if len(heads) == 0 {
		t.Fatal("the run sent no HEAD for a blob")
	}
	for path, n := range heads {
		if n != 1 {
			t.Errorf("HEAD %s sent %d times, want once", path, n)
		}
	}
}

// TestRunRetryAsksAgain fails the first blob upload past the store's own
// retries: the run's second attempt uses the plain push, which asks again
// whether the blob arrived before uploading it.
func TestRunRetryAsksAgain(t *testing.T) {
	var failed atomic.Int32
	dst := registrytest.New(t, registrytest.WithHandlerWrapper(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && failed.Add(1) <= 2 {
				http.Error(w, `{"errors":[{"code":"UNAVAILABLE"}]}`, http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	src := registrytest.New(t)
	s := newStore(t) // two attempts per upload: both fail
	img := storetest.NewImage(1, 1<<10)
	img.Push(t.Context(), t, s, src.Host+"/app")
	pl := transfer.NewPlanner(s)
	if _, err := pl.Add(t.Context(), ref(t, src.Host+"/app@"+img.Desc.Digest.String()), dst.Host+"/app", nil, "app"); err != nil {
		t.Fatal(err)
	}
	opts := transfer.Options{Jobs: 1, Attempts: 2, Backoff: time.Millisecond}
	if _, err := transfer.Run(t.Context(), pl.Plan(), s, s, opts); err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{} // HEADs per blob -> blobs
	for _, n := range blobHeads(dst.Requests()) {
		counts[n]++
	}
	if want := map[int]int{1: len(img.Blobs) - 1, 2: 1}; len(counts) != 2 || counts[1] != want[1] || counts[2] != want[2] {
		t.Errorf("blobs by HEADs sent = %v, want %v (one blob retried)", counts, want)
	}
}

// TestRerunTrustsTheGate runs the fixture's plan twice, the second time
// after CheckTags as the drift gate runs it: the target is asked once
// about each tag (by the check) and about nothing else, since a tag found
// at the planned digest says the manifest, and all below it, is there.
func TestRerunTrustsTheGate(t *testing.T) {
	f := newFixture(t)
	s := newStore(t)
	if _, err := transfer.Run(t.Context(), f.plan(t, s), s, s, transfer.Options{Jobs: 4}); err != nil {
		t.Fatal(err)
	}
	p := f.plan(t, s)
	f.dst.ResetRequests()
	checks, err := transfer.CheckTags(t.Context(), p, s, 4)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := transfer.Run(t.Context(), p, s, s, transfer.Options{Jobs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlobsCopied+rep.ManifestsPushed+rep.TagsSet != 0 {
		t.Errorf("the re-run wrote: %+v", rep.Counts)
	}
	var other []string
	for _, r := range f.dst.Requests() {
		if r.Path != "/v2/" && !(r.Method == http.MethodHead && strings.Contains(r.Path, "/manifests/") && !strings.Contains(r.Path, "sha256:")) {
			other = append(other, r.Method+" "+r.Path)
		}
	}
	if heads := f.dst.Requests().Count(http.MethodHead, ""); heads != len(checks) || len(other) > 0 {
		t.Errorf("the re-run sent %d HEADs for %d tags, and %v; want one HEAD a tag and nothing else", heads, len(checks), other)
	}
}
