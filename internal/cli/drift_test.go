package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// registryWrites counts the requests that change a registry.
func registryWrites(reg *registrytest.Registry) int {
	rs := reg.Requests()
	return rs.Count("PUT", "") + rs.Count("POST", "") + rs.Count("PATCH", "") + rs.Count("DELETE", "")
}

// TestDriftGateCLI: a target tag rewritten out of band stops the transfer
// with exit code 3, the table and nothing written; --check exits 3 and
// writes nothing; --skip-existing leaves the tag; --overwrite moves it and
// keeps the backup tag; --check then exits 0.
func TestDriftGateCLI(t *testing.T) {
	p635, _ := podinfoSample(t)
	_, repo := seedRelease(t, testimage.Set{p635}, testRelease{name: "example.com/podinfo", version: "6.3.5", images: []testimage.Named{p635}, text: "notes"})
	src := repo + "//example.com/podinfo:6.3.5"
	dstReg := registrytest.New(t)
	dst := "http://" + dstReg.Host + "/air"
	mustRun(t, "transfer", src, dst)

	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	tag := dstReg.Host + "/air/stefanprodan/podinfo:6.3.5"
	ref, _ := oci.ParseRef(tag)
	resolve := func(r oci.Ref) string {
		t.Helper()
		d, err := s.Resolve(t.Context(), r)
		if err != nil {
			t.Fatalf("resolving %s: %v", r, err)
		}
		return d.Digest.String()
	}
	planned := resolve(ref)
	other := seed(t, dstReg, "air/stefanprodan/podinfo", "6.3.5").Desc.Digest.String()

	dstReg.ResetRequests()
	code, _, stderr := run(t, "transfer", src, dst)
	if code != 3 {
		t.Fatalf("drift: exit %d, want 3: %s", code, stderr)
	}
	for _, want := range []string{"TAG", "TARGET DIGEST", "SOURCE DIGEST", tag, other, planned, "--overwrite"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not show %q:\n%s", want, stderr)
		}
	}
	if n := registryWrites(dstReg); n != 0 || resolve(ref) != other {
		t.Errorf("the stopped transfer wrote %d times", n)
	}

	// A reviewed plan replayed with --plan meets the same gate.
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(planFile, []byte(mustRun(t, "transfer", src, dst, "--dry-run", "-o", "json")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "transfer", "--plan", planFile); code != 3 || registryWrites(dstReg) != 0 {
		t.Errorf("--plan over drift: exit %d, %d writes: %s", code, registryWrites(dstReg), stderr)
	}
	if code, stdout, stderr := run(t, "transfer", "--plan", planFile, "--check"); code != 3 || !strings.Contains(stdout, "1 drifted") || registryWrites(dstReg) != 0 {
		t.Errorf("--plan --check: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr := run(t, "transfer", src, dst, "--check")
	if code != 3 || !strings.Contains(stdout, tag) || !strings.Contains(stdout, "1 drifted") || registryWrites(dstReg) != 0 {
		t.Errorf("--check: exit %d, %d writes\n%s%s", code, registryWrites(dstReg), stdout, stderr)
	}
	if code, _, stderr := run(t, "transfer", src, dst, "--skip-existing", "--overwrite"); code != 2 {
		t.Errorf("--skip-existing --overwrite: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "transfer", src, dst, "--backup-tag-suffix", "-old"); code != 2 {
		t.Errorf("--backup-tag-suffix alone: exit %d: %s", code, stderr)
	}

	report := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr = run(t, "transfer", src, dst, "--skip-existing", "--report", report)
	if code != 0 || resolve(ref) != other || !strings.Contains(stderr, "left as it is") {
		t.Fatalf("--skip-existing: exit %d, tag %s: %s", code, resolve(ref), stderr)
	}
	var rep struct {
		Drift []struct{ Repo, Tag, Target, Source, Action string }
	}
	if err := json.Unmarshal(readFile(t, report), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Drift) != 1 || rep.Drift[0].Action != "skip" || rep.Drift[0].Target != other || rep.Drift[0].Source != planned {
		t.Errorf("report drift: %+v", rep.Drift)
	}

	code, _, stderr = run(t, "transfer", src, dst, "--overwrite", "--backup-tag-suffix", "-old")
	backup, _ := oci.ParseRef(tag + "-old")
	if code != 0 || resolve(ref) != planned || resolve(backup) != other {
		t.Fatalf("--overwrite: exit %d: %s", code, stderr)
	}
	dstReg.ResetRequests()
	if code, stdout, stderr := run(t, "transfer", src, dst, "--check", "-o", "json"); code != 0 || registryWrites(dstReg) != 0 || !strings.Contains(stdout, `"drifted": []`) {
		t.Errorf("--check in sync: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestDriftGateBundleImport: bundle import has the same gate.
func TestDriftGateBundleImport(t *testing.T) {
	p635, _ := podinfoSample(t)
	_, repo := seedRelease(t, testimage.Set{p635}, testRelease{name: "example.com/podinfo", version: "6.3.5", images: []testimage.Named{p635}, text: "notes"})
	file := filepath.Join(t.TempDir(), "b.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/podinfo:6.3.5", "-o", file)
	dstReg := registrytest.New(t)
	dst := "http://" + dstReg.Host + "/air"
	mustRun(t, "bundle", "import", file, dst)
	seed(t, dstReg, "air/stefanprodan/podinfo", "6.3.5")
	dstReg.ResetRequests()
	if code, _, stderr := run(t, "bundle", "import", file, dst); code != 3 || registryWrites(dstReg) != 0 || !strings.Contains(stderr, "stefanprodan/podinfo:6.3.5") {
		t.Errorf("import over drift: exit %d, %d writes: %s", code, registryWrites(dstReg), stderr)
	}
	if code, _, stderr := run(t, "bundle", "import", file, dst, "--check"); code != 3 || registryWrites(dstReg) != 0 {
		t.Errorf("import --check: exit %d: %s", code, stderr)
	}
	mustRun(t, "bundle", "import", file, dst, "--overwrite")
	mustRun(t, "bundle", "import", file, dst, "--check")
}
