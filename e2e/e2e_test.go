package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci/remote"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// ferryBinary builds ferry, and ferry-serve beside it, once for the package.
func ferryBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ferry-e2e-*")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "ferry")
		// ferry serve runs ferry-serve from beside ferry.
		for _, prog := range []string{"ferry", "ferry-serve"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, prog), "../cmd/"+prog).CombinedOutput()
			if err != nil {
				buildErr = &buildError{err, out}
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// world is two registries with the sample release published in the public one.
type world struct {
	t               *testing.T
	ferry           string
	public, private *registrytest.Registry
	work            string
	sample          string
}

const release = "example.com/podinfo:6.3.6"

// reproducible is the environment entry that fixes the creationTime of the
// versions ferry creates here: the world publishes the sample release, and
// the README and docs publish it again under other paths and carry both
// into one target, which holds them as the same version only when their
// descriptors are the same to the byte (with the clock, only when both
// creates fell into the same second).
const reproducible = "SOURCE_DATE_EPOCH=1767225600"

func newWorld(t *testing.T) *world {
	w := &world{t: t, ferry: ferryBinary(t), public: registrytest.New(t), private: registrytest.New(t), work: t.TempDir()}
	sample, err := filepath.Abs("../testdata/podinfo")
	if err != nil {
		t.Fatal(err)
	}
	w.sample = sample
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testimage.Sample().Push(t.Context(), s, w.public.Host); err != nil {
		t.Fatal(err)
	}
	w.run("component", "create", "-f", filepath.Join(sample, "component-constructor.yaml"),
		"--to", "http://"+w.public.Host+"/releases", "--var", "REGISTRY="+w.public.Host)
	return w
}

// run runs ferry and fails the test unless it exits 0; it returns stdout.
func (w *world) run(args ...string) string {
	w.t.Helper()
	out, errOut, code := w.exec(args...)
	if code != 0 {
		w.t.Fatalf("ferry %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (w *world) exec(args ...string) (string, string, int) {
	w.t.Helper()
	cmd := exec.CommandContext(w.t.Context(), w.ferry, append(args, "--no-progress")...)
	cmd.Dir = w.work
	cmd.Env = append(os.Environ(), reproducible)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

var imageLine = regexp.MustCompile(`(?m)^\s*(?:-\s*)?image:\s*(\S+)`)

// checkLocalized fails unless every image field of the pulled files names
// a copy in the private registry by digest.
func (w *world) checkLocalized(dir, base string) {
	w.t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	n := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range imageLine.FindAllStringSubmatch(string(b), -1) {
			n++
			if !strings.HasPrefix(m[1], base+"/") || !strings.Contains(m[1], "@sha256:") {
				w.t.Errorf("%s: image %s does not name a copy in %s by digest", filepath.Base(f), m[1], base)
			}
		}
	}
	if n != 3 {
		w.t.Errorf("found %d image fields in the localized manifests, want 3", n)
	}
}

// checkImages fails unless the private registry holds every image the
// transferred component names.
func (w *world) checkImages(ref string) {
	w.t.Helper()
	var res []struct {
		Name   string
		Access struct {
			Type           string
			ImageReference string `json:"imageReference"`
		}
	}
	if err := json.Unmarshal([]byte(w.run("component", "resources", ref, "-o", "json")), &res); err != nil {
		w.t.Fatal(err)
	}
	images := 0
	for _, r := range res {
		if r.Access.Type != "ociArtifact" {
			continue
		}
		images++
		ir := strings.TrimPrefix(r.Access.ImageReference, "http://")
		if !strings.HasPrefix(ir, w.private.Host+"/") {
			w.t.Errorf("resource %s names %s, outside the private registry", r.Name, ir)
			continue
		}
		out := w.run("artifact", "copy", ir, w.private.Host+"/probe/"+r.Name+":check", "--dry-run", "-o", "json")
		if !strings.Contains(out, "sha256:") {
			w.t.Errorf("resource %s: %s cannot be read: %s", r.Name, ir, out)
		}
	}
	if images != 2 {
		w.t.Errorf("the component names %d images, want 2", images)
	}
}

// TestOfflineBundleStory is make demo's story: bundle create → verify →
// import → localize --push → artifact pull.
func TestOfflineBundleStory(t *testing.T) {
	w := newWorld(t)
	bundle := filepath.Join(w.work, "podinfo.tar")
	w.run("bundle", "create", "http://"+w.public.Host+"/releases//"+release, "-o", bundle, "--split", "20KiB")
	w.run("bundle", "verify", bundle+".000")
	// A damaged copy of the bundle is refused before anything is imported.
	damaged := filepath.Join(w.work, "damaged.tar")
	joined := joinVolumes(t, bundle)
	b := append([]byte(nil), joined...)
	b[largestBlob(t, joined)] ^= 0x40
	os.WriteFile(damaged, b, 0o644)
	if _, errOut, code := w.exec("bundle", "verify", damaged); code != 4 || !strings.Contains(errOut, "damaged.tar") {
		t.Errorf("verify of a damaged bundle: exit %d, %s", code, errOut)
	}
	if _, _, code := w.exec("bundle", "import", damaged, "http://"+w.private.Host+"/air"); code == 0 {
		t.Error("import of a damaged bundle succeeded")
	}
	if tags := w.private.Requests().Filter("PUT", "/v2/air/component-descriptors/"); len(tags) != 0 {
		t.Errorf("a damaged import wrote component descriptors: %v", tags)
	}

	w.run("bundle", "import", bundle+".000", "http://"+w.private.Host+"/air")
	ref := "http://" + w.private.Host + "/air//" + release
	w.checkImages(ref)
	w.run("localize", ref, "--resource", "manifests", "--pin-digest", "--push", "oci://"+w.private.Host+"/air/deploy/podinfo:6.3.6")
	out := filepath.Join(w.work, "deploy")
	w.run("artifact", "pull", "oci://"+w.private.Host+"/air/deploy/podinfo:6.3.6", "-O", out)
	w.checkLocalized(out, w.private.Host+"/air")
}

func joinVolumes(t *testing.T, bundle string) []byte {
	t.Helper()
	vols, _ := filepath.Glob(bundle + ".[0-9]*")
	if len(vols) < 2 {
		t.Fatalf("expected several volumes, got %v", vols)
	}
	var all []byte
	for _, v := range vols {
		b, err := os.ReadFile(v)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestBastionTransferAndPromotion is the direct path: a transfer between
// the registries, the CI promotion's JSON, and a re-run that copies nothing.
func TestBastionTransferAndPromotion(t *testing.T) {
	w := newWorld(t)
	src := "http://" + w.public.Host + "/releases//" + release
	dst := "http://" + w.private.Host + "/prod"
	var rep struct {
		ComponentsWritten, ComponentsSkipped int
		BytesCopied                          int64
		Requests                             int
		Artifacts                            []struct{ Target, Digest string }
	}
	if err := json.Unmarshal([]byte(w.run("transfer", src, dst, "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ComponentsWritten != 1 || rep.BytesCopied == 0 || len(rep.Artifacts) < 2 {
		t.Fatalf("promotion report: %+v", rep)
	}
	ref := dst + "//" + release
	w.checkImages(ref)
	// The pipeline runs again (a retried job): nothing is sent.
	if err := json.Unmarshal([]byte(w.run("transfer", src, dst, "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ComponentsSkipped != 1 || rep.BytesCopied != 0 {
		t.Fatalf("re-run report: %+v", rep)
	}
	out := filepath.Join(w.work, "out")
	w.run("localize", ref, "--resource", "manifests", "--pin-digest", "-O", out)
	w.checkLocalized(out, w.private.Host+"/prod")
}

// TestLocalizeFailsOnPublicImages: a localized artifact that still names a
// public image is what this suite exists to catch; without the rules the
// coverage check must refuse the manifests.
func TestLocalizeFailsOnPublicImages(t *testing.T) {
	w := newWorld(t)
	w.run("transfer", "http://"+w.public.Host+"/releases//"+release, "http://"+w.private.Host+"/air")
	empty := filepath.Join(w.work, "rules.yaml")
	os.WriteFile(empty, []byte("apiVersion: config.ocm.software/v1alpha1\nkind: ConfigData\nlocalization: []\n"), 0o644)
	_, errOut, code := w.exec("localize", "http://"+w.private.Host+"/air//"+release, "--resource", "manifests", "--rules", empty, "-O", filepath.Join(w.work, "x"))
	if code != 1 || !strings.Contains(errOut, "ghcr.io/stefanprodan/podinfo:6.3.6") || !strings.Contains(errOut, "busybox:1.36") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// largestBlob returns an offset in the middle of the largest blob of a
// bundle's tar.
func largestBlob(t *testing.T, tarBytes []byte) int64 {
	t.Helper()
	a, err := ctf.OpenReader(bytes.NewReader(tarBytes), int64(len(tarBytes)), "bundle.tar", ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	hs, err := a.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	var at, largest int64
	for _, h := range hs {
		if off, n, ok := a.BlobOffset(h); ok && n > largest {
			at, largest = off+n/2, n
		}
	}
	return at
}
