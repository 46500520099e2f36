package remote_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/faultproxy"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// TestTagPagesBomb: a registry that answers every tag list with a big page
// and a link to yet another page is stopped by the listing budget, with an
// error naming it, after a bounded number of pages.
func TestTagPagesBomb(t *testing.T) {
	lie := &faultproxy.TagPages{PageBytes: 1 << 20}
	reg := registrytest.New(t, registrytest.WithHandlerWrapper(lie.Wrap))
	s, err := remote.New(remote.WithListBudget(4 << 20))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Tags(t.Context(), reg.Host+"/bomb")
	if !errors.Is(err, oci.ErrTooLarge) {
		t.Fatalf("Tags = %v, want an error wrapping oci.ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), reg.Host) || remote.Host(err) != reg.Host {
		t.Errorf("the error does not name the registry %s: %v", reg.Host, err)
	}
	if n := lie.Requests(); n > 5 {
		t.Errorf("%d pages read with a 4 MiB budget and 1 MiB pages", n)
	}
}

// TestTagPagesLoop: a page that links to itself is an error naming the
// registry, not an endless listing.
func TestTagPagesLoop(t *testing.T) {
	lie := &faultproxy.TagPages{PageBytes: 100, Loop: true}
	reg := registrytest.New(t, registrytest.WithHandlerWrapper(lie.Wrap))
	s, err := remote.New(remote.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Tags(t.Context(), reg.Host+"/loop")
	if !errors.Is(err, remote.ErrListLoop) {
		t.Fatalf("Tags = %v, want an error wrapping ErrListLoop", err)
	}
	if remote.Host(err) != reg.Host {
		t.Errorf("the error does not name the registry %s: %v", reg.Host, err)
	}
	if n := lie.Requests(); n != 2 {
		t.Errorf("%d requests, want 2 (the first page and the one that links to itself)", n)
	}
}

// TestListBudgetCountsKeptNames: names are charged with what they cost in
// memory, so a page of one-letter tags cannot keep four times the budget.
func TestListBudgetCountsKeptNames(t *testing.T) {
	remote.SetPageSize(t, 2)
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	populate(t, s, reg.Host+"/small", 3)
	tight, err := remote.New(remote.WithListBudget(200))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tight.Tags(ctx, reg.Host+"/small"); err != nil {
		t.Fatalf("three tags within 200 bytes: %v", err)
	}
	tiny, _ := remote.New(remote.WithListBudget(60))
	if _, err := tiny.Tags(ctx, reg.Host+"/small"); !errors.Is(err, oci.ErrTooLarge) {
		t.Fatalf("three tags over 60 bytes: %v, want oci.ErrTooLarge", err)
	}
}

// populate pushes one image to repo and tags it t0 … t(n-1).
func populate(t *testing.T, s *remote.Store, repo string, n int) {
	t.Helper()
	img := storetest.NewImage(1, 10)
	img.Push(t.Context(), t, s, repo)
	for i := range n {
		if err := s.Tag(t.Context(), mustRef(t, fmt.Sprintf("%s:t%d", repo, i)), img.Desc); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTruncatedAnswerLogsNothingOutside: when retries run out on an answer
// cut short, the error comes back alone; net/http, handed an answer and an
// error together, would log a line of its own outside ferry's logger.
func TestTruncatedAnswerLogsNothingOutside(t *testing.T) {
	cut := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/tags/list") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte(`{"tags":["a"`))
		})
	}
	reg := registrytest.New(t, registrytest.WithHandlerWrapper(cut))
	var buf bytes.Buffer
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	s, err := remote.New(remote.WithRetry(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tags(t.Context(), reg.Host+"/cut"); err == nil {
		t.Fatal("a truncated tag list was accepted")
	}
	if strings.Contains(buf.String(), "RoundTripper") {
		t.Errorf("net/http logged: %s", buf.String())
	}
}
