package ctf

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// seedFiles returns the bytes of the fixture files that exist.
func seedFiles(f *testing.F, paths ...string) [][]byte {
	var out [][]byte
	for _, p := range paths {
		full := filepath.Join(append([]string{sharedRoot(f)}, strings.Split(p, "/")...)...)
		if b, err := os.ReadFile(full); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// sharedRoot is ../shared next to the module root ("" when not found).
func sharedRoot(t testing.TB) string {
	dir, _ := os.Getwd()
	for dir != filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

func FuzzIndex(f *testing.F) {
	for _, b := range seedFiles(f,
		"testdata/ocm/ctf-dir/artifact-index.json", "testdata/ocm/ctf-signed/artifact-index.json",
		"spec/ocm/fixtures/ctf/ocm-0.18.0-multi-layer/artifact-index.json") {
		f.Add(b)
	}
	f.Add(goodIndex)
	f.Add([]byte(`{"schemaVersion":1,"artifacts":[{"repository":"../x","digest":"sha256:00"}]}`))
	f.Add([]byte(`{"schemaVersion":1,"artifacts":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ParseIndex(b)
		if err != nil {
			return
		}
		for _, e := range es {
			for _, p := range []string{e.Repository, blobPath(e.Digest)} {
				if !filepath.IsLocal(p) || strings.Contains(p, "..") || strings.ContainsRune(p, '\\') {
					t.Fatalf("accepted entry %v yields path %q outside the archive", e, p)
				}
			}
			if !strings.HasPrefix(blobPath(e.Digest), "blobs/sha") {
				t.Fatalf("entry %v: blob path %q", e, blobPath(e.Digest))
			}
		}
		// What is accepted is written back in a form that reads the same.
		out := MarshalIndex(es)
		es2, err := ParseIndex(out)
		if err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if !bytes.Equal(MarshalIndex(es2), out) {
			t.Fatalf("index not stable: %s", out)
		}
	})
}

func FuzzTar(f *testing.F) {
	for _, b := range seedFiles(f, "testdata/ocm/ctf.tar", "spec/ocm/fixtures/ctf/ocm-0.20.0-compat-01/transport-archive.tar") {
		f.Add(b)
	}
	f.Add(tarOf(f, goodEntries()...))
	f.Add(tarOf(f, append(goodEntries(), reg("../x", nil), reg("ferry/x", []byte("y")))...))
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		members, scanErr := scanTar(bytes.NewReader(b), size, "fuzz.tar", []string{IndexFile})
		if scanErr == nil {
			for k, m := range members {
				checkKey(t, k)
				if m.off < 0 || m.size < 0 || m.off+m.size > size {
					t.Fatalf("member %s at %d+%d outside the %d-byte file", k, m.off, m.size, size)
				}
			}
		}
		a, err := openTar("fuzz.tar", bytes.NewReader(b), size, makeOptions(nil))
		if err == nil && scanErr != nil {
			t.Fatalf("openTar accepted what scanTar refused: %v", scanErr)
		}
		if err == nil {
			ctx := context.Background()
			for _, e := range a.Entries() {
				bf, err := a.OpenBlob(e.Digest)
				if err != nil {
					t.Fatalf("entry %v accepted without its blob: %v", e, err)
				}
				if n, err := io.Copy(io.Discard, bf); err != nil || n != bf.Size() {
					t.Fatalf("blob of %v: read %d of %d: %v", e, n, bf.Size(), err)
				}
			}
			var buf bytes.Buffer
			if err := a.WriteTar(ctx, &buf); err != nil {
				t.Fatalf("WriteTar of an accepted archive: %v", err)
			}
		}
		if scanErr != nil {
			return // refused by the scan; extraction applies the same header checks
		}
		// The same bytes as a decompressed stream: every file written stays in
		// the directory and is a name of the format.
		dir, err := os.MkdirTemp(base, "x")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		got, err := extractTar(bytes.NewReader(b), dir, "fuzz.tgz", []string{IndexFile}, 1<<20, 1<<20, func() int64 { return 0 })
		var written []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, _ error) error {
			if d != nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				written = append(written, filepath.ToSlash(rel))
			}
			return nil
		})
		for _, w := range written {
			checkKey(t, w)
		}
		if err == nil {
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Sort(written)
			if !slices.Equal(keys, written) {
				t.Fatalf("extracted %v, reported %v", written, keys)
			}
		}
	})
}

// checkKey fails unless k is a name the format allows.
func checkKey(t *testing.T, k string) {
	t.Helper()
	if !filepath.IsLocal(k) {
		t.Fatalf("name %q is not local", k)
	}
	if k == IndexFile {
		return
	}
	rest, ok := strings.CutPrefix(k, BlobsDir+"/")
	if _, valid := digestOfBlobName(rest); !ok || !valid {
		t.Fatalf("name %q is neither %s nor a blob", k, IndexFile)
	}
}
