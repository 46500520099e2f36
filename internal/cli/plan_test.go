package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// writeKeyPair writes an ECDSA key pair as PEM files (PKCS #8, PKIX).
func writeKeyPair(t *testing.T) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "plan.key"), filepath.Join(dir, "plan.pub")
	os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
	return priv, pub
}

// writes lists the requests that changed something in reg.
func writes(reg *registrytest.Registry) []string {
	var out []string
	for _, r := range reg.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// TestPlanReviewedThenRun: a signed plan made by --dry-run runs exactly as
// made after the source's tag moved to other content; a plan changed after
// signing is refused; a plan whose source lost a planned blob stops before
// anything is written.
func TestPlanReviewedThenRun(t *testing.T) {
	p635, _ := podinfoSample(t)
	src, repo := seedRelease(t, testimage.Set{p635}, testRelease{name: "example.com/app", version: "1.0.0", images: []testimage.Named{p635}, text: "app"})
	dst := registrytest.New(t)
	key, pub := writeKeyPair(t)
	planFile := filepath.Join(t.TempDir(), "plan.json")
	stdout := mustRun(t, "transfer", repo+"//example.com/app:1.0.0", "http://"+dst.Host+"/air", "--dry-run", "-o", "json", "--sign-key", key)
	if err := os.WriteFile(planFile, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Source, Target string
		Artifacts      []struct{ Target, Digest string }
		Signature      *struct{ Key, Value string }
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil || plan.Signature == nil || len(plan.Artifacts) != 1 || plan.Source != repo {
		t.Fatalf("the plan: %+v (%v)\n%s", plan, err, stdout)
	}
	if w := writes(dst); len(w) > 0 {
		t.Fatalf("the dry run wrote %v", w)
	}

	// The source's tag moves to other content after the review.
	moved := seed(t, src, p635.Name, p635.Tag)
	if moved.Desc.Digest.String() == plan.Artifacts[0].Digest {
		t.Fatal("the moved tag names the planned digest")
	}

	// A plan changed after it was signed is refused, and writes nothing.
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	os.WriteFile(tampered, []byte(strings.ReplaceAll(stdout, dst.Host+"/air", dst.Host+"/evil")), 0o644)
	code, _, stderr := run(t, "transfer", "--plan", tampered, "--public-key", pub)
	if code != 1 || !strings.Contains(stderr, "does not verify") {
		t.Fatalf("a tampered plan: exit %d\n%s", code, stderr)
	}
	_, other := writeKeyPair(t)
	if code, _, stderr := run(t, "transfer", "--plan", planFile, "--public-key", other); code != 1 || !strings.Contains(stderr, "does not verify") {
		t.Fatalf("another key: exit %d\n%s", code, stderr)
	}
	if w := writes(dst); len(w) > 0 {
		t.Fatalf("refused plans wrote %v", w)
	}

	// The reviewed plan copies what was planned, not what the tag names now.
	mustRun(t, "transfer", "--plan", planFile, "--public-key", pub)
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := oci.ParseRef(plan.Artifacts[0].Target + ":" + p635.Tag)
	d, err := s.Resolve(t.Context(), ref)
	if err != nil || d.Digest.String() != plan.Artifacts[0].Digest {
		t.Fatalf("the target holds %s (%v), want the planned %s", d.Digest, err, plan.Artifacts[0].Digest)
	}
}

// TestPlanStaleSource: a plan from a CTF whose images are OCM artifact sets
// runs from the plan file alone (the sets are opened by digest); once the
// source lost a planned blob, the plan stops before it writes anything, and
// says so.
func TestPlanStaleSource(t *testing.T) {
	ctfDir := filepath.Join(t.TempDir(), "ctf")
	mustRun(t, "transfer", filepath.Join(sharedDir(t), "testdata", "ocm", "ctf-copied"), ctfDir)
	dst := registrytest.New(t)
	stdout := mustRun(t, "transfer", ctfDir+"//example.com/podinfo:6.3.5", "http://"+dst.Host+"/air", "--dry-run", "-o", "json")
	planFile := filepath.Join(t.TempDir(), "plan.json")
	os.WriteFile(planFile, []byte(stdout), 0o644)
	var plan struct {
		Blobs []struct{ Digest, Source string }
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil || len(plan.Blobs) == 0 {
		t.Fatalf("plan: %v\n%s", err, stdout)
	}
	mustRun(t, "transfer", "--plan", planFile)

	stale := registrytest.New(t)
	os.WriteFile(planFile, []byte(strings.ReplaceAll(stdout, dst.Host, stale.Host)), 0o644)
	var local string
	for _, b := range plan.Blobs {
		if strings.HasPrefix(b.Source, "component-descriptors/") {
			local = b.Digest
		}
	}
	if err := os.Remove(filepath.Join(ctfDir, "blobs", strings.Replace(local, ":", ".", 1))); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "transfer", "--plan", planFile)
	if code != 1 || !strings.Contains(stderr, "no longer holds") || !strings.Contains(stderr, local) {
		t.Fatalf("a stale plan: exit %d\n%s", code, stderr)
	}
	if w := writes(stale); len(w) > 0 {
		t.Fatalf("a stale plan wrote %v", w)
	}
}

// TestBundlePlan: bundle create --dry-run prints a plan and writes no
// file; bundle create --plan writes the bundle it names, byte for byte the
// bundle a direct create writes.
func TestBundlePlan(t *testing.T) {
	src := filepath.Join(sharedDir(t), "testdata", "ocm", "ctf-copied") + "//example.com/podinfo:6.3.6"
	dir := t.TempDir()
	direct, planned := filepath.Join(dir, "direct.tar"), filepath.Join(dir, "planned.tar")
	mustRun(t, "bundle", "create", src, "-o", direct)
	stdout := mustRun(t, "bundle", "create", src, "-o", planned, "--dry-run")
	if files, _ := filepath.Glob(planned + "*"); len(files) > 0 {
		t.Fatalf("the dry run wrote %v", files)
	}
	planFile := filepath.Join(dir, "plan.json")
	os.WriteFile(planFile, []byte(stdout), 0o644)
	mustRun(t, "bundle", "create", "--plan", planFile)
	if a, b := readFile(t, direct), readFile(t, planned); !bytes.Equal(a, b) {
		t.Fatalf("the bundle from the plan (%d bytes) differs from the direct one (%d bytes)", len(b), len(a))
	}
	mustRun(t, "bundle", "verify", planned)
}
