package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/testimage"
)

// TestVerifyStrayBytes: a byte flipped where the tar holds no entry (the
// padding after a blob, the end of the archive) is damage too: verify names
// its offset, although every blob still hashes to its name.
func TestVerifyStrayBytes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar")
	vols := write(t, good, testimage.Sample()[:2], CreateOptions{})
	b := readAll(t, vols)
	if _, err := Verify(t.Context(), good, VerifyOptions{}); err != nil {
		t.Fatalf("the bundle as written: %v", err)
	}
	a, err := ctf.Open(good, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := a.Blobs()
	var padAt int64 = -1
	for _, h := range hs {
		if off, n, _ := a.BlobOffset(h); n%512 != 0 {
			padAt = off + n
			break
		}
	}
	a.Close()
	if padAt < 0 {
		t.Fatal("no blob with padding")
	}
	for name, at := range map[string]int64{"padding": padAt, "end": int64(len(b)) - 10} {
		damaged := filepath.Join(dir, name+".tar")
		d := append([]byte(nil), b...)
		d[at] ^= 0x01
		if err := os.WriteFile(damaged, d, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(t.Context(), damaged, VerifyOptions{})
		if name == "end" {
			if err == nil { // the tar reader refuses a damaged end block itself
				t.Errorf("end: a flipped byte in the end-of-archive blocks passed")
			}
			continue
		}
		var de *DamageError
		if !errors.Is(err, ErrStrayBytes) || !errors.As(err, &de) || de.Offset != at {
			t.Errorf("%s: got %v, want ErrStrayBytes at offset %d", name, err, at)
		}
	}
}

// TestVerifyCatAll: `cat FILE.*` joins the volumes and appends FILE.sha256
// (the glob takes it too). The joined file's tar is the bundle, byte for
// byte; the appended listing is recognised and ignored. Other bytes after
// the tar are damage.
func TestVerifyCatAll(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "split.tar")
	vols := write(t, base, testimage.Sample()[:2], CreateOptions{VolumeSize: 16 << 10})
	if len(vols) < 2 {
		t.Fatalf("%d volumes, want several", len(vols))
	}
	files, _ := filepath.Glob(base + ".*") // what the shell gives cat
	var joined []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, b...)
	}
	tarBytes := readAll(t, vols)
	if !bytes.HasPrefix(joined, tarBytes) || len(joined) == len(tarBytes) {
		t.Fatalf("cat FILE.* is not the volumes followed by the sidecar")
	}
	cat := filepath.Join(dir, "cat.tar")
	os.WriteFile(cat, joined, 0o644)
	rep, err := Verify(t.Context(), cat, VerifyOptions{})
	if err != nil || rep.Trailer != int64(len(joined)-len(tarBytes)) {
		t.Fatalf("cat FILE.*: %v, trailer %d", err, rep.Trailer)
	}

	other := filepath.Join(dir, "other.tar")
	os.WriteFile(other, append(append([]byte(nil), tarBytes...), "some other text\n"...), 0o644)
	if _, err := Verify(t.Context(), other, VerifyOptions{}); !errors.Is(err, ErrVolumeSize) {
		t.Errorf("text after the tar: %v, want ErrVolumeSize", err)
	}
}
