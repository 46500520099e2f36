package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// killSeeds is how many times each command is killed at a random moment.
const killSeeds = 10

// bigWorld is a world whose release also names a corpus of images large
// enough (about 24 MiB) that a kill lands in the middle of a run.
func bigWorld(t *testing.T) (*world, string) {
	w := newWorld(t)
	s, _ := remote.New()
	corpus := testimage.Corpus(7, testimage.Size(24<<20))
	if _, err := corpus.Push(t.Context(), s, w.public.Host); err != nil {
		t.Fatal(err)
	}
	var res strings.Builder
	for _, n := range corpus {
		fmt.Fprintf(&res, "  - name: %s\n    type: ociImage\n    version: \"1.0\"\n    access:\n      type: ociArtifact\n      imageReference: %s/%s:%s\n",
			strings.ReplaceAll(strings.TrimPrefix(n.Name, "bench/"), "/", "-"), w.public.Host, n.Name, n.Tag)
	}
	constructor := filepath.Join(w.work, "big.yaml")
	os.WriteFile(constructor, []byte("components:\n- name: example.com/big\n  version: 1.0.0\n  provider:\n    name: example.com\n  resources:\n"+res.String()), 0o644)
	w.run("component", "create", "-f", constructor, "--to", "http://"+w.public.Host+"/releases", "--creation-time", "2026-01-01T00:00:00Z")
	return w, "http://" + w.public.Host + "/releases//example.com/big:1.0.0"
}

// killAfter starts ferry and kills it with SIGKILL after d (or lets it end).
func (w *world) killAfter(d time.Duration, args ...string) (killed bool) {
	w.t.Helper()
	cmd := exec.Command(w.ferry, append(args, "--no-progress")...)
	cmd.Dir = w.work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			w.t.Fatalf("ferry %s failed before it was killed: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return false
	case <-time.After(d):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// closure checks that every tag of every repository of a registry points at
// complete content, and returns repository path (without host) and tag →
// digest for every tag.
func closure(t *testing.T, reg *registrytest.Registry) map[string]v1.Hash {
	t.Helper()
	ctx := t.Context()
	s, _ := remote.New()
	repos, err := s.Catalog(ctx, reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]v1.Hash{}
	for _, repo := range repos {
		tags, err := s.Tags(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			ref, _ := oci.ParseRef(repo + ":" + tag)
			d, err := s.Resolve(ctx, ref)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			if err := complete(ctx, s, repo, d); err != nil {
				t.Fatalf("tag %s points at incomplete content: %v", ref, err)
			}
			out[strings.TrimPrefix(repo, reg.Host+"/")+":"+tag] = d.Digest
		}
	}
	return out
}

func complete(ctx context.Context, s oci.Store, repo string, d v1.Descriptor) error {
	b, err := oci.FetchBytes(ctx, s, repo, d, 0)
	if err != nil {
		return err
	}
	kids, err := oci.Children(d.MediaType, b)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if oci.IsManifest(k.MediaType) {
			if err := complete(ctx, s, repo, k); err != nil {
				return err
			}
			continue
		}
		if ok, err := s.Exists(ctx, repo, k); err != nil || !ok {
			return fmt.Errorf("blob %s of %s missing", k.Digest, d.Digest)
		}
	}
	return nil
}

// withoutComponents drops component descriptor tags, whose digests name the
// registry they were written to.
func withoutComponents(m map[string]v1.Hash) map[string]v1.Hash {
	out := map[string]v1.Hash{}
	for k, v := range m {
		if !strings.Contains(k, "component-descriptors/") {
			out[k] = v
		}
	}
	return out
}

// killPoints returns killSeeds moments spread over the middle of a run
// that takes full, drawn with a fixed seed so a failure replays.
func killPoints(full time.Duration) []time.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	var out []time.Duration
	for range killSeeds {
		out = append(out, full/20+time.Duration(r.Int64N(int64(full*17/20))))
	}
	return out
}

// TestKillTransfer kills `ferry transfer` at random moments, each time into
// a fresh target: after the kill every tag there points at complete
// content, and a re-run ends where an uninterrupted run ends.
func TestKillTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("kills are slow")
	}
	w, src := bigWorld(t)
	start := time.Now()
	w.run("transfer", src, "http://"+w.private.Host+"/air")
	full := time.Since(start)
	want := closure(t, w.private)
	kills := 0
	for _, d := range killPoints(full) {
		dst := registrytest.New(t)
		if w.killAfter(d, "transfer", src, "http://"+dst.Host+"/air") {
			kills++
		}
		closure(t, dst)
		w.run("transfer", src, "http://"+dst.Host+"/air")
		if got := closure(t, dst); len(got) != len(want) || fmt.Sprint(withoutComponents(got)) != fmt.Sprint(withoutComponents(want)) {
			t.Fatalf("killed after %v, then run again, the target holds\n%v\nan uninterrupted run\n%v", d, got, want)
		}
	}
	if kills < killSeeds/2 {
		t.Fatalf("only %d of %d runs were killed before they ended: the corpus is too small for this machine", kills, killSeeds)
	}
	t.Logf("RELIABILITY test=kill-transfer seeds=%d kills=%d survived=%d", killSeeds, kills, kills)
}

// TestKillBundleCreateAndImport kills `ferry bundle create` and `bundle
// import` at random moments: no bundle file looks complete before it is, a
// --resume run gives a bundle byte-identical to an uninterrupted one, and an
// import run again after a kill ends as an uninterrupted import does.
func TestKillBundleCreateAndImport(t *testing.T) {
	if testing.Short() {
		t.Skip("kills are slow")
	}
	w, src := bigWorld(t)
	want := filepath.Join(w.work, "want.tar")
	start := time.Now()
	w.run("bundle", "create", src, "-o", want)
	full := time.Since(start)
	wantBytes, _ := os.ReadFile(want)
	kills := 0
	for i, d := range killPoints(full) {
		got := filepath.Join(w.work, fmt.Sprintf("got-%d.tar", i))
		if w.killAfter(d, "bundle", "create", src, "-o", got) {
			kills++
			if b, err := os.ReadFile(got); err == nil {
				// Killed after the rename, before the exit: the file must be
				// the whole bundle, never a part that looks like one.
				if !bytes.Equal(b, wantBytes) {
					t.Fatalf("kill %d after %v: %s exists but is not the complete bundle", i, d, got)
				}
				continue
			}
			w.run("bundle", "create", src, "-o", got, "--resume")
			if left := leftovers(t, got); len(left) > 0 {
				t.Fatalf("kill %d after %v, then resumed: left behind %v", i, d, left)
			}
		}
		if gotBytes, _ := os.ReadFile(got); !bytes.Equal(gotBytes, wantBytes) {
			t.Fatalf("killed after %v and resumed, the bundle (%d bytes) differs from an uninterrupted one (%d bytes)", d, len(gotBytes), len(wantBytes))
		}
	}

	start = time.Now()
	w.run("bundle", "import", want, "http://"+w.private.Host+"/air")
	fullImport := time.Since(start)
	wantState := closure(t, w.private)
	importKills := 0
	for _, d := range killPoints(fullImport) {
		dst := registrytest.New(t)
		if w.killAfter(d, "bundle", "import", want, "http://"+dst.Host+"/air") {
			importKills++
		}
		closure(t, dst)
		w.run("bundle", "import", want, "http://"+dst.Host+"/air")
		if got := closure(t, dst); len(got) != len(wantState) || fmt.Sprint(withoutComponents(got)) != fmt.Sprint(withoutComponents(wantState)) {
			t.Fatalf("import killed after %v, then run again:\n%v\nuninterrupted:\n%v", d, got, wantState)
		}
	}
	if kills < killSeeds/2 || importKills < killSeeds/2 {
		t.Fatalf("only %d creates and %d imports of %d were killed before they ended", kills, importKills, killSeeds)
	}
	t.Logf("RELIABILITY test=kill-bundle-create seeds=%d kills=%d survived=%d", killSeeds, kills, kills)
	t.Logf("RELIABILITY test=kill-bundle-import seeds=%d kills=%d survived=%d", killSeeds, importKills, importKills)
}

// leftovers lists the files beside bundle other than the bundle and its
// sidecar: partial files, journals, locks.
func leftovers(t *testing.T, bundle string) []string {
	t.Helper()
	dir, base := filepath.Dir(bundle), filepath.Base(bundle)
	var out []string
	for _, pat := range []string{base + "*", "." + base + "*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, p := range m {
			if n := filepath.Base(p); n != base && n != base+".sha256" {
				out = append(out, n)
			}
		}
	}
	return out
}
