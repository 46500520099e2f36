package ctf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/internal/lockfile"
)

func blobOf(s string) (v1.Descriptor, []byte) {
	b := []byte(s)
	sum := sha256.Sum256(b)
	return v1.Descriptor{MediaType: "application/octet-stream", Size: int64(len(b)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}, b
}

// TestSecondWriterOfADirectory: a second writer of a CTF directory fails at
// once naming the first's PID, or waits for it and then sees what it wrote.
func TestSecondWriterOfADirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ctf")
	a, err := Create(dir, FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "process") {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if r, err := Open(dir, ReadOnly()); err != nil {
		t.Fatalf("a reader is blocked by the writer: %v", err)
	} else {
		r.Close()
	}
	d, b := blobOf("written by the first")
	go func() {
		time.Sleep(50 * time.Millisecond)
		a.Push(ctx, "repo", d, bytes.NewReader(b))
		a.Close()
	}()
	second, err := Open(dir, WaitForLock(ctx, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if ok, _ := second.Exists(ctx, "repo", d); !ok {
		t.Error("the waiting writer does not see what the first wrote")
	}
	if _, err := os.Stat(lockfile.Path(dir)); err != nil {
		t.Errorf("the lock file of the second writer: %v", err)
	}
}

// TestSecondWriterOfATar: a second Create of the same tar fails naming the
// holder, and after waiting finds the tar there (fs.ErrExist), never
// replacing it.
func TestSecondWriterOfATar(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.tar")
	a, err := Create(p, FormatTar)
	if err != nil {
		t.Fatal(err)
	}
	var le *lockfile.LockedError
	if _, err := Create(p, FormatTar); !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second Create: %v", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); a.Close() }()
	if _, err := Create(p, FormatTar, WaitForLock(context.Background(), 10*time.Second)); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create after waiting: %v, want fs.ErrExist", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*")); len(left) != 0 {
		t.Errorf("left beside the tar: %v", left)
	}
}

// TestReclaimDirectory: temporary blobs a killed writer left are renamed
// into place when complete and right, removed otherwise, and listed by
// Strays until then.
func TestReclaimDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ctf")
	a, err := Create(dir, FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	good, gb := blobOf("complete and right")
	bad, bb := blobOf("cut short by the kill")
	os.WriteFile(filepath.Join(dir, tmpBlobName(good)), gb, 0o644)
	os.WriteFile(filepath.Join(dir, tmpBlobName(bad)), bb[:5], 0o644)
	os.WriteFile(filepath.Join(dir, BlobsDir, ".tmp-0123456789abcdef"), []byte("an older run's"), 0o644)
	os.WriteFile(filepath.Join(dir, IndexFile+".tmp-0123"), []byte("{"), 0o644)
	st, err := Strays(dir)
	if err != nil || len(st) != 4 {
		t.Fatalf("Strays = %v, %v; want 4", st, err)
	}
	a, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rc := a.Reclaimed()
	if rc.Reused != 1 || rc.ReusedBytes != good.Size || rc.Removed != 3 {
		t.Errorf("Reclaimed = %+v", rc)
	}
	if ok, _ := a.Exists(ctx, "r", good); !ok {
		t.Error("the complete blob was not reused")
	}
	if ok, _ := a.Exists(ctx, "r", bad); ok {
		t.Error("the cut blob counts as present")
	}
	a.Close()
	if st, _ := Strays(dir); len(st) != 0 {
		t.Errorf("strays after a writer opened it: %v", st)
	}
}

// TestReclaimTarStaging: a tar writer takes the blobs the staging
// directories of killed runs hold, reuses those the copy asks for when
// their digest checks out, and leaves nothing behind when it is done.
func TestReclaimTarStaging(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "x.tar")
	d1, b1 := blobOf("staged by the first killed run")
	d2, b2 := blobOf("staged by the second killed run, then damaged")
	d3, b3 := blobOf("staged, but no longer asked for")
	for i, blobs := range [][][]byte{{b1, b3}, {b2}} {
		stage := filepath.Join(filepath.Dir(p), ".x.tar.staging-"+string(rune('a'+i)))
		os.MkdirAll(filepath.Join(stage, BlobsDir), 0o755)
		for _, b := range blobs {
			d, _ := blobOf(string(b))
			if bytes.Equal(b, b2) {
				b = append([]byte(nil), b...)
				b[0] ^= 1
			}
			os.WriteFile(filepath.Join(stage, blobPath(d.Digest)), b, 0o644)
		}
		os.WriteFile(filepath.Join(stage, BlobsDir, ".tmp-junk"), []byte("partial"), 0o644)
	}
	os.WriteFile(filepath.Join(filepath.Dir(p), ".x.tar.tmp-123"), []byte("half a tar"), 0o644)
	if st, _ := Strays(p + "-not-there"); len(st) != 0 {
		t.Errorf("strays of another path: %v", st)
	}
	a, err := Create(p, FormatTar)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []v1.Descriptor{d1, d2} {
		ok, err := a.Exists(ctx, "r", d)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (d.Digest == d1.Digest) {
			t.Errorf("Exists(%s) = %v", d.Digest, ok)
		}
	}
	if err := a.Push(ctx, "r", d2, bytes.NewReader(b2)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	rc := a.Reclaimed()
	if rc.Reused != 1 || rc.ReusedBytes != d1.Size {
		t.Errorf("Reclaimed = %+v, want the one good blob reused", rc)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*"))
	if len(left) != 0 {
		t.Errorf("left beside the tar: %v", left)
	}
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hs, _ := r.Blobs()
	if len(hs) != 2 {
		t.Errorf("the tar holds %d blobs, want 2 (%s unused)", len(hs), d3.Digest)
	}
	if err := r.Verify(ctx); err != nil {
		t.Error(err)
	}
}
