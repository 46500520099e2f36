package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci/remote"
)

// allocEnv makes the test binary touch 40 MiB of memory and exit (with
// "hold", 300 ms later), as a command whose peak RSS is known.
const allocEnv = "BENCH_TEST_ALLOC"

func TestMain(m *testing.M) {
	if os.Getenv(allocEnv) != "" {
		b := make([]byte, 40<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		if os.Getenv(allocEnv) == "hold" { // long enough to be sampled
			time.Sleep(300 * time.Millisecond)
		}
		os.Exit(int(b[len(b)-4096]) - 1)
	}
	os.Exit(m.Run())
}

// writeRoot lays blobs out as a `ferry serve --root` registry stores them
// and returns the root and the blobs.
func writeRoot(t *testing.T, sizes ...int) (string, []blobFile) {
	t.Helper()
	root := t.TempDir()
	rng := rand.NewChaCha8([32]byte{7})
	var out []blobFile
	for _, n := range sizes {
		b := make([]byte, n)
		rng.Read(b)
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		dir := filepath.Join(root, "docker", "registry", "v2", "blobs", "sha256", h[:2], h)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "data")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, blobFile{Digest: "sha256:" + h, Path: p, Size: int64(n)})
	}
	slices.SortFunc(out, func(a, b blobFile) int { return strings.Compare(a.Digest, b.Digest) })
	return root, out
}

func TestRegistryBlobs(t *testing.T) {
	root, want := writeRoot(t, 10, 2000, 0)
	// Link the first blob into bench/app as a layer and the second into
	// bench/multi/x as a manifest; the third is in no repository.
	for i, l := range []string{"bench/app/_layers/%s/%s/link", "bench/multi/x/_manifests/revisions/%s/%s/link"} {
		alg, hx, _ := strings.Cut(want[i].Digest, ":")
		p := filepath.Join(root, "docker", "registry", "v2", "repositories", fmt.Sprintf(l, alg, hx))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(want[i].Digest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want[0].Repo, want[1].Repo, want[1].Manifest = "bench/app", "bench/multi/x", true
	got, err := registryBlobs(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("registryBlobs = %v, want %v", got, want)
	}
	if n, err := blobBytes(root); err != nil || n != 2010 {
		t.Fatalf("blobBytes = %d, %v; want 2010", n, err)
	}
	if got, err := registryBlobs(t.TempDir()); err != nil || len(got) != 0 {
		t.Fatalf("empty root: %v, %v", got, err)
	}
}

// TestUploadThroughProxy uploads blobs with the floor's client through the
// counting proxy into a real registry: every blob lands, and the proxy
// counts exactly the blob bytes.
func TestUploadThroughProxy(t *testing.T) {
	reg := registrytest.New(t)
	p, err := startProxy(reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	root, blobs := writeRoot(t, 1<<20, 3<<20, 100, 1)
	var total int64
	for _, b := range blobs {
		total += b.Size
	}
	for _, jobs := range []int{1, 3} {
		repo := "floor/jobs" + strconv.Itoa(jobs)
		if code := runUpload(context.Background(), []string{"-registry", p.addr, "-repo", repo, "-jobs", strconv.Itoa(jobs), root}, os.Stderr); code != 0 {
			t.Fatalf("jobs %d: exit %d", jobs, code)
		}
		n, reqs := p.reset()
		if n != total || reqs != 2*int64(len(blobs)) {
			t.Errorf("jobs %d: proxy counted %d bytes in %d requests, want %d in %d", jobs, n, reqs, total, 2*len(blobs))
		}
		store, err := remote.New()
		if err != nil {
			t.Fatal(err)
		}
		// The download floor reads them back.
		dir := t.TempDir()
		var linked []blobFile
		for _, b := range blobs {
			b.Repo = repo
			linked = append(linked, b)
		}
		if err := downloadBlobs(context.Background(), http.DefaultClient, reg.Host, dir, linked, jobs); err != nil {
			t.Fatal(err)
		}
		for _, b := range blobs {
			_, hx, _ := strings.Cut(b.Digest, ":")
			got, err := os.ReadFile(filepath.Join(dir, hx))
			want, _ := os.ReadFile(b.Path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("jobs %d: downloaded %s differs: %v", jobs, b.Digest, err)
			}
		}
		for _, b := range blobs {
			h, err := v1.NewHash(b.Digest)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := store.Exists(context.Background(), reg.Host+"/"+repo, v1.Descriptor{MediaType: types.OCILayer, Digest: h, Size: b.Size})
			if err != nil || !ok {
				t.Errorf("jobs %d: %s not in the registry: %v", jobs, b.Digest, err)
			}
		}
		// The relay floor streams them from there into a second registry,
		// through the proxy, each once.
		dst := registrytest.New(t)
		dp, err := startProxy(dst.Host)
		if err != nil {
			t.Fatal(err)
		}
		if err := relayBlobs(context.Background(), http.DefaultClient, reg.Host, dp.addr, "floor/relay", linked, jobs); err != nil {
			t.Fatal(err)
		}
		if n, reqs := dp.reset(); n != total || reqs != 2*int64(len(blobs)) {
			t.Errorf("jobs %d: relay sent %d bytes in %d requests, want %d in %d", jobs, n, reqs, total, 2*len(blobs))
		}
		dp.close()
		for _, b := range blobs {
			h, _ := v1.NewHash(b.Digest)
			ok, err := store.Exists(context.Background(), dst.Host+"/floor/relay", v1.Descriptor{MediaType: types.OCILayer, Digest: h, Size: b.Size})
			if err != nil || !ok {
				t.Errorf("jobs %d: relayed %s not in the target: %v", jobs, b.Digest, err)
			}
		}
	}
}

func TestUploadErrors(t *testing.T) {
	reg := registrytest.New(t)
	root, _ := writeRoot(t, 10)
	for _, args := range [][]string{
		{root},                               // no -registry
		{"-registry", reg.Host},              // no root
		{"-registry", reg.Host + "/x", root}, // a path, not a host
	} {
		if code := runUpload(context.Background(), args, &bytes.Buffer{}); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code := runUpload(context.Background(), []string{"-registry", reg.Host, t.TempDir()}, &bytes.Buffer{}); code != 1 {
		t.Errorf("empty root: exit %d, want 1", code)
	}
	// No registry listens there.
	closed, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if code := runUpload(context.Background(), []string{"-registry", closed, root}, &bytes.Buffer{}); code != 1 {
		t.Errorf("no registry: exit %d, want 1", code)
	}
}

func TestMeasure(t *testing.T) {
	if _, err := os.Stat(timeCmd); err != nil {
		t.Skipf("%s is not installed", timeCmd)
	}
	var log bytes.Buffer
	// The test binary, run again, touches 40 MiB (see TestMain): the peak
	// RSS must show it.
	u, err := measure(context.Background(), append(os.Environ(), allocEnv+"=1"), &log, []step{
		cmdStep("true"),
		cmdStep(os.Args[0], "-test.run=^$"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Seconds <= 0 || u.PeakKiB < 32<<10 {
		t.Errorf("usage %+v: want a time and a peak RSS of at least 32 MiB", u)
	}
	if !strings.Contains(log.String(), "$ true\n") {
		t.Errorf("log %q does not list the commands", log.String())
	}
	_, err = measure(context.Background(), nil, &log, []step{cmdStep("sh", "-c", "echo broken pipe >&2; exit 3")})
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("failing step: %v, want an exit error naming its stderr", err)
	}
}

func TestParseMaxRSS(t *testing.T) {
	out := "\tCommand being timed: \"true\"\n\tMaximum resident set size (kbytes): 1234\n\tExit status: 0\n"
	if n, ok := parseMaxRSS([]byte(out)); !ok || n != 1234 {
		t.Errorf("parseMaxRSS = %d, %v", n, ok)
	}
	if _, ok := parseMaxRSS([]byte("Command exited with non-zero status 1\n")); ok {
		t.Error("parseMaxRSS found a number in output without one")
	}
}

func TestUpdateDoc(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.md")
	if err := updateDoc(p, "first\n"); err != nil {
		t.Fatal(err)
	}
	head, tail := "# Benchmarks\n\nby hand, before\n\n", "\nby hand, after\n"
	b, _ := os.ReadFile(p)
	s := strings.Replace(string(b), "# Benchmarks\n\n", head, 1) + tail
	os.WriteFile(p, []byte(s), 0o644)
	if err := updateDoc(p, "second\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	want := head + docBegin + "\nsecond\n" + docEnd + "\n" + tail
	if string(b) != want {
		t.Errorf("doc is\n%s\nwant\n%s", b, want)
	}
	os.WriteFile(p, []byte("no markers\n"), 0o644)
	if err := updateDoc(p, "x"); err == nil {
		t.Error("a doc without markers was accepted")
	}
}

func TestGoals(t *testing.T) {
	res := func(c, tool string, secs float64, peak float64, recv int64, names string) *Result {
		return &Result{Case: c, Tool: tool, Samples: []Sample{{Seconds: secs}}, Median: secs, PeakMiB: peak, Received: recv, Names: names}
	}
	rep := &Report{Jobs: 8, Corpus: Corpus{Artifacts: 13, UniqueBytes: 1000 << 20}, Results: []*Result{
		res(caseCopy, toolFerry, 2.4, 30, 1000<<20, "13/13"),
		res(caseCopy, toolCrane, 5, 15, 2100<<20, "13/13"),
		res(caseCopy, toolSkopeo, 4, 20, 1000<<20, "13/13"),
		res(caseCopy, floorUpload1, 1, 10, 1000<<20, ""), // floors are no peers
		res(caseCopy, "floor: upload (8 at a time)", 1.6, 10, 1000<<20, ""),
		res(caseCopy, "floor: relay (8 at a time)", 2, 10, 1000<<20, ""),
		res(caseRerun, toolFerry, 0.1, 30, 0, "13/13"),
		res(caseRerun, toolSkopeo, 0.07, 20, 0, "13/13"),
		res(caseExport, toolFerry, 1, 60, 0, ""),
		res(caseExport, toolCrane, 2, 15, 0, ""),
		res(caseExport, toolRegctl, 1.5, 15, 0, ""),
		res(caseExport, "floor: download (8 at a time)", 0.7, 10, 0, ""),
		res(caseImport, toolFerry, 2, 30, 2000<<20, "13/13"),
		res(caseImport, toolCrane, 3, 15, 1000<<20, "0/13"),
	}}
	got := map[string]bool{}
	for _, g := range goals(rep) {
		got[g.Goal] = g.Met
	}
	want := map[string]bool{
		"(a) copy: ferry ≤ 0.6 × the best peer":                      true,  // 2.4 ≤ 0.6 × 4
		"(a) copy: ferry ≤ 1.15 × the relay floor":                   false, // 2.4 > 1.15 × 2
		"(a) the target receives each unique blob once":              true,  // 1000 MiB received
		"(b) export: ferry bundle create ≤ 0.6 × the best peer":      false, // 1 > 0.6 × 1.5 (regctl, not crane)
		"(b) export: ferry bundle create ≤ 1.3 × the download floor": false, // 1 > 1.3 × 0.7
		"(c) import: ferry bundle import ≤ 1.15 × the upload floor":  false, // 2 > 1.15 × 1.6
		"(c) import restores every name, each blob uploaded once":    false, // 2000 MiB received: uploaded twice
		"(d) re-run: ferry ≤ 0.6 × skopeo sync":                      false, // 0.1 > 0.6 × 0.07
		"memory: ferry ≤ 50 MiB on the corpus":                       false, // 60 MiB
	}
	if len(got) != len(want) {
		t.Errorf("goals = %v, want %d of them", got, len(want))
	}
	for k, w := range want {
		if m, ok := got[k]; !ok || m != w {
			t.Errorf("goal %q met = %v (listed %v), want %v", k, m, ok, w)
		}
	}
	if p := rep.bestPeer(caseCopy); p == nil || p.Tool != toolSkopeo {
		t.Errorf("best peer of copy = %v, want skopeo", p)
	}
}

func TestRotateAndMedian(t *testing.T) {
	s := []string{"a", "b", "c"}
	if got := rotate(s, 4); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Errorf("rotate = %v", got)
	}
	if !slices.Equal(s, []string{"a", "b", "c"}) {
		t.Errorf("rotate changed its input: %v", s)
	}
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
}
