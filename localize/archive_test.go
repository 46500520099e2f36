package localize

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name string
	typ  byte
	body string
	link string
}

func tarOf(t testing.TB, gz bool, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w = &buf
	tw := tar.NewWriter(w)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !gz {
		return buf.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(buf.Bytes())
	zw.Close()
	return z.Bytes()
}

func TestReadArchive(t *testing.T) {
	for _, gz := range []bool{false, true} {
		b := tarOf(t, gz, entry{name: "./", typ: tar.TypeDir}, entry{name: "./a/", typ: tar.TypeDir},
			entry{name: "./a/x.yaml", typ: tar.TypeReg, body: "x: 1\n"}, entry{name: "b.yaml", typ: tar.TypeReg, body: "b"})
		files, err := ReadArchive(bytes.NewReader(b), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(files.Names(), ",") != "a/x.yaml,b.yaml" || string(files["a/x.yaml"]) != "x: 1\n" {
			t.Errorf("gz=%v: %v", gz, files)
		}
		dir := t.TempDir()
		if err := WriteFiles(dir, files); err != nil {
			t.Fatal(err)
		}
		back, err := ReadFS(os.DirFS(dir), Limits{})
		if err != nil || len(back) != 2 || string(back["b.yaml"]) != "b" {
			t.Errorf("round trip through a directory: %v %v", back, err)
		}
	}
}

func TestReadArchiveRefuses(t *testing.T) {
	tests := []struct {
		name string
		es   []entry
		l    Limits
	}{
		{"dotdot", []entry{{name: "a/../../etc/passwd", typ: tar.TypeReg, body: "x"}}, Limits{}},
		{"absolute", []entry{{name: "/etc/passwd", typ: tar.TypeReg, body: "x"}}, Limits{}},
		{"backslash", []entry{{name: `..\x`, typ: tar.TypeReg, body: "x"}}, Limits{}},
		{"symlink", []entry{{name: "l", typ: tar.TypeSymlink, link: "/etc"}}, Limits{}},
		{"hardlink", []entry{{name: "l", typ: tar.TypeLink, link: "a"}}, Limits{}},
		{"fifo", []entry{{name: "f", typ: tar.TypeFifo}}, Limits{}},
		{"duplicate", []entry{{name: "a", typ: tar.TypeReg, body: "1"}, {name: "./a", typ: tar.TypeReg, body: "2"}}, Limits{}},
		{"file-and-dir", []entry{{name: "a", typ: tar.TypeReg, body: "1"}, {name: "a/b", typ: tar.TypeReg, body: "2"}}, Limits{}},
		{"too-many", []entry{{name: "a", typ: tar.TypeReg, body: "1"}, {name: "b", typ: tar.TypeReg, body: "2"}}, Limits{MaxFiles: 1}},
		{"too-big", []entry{{name: "a", typ: tar.TypeReg, body: "12345"}}, Limits{MaxFileSize: 4}},
		{"too-much", []entry{{name: "a", typ: tar.TypeReg, body: "123"}, {name: "b", typ: tar.TypeReg, body: "456"}}, Limits{MaxTotalSize: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadArchive(bytes.NewReader(tarOf(t, true, tt.es...)), tt.l)
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Errorf("got %v, want ErrUnsafeArchive", err)
			}
		})
	}
}

func TestGzipBombIsCutOff(t *testing.T) {
	// 64 MiB of zeros compresses to ~64 KiB; the size limit refuses it from
	// the header, before it is inflated.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "bomb", Typeflag: tar.TypeReg, Size: 64 << 20, Mode: 0o644})
	tw.Write(make([]byte, 64<<20))
	tw.Close()
	zw.Close()
	if _, err := ReadArchive(&buf, Limits{MaxTotalSize: 1 << 20}); !errors.Is(err, ErrUnsafeArchive) {
		t.Errorf("got %v", err)
	}
}

// FuzzReadArchive: any input gives an error or a tree whose every path is
// clean, relative and inside it; never a panic.
func FuzzReadArchive(f *testing.F) {
	f.Add(tarOf(f, false, entry{name: "a/b.yaml", typ: tar.TypeReg, body: "x: 1"}))
	f.Add(tarOf(f, true, entry{name: "./d/", typ: tar.TypeDir}, entry{name: "d/e", typ: tar.TypeReg, body: "e"}))
	f.Add(tarOf(f, false, entry{name: "../x", typ: tar.TypeReg, body: "x"}))
	if b, err := os.ReadFile(filepath.Join("testdata", "ocm-controller-e2e-backend", "manifests.tar")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := ReadArchive(bytes.NewReader(b), Limits{MaxTotalSize: 1 << 20})
		if err != nil {
			return
		}
		var total int
		for p, c := range files {
			if p == "." || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || filepath.Clean(p) != p ||
				p == ".." || strings.HasPrefix(p, "../") {
				t.Fatalf("unsafe path %q", p)
			}
			total += len(c)
		}
		if total > 1<<20 {
			t.Fatalf("%d bytes read past the limit", total)
		}
	})
}
