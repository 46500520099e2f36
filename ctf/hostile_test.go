package ctf

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

type tent struct {
	hdr  tar.Header
	data []byte
}

func reg(name string, data []byte) tent {
	return tent{tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, ModTime: ModTime}, data}
}

func tarOf(t testing.TB, es ...tent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// A small valid CTF: one manifest, tagged.
var (
	goodManifest = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	goodDigest   = oci.Digest(goodManifest)
	goodIndex    = MarshalIndex([]Entry{{Repository: "acme/app", Tag: "1.0", Digest: goodDigest, MediaType: types.OCIManifestSchema1}})
	goodBlob     = "blobs/" + blobName(goodDigest)
)

func goodEntries() []tent {
	return []tent{reg(IndexFile, goodIndex), {tar.Header{Typeflag: tar.TypeDir, Name: "blobs", Mode: 0o755, ModTime: ModTime}, nil}, reg(goodBlob, goodManifest)}
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGoodTarAndIgnoredEntries(t *testing.T) {
	ctx := context.Background()
	es := append([]tent{
		reg("ferry-bundle.json", []byte("{}")),
		{tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755}, nil},
		reg("ferry/sub/note.txt", []byte("x")),
		reg("blobs/README", []byte("x")),
	}, goodEntries()...)
	for _, form := range []string{"tar", "tgz"} {
		b := tarOf(t, es...)
		if form == "tgz" {
			b = gz(b)
		}
		a, err := Open(writeTemp(t, "a."+form, b))
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		d, err := a.Resolve(ctx, oci.Ref{Repository: "acme/app", Tag: "1.0"})
		if err != nil || d.Digest != goodDigest || d.Size != int64(len(goodManifest)) || d.MediaType != types.OCIManifestSchema1 {
			t.Fatalf("%s: Resolve = %+v, %v", form, d, err)
		}
		var buf bytes.Buffer
		if err := a.WriteTar(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		if want := tarOf(t, goodEntries()...); !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: WriteTar kept ignored entries or changed the form", form)
		}
		a.Close()
	}
}

// Each hostile archive is refused with its own error, naming the archive
// and the entry.
func TestHostileTars(t *testing.T) {
	otherBlob := []byte("other")
	otherPath := "blobs/" + blobName(oci.Digest(otherBlob))
	link := func(typ byte, name, target string) tent {
		return tent{tar.Header{Typeflag: typ, Name: name, Linkname: target, Mode: 0o777}, nil}
	}
	whole := tarOf(t, goodEntries()...)
	truncated := whole[:512*4+100]  // inside the manifest's data
	cutPadding := whole[:512*5+100] // after the manifest's data, inside its padding or the end marker
	tests := []struct {
		name  string
		tar   []byte
		want  error
		entry string // a substring of EntryError.Entry
	}{
		{"dotdot", tarOf(t, append(goodEntries(), reg("../escape", []byte("x")))...), ErrUnsafeName, "../escape"},
		{"dotdot inside", tarOf(t, append(goodEntries(), reg("blobs/../../x", []byte("x")))...), ErrUnsafeName, "blobs/../../x"},
		{"absolute", tarOf(t, append(goodEntries(), reg("/etc/passwd", []byte("x")))...), ErrUnsafeName, "/etc/passwd"},
		{"symlink", tarOf(t, append(goodEntries(), link(tar.TypeSymlink, otherPath, "/etc/passwd"))...), ErrEntryType, otherPath},
		{"hard link", tarOf(t, append(goodEntries(), link(tar.TypeLink, otherPath, goodBlob))...), ErrEntryType, otherPath},
		{"device", tarOf(t, append(goodEntries(), tent{tar.Header{Typeflag: tar.TypeChar, Name: "dev", Devmajor: 1, Devminor: 3}, nil})...), ErrEntryType, "dev"},
		{"fifo", tarOf(t, append(goodEntries(), tent{tar.Header{Typeflag: tar.TypeFifo, Name: "fifo"}, nil})...), ErrEntryType, "fifo"},
		{"duplicate", tarOf(t, append(goodEntries(), reg(goodBlob, goodManifest))...), ErrDuplicateEntry, goodBlob},
		{"duplicate with ./", tarOf(t, append(goodEntries(), reg("./"+goodBlob, goodManifest))...), ErrDuplicateEntry, goodBlob},
		{"duplicate nested", tarOf(t, append(goodEntries(), reg(strings.Replace(goodBlob, "sha256.", "sha256/", 1), goodManifest))...), ErrDuplicateEntry, "sha256/"},
		{"duplicate index", tarOf(t, append(goodEntries(), reg(IndexFile, goodIndex))...), ErrDuplicateEntry, IndexFile},
		{"truncated", truncated, ErrTruncated, goodBlob},
		{"truncated padding", cutPadding, ErrTruncated, goodBlob},
		{"no index", tarOf(t, reg(goodBlob, goodManifest)), ErrNotArchive, ""},
		{"not a tar", bytes.Repeat([]byte("garbage!"), 200), ErrNotArchive, ""},
		{"empty file", nil, ErrNotArchive, ""},
		{"index not json", tarOf(t, reg(IndexFile, []byte("{")), reg(goodBlob, goodManifest)), ErrInvalidIndex, IndexFile},
		{"index schema 2", tarOf(t, reg(IndexFile, []byte(`{"schemaVersion":2,"artifacts":[]}`))), ErrInvalidIndex, IndexFile},
		{"index repository escapes", tarOf(t, reg(IndexFile, []byte(`{"schemaVersion":1,"artifacts":[{"repository":"../x","tag":"1","digest":"`+goodDigest.String()+`"}]}`)), reg(goodBlob, goodManifest)), ErrInvalidIndex, IndexFile},
		{"index digest bad", tarOf(t, reg(IndexFile, []byte(`{"schemaVersion":1,"artifacts":[{"repository":"x","digest":"sha256:../../etc"}]}`))), ErrInvalidIndex, IndexFile},
		{"manifest blob missing", tarOf(t, reg(IndexFile, goodIndex)), oci.ErrNotFound, "acme/app:1.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forms := map[string][]byte{"tar": tc.tar}
			if len(tc.tar) > 0 && tc.name != "not a tar" {
				forms["tgz"] = gz(tc.tar)
			}
			for form, b := range forms {
				p := writeTemp(t, "hostile."+form, b)
				a, err := Open(p)
				if err == nil {
					a.Close()
					t.Fatalf("%s: opened", form)
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("%s: got %v, want %v", form, err, tc.want)
				}
				var ee *EntryError
				if !errors.As(err, &ee) || ee.Archive != p || !strings.Contains(ee.Entry, tc.entry) {
					t.Fatalf("%s: error %q does not name archive %s and entry %q", form, err, p, tc.entry)
				}
				if !strings.Contains(err.Error(), p) {
					t.Fatalf("%s: error %q does not name the archive", form, err)
				}
			}
		})
	}
}

// A blob whose bytes do not match its name: a tar opens (Open does not hash),
// but Fetch callers and Verify detect it; a tgz is refused while it is
// decompressed.
func TestBlobContentMismatch(t *testing.T) {
	ctx := context.Background()
	bad := bytes.Clone(goodManifest)
	bad[10] ^= 1
	b := tarOf(t, reg(IndexFile, goodIndex), reg(goodBlob, bad))
	a, err := Open(writeTemp(t, "bad.tar", b))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: goodDigest, Size: int64(len(bad))}
	if _, err := oci.FetchBytes(ctx, a, "acme/app", d, 0); !errors.Is(err, oci.ErrDigestMismatch) {
		t.Errorf("FetchBytes = %v, want ErrDigestMismatch", err)
	}
	if err := a.Verify(ctx); !errors.Is(err, oci.ErrDigestMismatch) {
		t.Errorf("Verify = %v, want ErrDigestMismatch", err)
	}
	_, err = Open(writeTemp(t, "bad.tgz", gz(b)))
	var ee *EntryError
	if !errors.Is(err, oci.ErrDigestMismatch) || !errors.As(err, &ee) || ee.Entry != goodBlob {
		t.Errorf("Open tgz = %v, want ErrDigestMismatch naming %s", err, goodBlob)
	}
}

// A tgz that decompresses past the bound is refused as a bomb, saying the ratio.
func TestTGZBomb(t *testing.T) {
	zeros := make([]byte, 8<<20)
	h := oci.Digest(zeros)
	b := gz(tarOf(t, reg(IndexFile, MarshalIndex(nil)), reg("blobs/"+blobName(h), zeros)))
	p := writeTemp(t, "bomb.tgz", b)
	tmp := t.TempDir()
	_, err := Open(p, MaxExtractBytes(1<<20), TempDir(tmp))
	if !errors.Is(err, oci.ErrTooLarge) || !strings.Contains(err.Error(), ":1 from") {
		t.Fatalf("got %v, want ErrTooLarge with a ratio", err)
	}
	a, err := Open(p, TempDir(tmp)) // within the default bound it opens: a high ratio alone is fine
	if err != nil {
		t.Fatal(err)
	}
	if des, _ := os.ReadDir(tmp); len(des) != 1 {
		t.Errorf("the refused archive left its temporary directory: %v", des)
	}
	a.Close()
	if des, _ := os.ReadDir(tmp); len(des) != 0 {
		t.Errorf("Close left %v", des)
	}
}

func TestIndexTooLarge(t *testing.T) {
	p := writeTemp(t, "a.tar", tarOf(t, goodEntries()...))
	_, err := Open(p, MaxIndexBytes(10))
	var ee *EntryError
	if !errors.Is(err, oci.ErrTooLarge) || !errors.As(err, &ee) || ee.Entry != IndexFile {
		t.Fatalf("got %v, want ErrTooLarge naming %s", err, IndexFile)
	}
}

// A directory whose blob is a symbolic link out of it is not served, and a
// blob removed after Open is not claimed.
func TestDirectoryLinksAndVanishedBlobs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := writeTemp(t, "secret", goodManifest)
	os.WriteFile(filepath.Join(dir, IndexFile), goodIndex, 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, filepath.FromSlash(goodBlob))); err != nil {
		t.Fatal(err)
	}
	if a, err := Open(dir); err == nil {
		a.Close()
		t.Fatal("a directory whose manifest blob links outside it opened")
	}
	os.Remove(filepath.Join(dir, filepath.FromSlash(goodBlob)))
	os.WriteFile(filepath.Join(dir, filepath.FromSlash(goodBlob)), goodManifest, 0o644)
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	os.Remove(filepath.Join(dir, filepath.FromSlash(goodBlob)))
	d := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: goodDigest, Size: int64(len(goodManifest))}
	if ok, err := a.Exists(ctx, "acme/app", d); ok || err != nil {
		t.Errorf("Exists of a removed blob = %v, %v", ok, err)
	}
	if _, err := a.Resolve(ctx, oci.Ref{Repository: "acme/app", Tag: "1.0"}); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Resolve of a removed manifest = %v, want ErrNotFound", err)
	}
	if _, err := a.Fetch(ctx, "acme/app", d); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Fetch of a removed blob = %v, want ErrNotFound", err)
	}
}

// A manifest whose blob is present counts as existing in any repository,
// and a writable archive then records it in that repository's index, so
// that ocm finds it (CTF-NATIVE.md §4.1).
func TestExistsRecordsManifest(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ctf")
	a, err := Create(dir, FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d := oci.DescriptorOf(types.OCIManifestSchema1, goodManifest)
	if err := a.Push(ctx, "one", d, bytes.NewReader(goodManifest)); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Exists(ctx, "two", d); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if _, err := a.Resolve(ctx, oci.Ref{Repository: "two", Digest: d.Digest}); err != nil {
		t.Fatalf("Resolve in the second repository: %v", err)
	}
	r, err := Open(dir, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if repos, _ := r.Repositories(ctx); len(repos) != 2 {
		t.Fatalf("repositories on disk = %v", repos)
	}
}

// Entries without mediaType (OCM before 2026) resolve with the type read
// from the manifest.
func TestResolveReadsMediaType(t *testing.T) {
	idx := []byte(`{"schemaVersion":1,"artifacts":[{"repository":"acme/app","tag":"1.0","digest":"` + goodDigest.String() + `"}]}`)
	a, err := Open(writeTemp(t, "a.tar", tarOf(t, reg(IndexFile, idx), reg(goodBlob, goodManifest))))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d, err := a.Resolve(context.Background(), oci.Ref{Repository: "acme/app", Tag: "1.0"})
	if err != nil || d.MediaType != types.OCIManifestSchema1 {
		t.Fatalf("Resolve = %+v, %v", d, err)
	}
}

func TestCreateTarAbortAndExisting(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.tar")
	a, err := Create(p, FormatTar)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Abort(); err != nil {
		t.Fatal(err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Fatalf("Abort left %v", des)
	}
	os.WriteFile(p, nil, 0o644)
	if _, err := Create(p, FormatTar); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create over an existing file: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "y.tgz"), FormatTGZ); !errors.Is(err, oci.ErrUnsupported) {
		t.Fatalf("Create tgz: %v", err)
	}
}
