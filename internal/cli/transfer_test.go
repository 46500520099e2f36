package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
)

// TestTransferDryRunReportAndRerun: --dry-run writes nothing and prints the
// plan as JSON; a run writes its --report with every artifact and the
// requests it made; a re-run copies nothing.
func TestTransferDryRunReportAndRerun(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	reg := registrytest.New(t)
	src := filepath.Join(ocm, "ctf-copied")
	code, stdout, stderr := run(t, "transfer", "-r", src, reg.Host+"/air", "--dry-run", "-o", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var plan struct {
		Components []struct{ Name, Version string }
		Artifacts  []struct{ Target string }
		Stats      struct{ Blobs int }
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil || len(plan.Components) != 3 || len(plan.Artifacts) != 4 || plan.Stats.Blobs == 0 {
		t.Fatalf("dry run printed %s (%v)", stdout, err)
	}
	for _, r := range reg.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			t.Fatalf("--dry-run sent %s %s", r.Method, r.Path)
		}
	}

	report := filepath.Join(t.TempDir(), "report.json")
	if code, _, stderr := run(t, "transfer", "-r", src, reg.Host+"/air", "--report", report); code != 0 {
		t.Fatal(stderr)
	}
	var rep struct {
		Components        []struct{ Name, Target, Digest string }
		Artifacts         []struct{ Source, Target, Digest string }
		BytesCopied       int64
		ComponentsWritten int
		Requests          int
		Duration          int64
	}
	b, err := os.ReadFile(report)
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("report %s: %v\n%s", report, err, b)
	}
	if len(rep.Components) != 3 || rep.ComponentsWritten != 3 || len(rep.Artifacts) == 0 || rep.BytesCopied == 0 || rep.Requests == 0 || rep.Duration == 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, a := range rep.Artifacts {
		if a.Source == "" || a.Target == "" || a.Digest == "" {
			t.Fatalf("artifact without source, target or digest: %+v", a)
		}
	}
	code, stdout, stderr = run(t, "transfer", "-r", src, reg.Host+"/air", "-o", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var again struct {
		BytesCopied       int64
		ComponentsSkipped int
	}
	if json.Unmarshal([]byte(stdout), &again) != nil || again.BytesCopied != 0 || again.ComponentsSkipped != 3 {
		t.Fatalf("re-run: %s", stdout)
	}
}
