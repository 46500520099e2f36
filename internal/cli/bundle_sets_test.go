package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// TestBundleOCMArtifactSets: with --ocm-artifact-sets the images are OCM
// artifact sets, byte for byte those ocm wrote into ctf-copied (same
// localBlob digests, media types and reference names), the bundle
// verifies, and imports as real images with their source digests.
func TestBundleOCMArtifactSets(t *testing.T) {
	ctx := t.Context()
	copied := filepath.Join(sharedDir(t), "testdata", "ocm", "ctf-copied")
	src := registrytest.New(t)
	mustRun(t, "transfer", copied, "http://"+src.Host+"/ocm")
	file := filepath.Join(t.TempDir(), "sets.tar")
	mustRun(t, "bundle", "create", "--ocm-artifact-sets", "-r", "-o", file,
		"http://"+src.Host+"/ocm//example.com/app:1.0.0", "http://"+src.Host+"/ocm//example.com/podinfo:6.3.6")
	if _, err := os.Stat(file + ".partial.sets"); !os.IsNotExist(err) {
		t.Errorf("the artifact-set spool is left behind: %v", err)
	}

	ocmCTF, err := ctf.Open(copied, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ocmCTF.Close()
	b, err := ctf.Open(file, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, v := range []string{"6.3.5", "6.3.6"} {
		want := imageAccess(t, ocireg.New(ocmCTF, ""), v)
		got := imageAccess(t, ocireg.New(b, ""), v)
		if got != want {
			t.Errorf("podinfo %s image access %+v, ocm wrote %+v", v, got, want)
		}
	}
	mustRun(t, "bundle", "verify", file)

	dst := registrytest.New(t)
	mustRun(t, "bundle", "import", file, "http://"+dst.Host+"/air")
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{
		"6.3.5": "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774",
		"6.3.6": "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a",
	} {
		d, err := s.Resolve(ctx, oci.Ref{Registry: dst.Host, Repository: "air/stefanprodan/podinfo", Tag: tag})
		if err != nil || d.Digest.String() != want {
			t.Errorf("imported podinfo:%s is %v (%v), want %s", tag, d.Digest, err, want)
		}
	}

	// ferry transfer into a CTF does the same: what `ocm transfer
	// --copy-resources` writes.
	out := filepath.Join(t.TempDir(), "ctf")
	mustRun(t, "transfer", "--ocm-artifact-sets", "-r", "http://"+src.Host+"/ocm//example.com/app:1.0.0", out)
	outCTF, err := ctf.Open(out, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer outCTF.Close()
	if got, want := imageAccess(t, ocireg.New(outCTF, ""), "6.3.5"), imageAccess(t, ocireg.New(ocmCTF, ""), "6.3.5"); got != want {
		t.Errorf("transfer into a CTF: image access %+v, ocm wrote %+v", got, want)
	}
	if code, _, stderr := run(t, "transfer", "--ocm-artifact-sets", "http://"+src.Host+"/ocm//example.com/app:1.0.0", "http://"+dst.Host+"/x"); code != 2 {
		t.Errorf("--ocm-artifact-sets into a registry: exit %d, want 2\n%s", code, stderr)
	}

	// Platform filtering needs native images: a usage error.
	code, _, stderr := run(t, "bundle", "create", "--ocm-artifact-sets", "--platform", "linux/amd64", "-o", file+"2",
		"http://"+src.Host+"/ocm//example.com/podinfo:6.3.6")
	if code != 2 {
		t.Errorf("--ocm-artifact-sets with --platform: exit %d, want 2\n%s", code, stderr)
	}
}

// imageAccess returns the access of podinfo version's image resource.
func imageAccess(t *testing.T, repo *ocireg.Repository, version string) component.LocalBlobAccess {
	t.Helper()
	cv, err := repo.Get(t.Context(), "example.com/podinfo", version)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cv.Descriptor.Resources {
		if r.Name == "image" {
			lb, err := r.Access.LocalBlob()
			if err != nil {
				t.Fatalf("podinfo %s image access %s: %v", version, r.Access.Type, err)
			}
			return lb
		}
	}
	t.Fatalf("podinfo %s has no image resource", version)
	return component.LocalBlobAccess{}
}
