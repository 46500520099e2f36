package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/ctf"
)

// TestBundleVolumeSidecarFirst: a byte flipped in a tar header of volume
// 001 keeps the tar from being read, and verify names volume 001 (the
// sidecar's finding), not the volume where reading the tar gave up; a lone
// volume is checked against the sidecar with --volume.
func TestBundleVolumeSidecarFirst(t *testing.T) {
	_, repo, _ := corpusRelease(t, 1<<20)
	dir := t.TempDir()
	split := filepath.Join(dir, "split.tar")
	mustRun(t, "bundle", "create", repo+"//example.com/bench:1.0.0", "-o", split, "--split", "300KB")
	parts, _ := filepath.Glob(split + ".[0-9]*")
	var cat []byte
	for _, p := range parts {
		cat = append(cat, readFile(t, p)...)
	}
	if len(parts) < 3 {
		t.Fatalf("volumes %v", parts)
	}
	a, err := ctf.OpenReader(bytes.NewReader(cat), int64(len(cat)), "split.tar", ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := a.Blobs()
	v0, v1 := int64(len(readFile(t, parts[0]))), int64(len(readFile(t, parts[1])))
	header := int64(-1)
	for _, h := range hs {
		if off, _, ok := a.BlobOffset(h); ok && off-512 >= v0 && off < v0+v1 {
			header = off - 512 - v0
			break
		}
	}
	a.Close()
	if header < 0 {
		t.Fatal("no tar header in volume 001")
	}
	b := readFile(t, parts[1])
	b[header+10] ^= 0x20 // in the entry's name: the header checksum no longer matches
	if err := os.WriteFile(parts[1], b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "bundle", "verify", parts[0], "-o", "json")
	if code != 4 || !strings.Contains(stderr, filepath.Base(parts[1])+":") || strings.Contains(stderr, filepath.Base(parts[len(parts)-1])) {
		t.Errorf("verify: exit %d, want 4 naming %s alone:\n%s", code, filepath.Base(parts[1]), stderr)
	}
	var rep struct {
		Sidecar bool
		Volumes []struct {
			Path string
			OK   bool
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if !rep.Sidecar || len(rep.Volumes) != len(parts) || rep.Volumes[1].OK || !rep.Volumes[0].OK {
		t.Errorf("report: %+v", rep)
	}

	// One volume at a time, as they arrive: only the sidecar is needed.
	alone := t.TempDir()
	for _, p := range []string{parts[1], parts[2], split + ".sha256"} {
		os.WriteFile(filepath.Join(alone, filepath.Base(p)), readFile(t, p), 0o644)
	}
	if code, _, stderr := run(t, "bundle", "verify", filepath.Join(alone, filepath.Base(parts[2])), "--volume"); code != 0 {
		t.Errorf("verify --volume of a good volume: exit %d\n%s", code, stderr)
	}
	code, _, stderr = run(t, "bundle", "verify", filepath.Join(alone, filepath.Base(parts[1])), "--volume")
	if code != 4 || !strings.Contains(stderr, "checksum does not match the sidecar") {
		t.Errorf("verify --volume of the damaged volume: exit %d\n%s", code, stderr)
	}
	os.Remove(filepath.Join(alone, "split.tar.sha256"))
	if code, _, stderr := run(t, "bundle", "verify", filepath.Join(alone, filepath.Base(parts[2])), "--volume"); code != 1 || !strings.Contains(stderr, "split.tar.sha256") {
		t.Errorf("verify --volume without the sidecar: exit %d\n%s", code, stderr)
	}
}
