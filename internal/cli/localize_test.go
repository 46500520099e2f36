package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
)

// TestLocalizeAfterTransfer carries the OCM fixture release into a
// registry, localizes its deployment with the component's own ConfigData,
// pushes the result as a GitOps artifact twice (same digest), and pulls it
// back: the image names the private copy by digest.
func TestLocalizeAfterTransfer(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	reg := registrytest.New(t)
	if code, _, stderr := run(t, "transfer", "-r", filepath.Join(ocm, "ctf-copied"), reg.Host+"/air"); code != 0 {
		t.Fatal(stderr)
	}
	ref := reg.Host + "/air//example.com/podinfo:6.3.5"
	want := reg.Host + "/air/stefanprodan/podinfo@sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774"

	// Without --pin-digest the copy's tag is kept; with it, the digest.
	code, diff, stderr := run(t, "localize", ref, "--resource", "deployment", "--diff")
	if code != 0 || !strings.Contains(diff, "+        image: "+reg.Host+"/air/stefanprodan/podinfo:6.3.5\n") || !strings.Contains(diff, "-        image: 127.0.0.1:5055/stefanprodan/podinfo:6.3.5") {
		t.Fatalf("--diff: exit %d\n%s%s", code, diff, stderr)
	}
	code, diff, stderr = run(t, "localize", ref, "--resource", "deployment", "--diff", "--pin-digest")
	if code != 0 || !strings.Contains(diff, "+        image: "+want) {
		t.Fatalf("--diff --pin-digest: exit %d\n%s%s", code, diff, stderr)
	}
	var digests []string
	for range 2 {
		code, stdout, stderr := run(t, "localize", ref, "--resource", "deployment", "--pin-digest", "--push", "oci://"+reg.Host+"/air/deploy/podinfo:6.3.5", "-o", "json")
		if code != 0 {
			t.Fatal(stderr)
		}
		var out struct {
			Pushed   struct{ Reference, Digest string }
			Coverage struct{ Checked int }
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%q: %v", stdout, err)
		}
		if out.Coverage.Checked != 1 {
			t.Errorf("checked %d image fields, want 1", out.Coverage.Checked)
		}
		digests = append(digests, out.Pushed.Digest)
	}
	if digests[0] != digests[1] || digests[0] == "" {
		t.Fatalf("two pushes of the same result gave %v", digests)
	}
	dir := t.TempDir()
	if code, _, stderr := run(t, "artifact", "pull", "oci://"+reg.Host+"/air/deploy/podinfo:6.3.5", "-O", dir); code != 0 {
		t.Fatal(stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "deployment.yaml"))
	if err != nil || !strings.Contains(string(b), "image: "+want) {
		t.Fatalf("pulled deployment.yaml (%v):\n%s", err, b)
	}
}

// TestLocalizeRefusesUncoveredImages adds a workload the rules do not
// cover: the run fails and names it, unless --allow-unlocalized.
func TestLocalizeRefusesUncoveredImages(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	reg := registrytest.New(t)
	if code, _, stderr := run(t, "transfer", filepath.Join(ocm, "ctf-copied"), reg.Host+"/air"); code != 0 {
		t.Fatal(stderr)
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte("apiVersion: config.ocm.software/v1alpha1\nkind: ConfigData\nlocalization: []\n"), 0o644)
	ref := reg.Host + "/air//example.com/podinfo:6.3.5"
	code, _, stderr := run(t, "localize", ref, "--resource", "deployment", "--rules", rules, "--diff")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:5055/stefanprodan/podinfo:6.3.5") || !strings.Contains(stderr, "deployment.yaml") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "localize", ref, "--resource", "deployment", "--rules", rules, "--diff", "--allow-unlocalized"); code != 0 {
		t.Fatalf("--allow-unlocalized: exit %d: %s", code, stderr)
	}
	// --auto needs no rules: the copy is found by the path OCM named it by.
	code, diff, stderr := run(t, "localize", ref, "--resource", "deployment", "--auto", "--diff")
	if code != 0 || !strings.Contains(diff, "+        image: "+reg.Host+"/air/stefanprodan/podinfo:6.3.5") {
		t.Fatalf("--auto: exit %d\n%s%s", code, diff, stderr)
	}
}
