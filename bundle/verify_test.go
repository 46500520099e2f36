package bundle

import (
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
