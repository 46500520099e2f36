package ocireg

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/ferry-oci/ferry/internal/fixture"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// shared returns ../shared beside the module root joined with elem.
func shared(t testing.TB, elem ...string) string { t.Helper(); return fixture.Shared(t, elem...) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dump is the registry dump of one component version that `ocm transfer
// ctf` wrote (testdata/registry, copied from shared/testdata/ocm/registry).
type dump struct {
	manifest, config, layer, yaml []byte
	m                             v1.Manifest
}

func readDump(t testing.TB, dir, prefix string) dump {
	t.Helper()
	d := dump{
		manifest: readFile(t, filepath.Join(dir, prefix+".manifest.json")),
		config:   readFile(t, filepath.Join(dir, prefix+".config.json")),
		layer:    readFile(t, filepath.Join(dir, prefix+".cd-layer.tar")),
		yaml:     readFile(t, filepath.Join(dir, prefix+".component-descriptor.yaml")),
	}
	if err := json.Unmarshal(d.manifest, &d.m); err != nil {
		t.Fatal(err)
	}
	return d
}

// fileBlobs returns the local blobs of layers from files named
// sha256.<hex> in dir.
func fileBlobs(t testing.TB, dir string, layers []v1.Descriptor) []LocalBlob {
	t.Helper()
	var out []LocalBlob
	for _, l := range layers {
		p := filepath.Join(dir, l.Digest.Algorithm+"."+l.Digest.Hex)
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
		out = append(out, LocalBlob{
			Descriptor: v1.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size},
			Open:       func(context.Context) (io.ReadCloser, error) { return os.Open(p) },
		})
	}
	return out
}

// bytesBlob is a local blob held in memory.
func bytesBlob(mt types.MediaType, b []byte) LocalBlob {
	return LocalBlob{
		Descriptor: oci.DescriptorOf(mt, b),
		Open:       func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
	}
}

// newCTF returns an empty, writable CTF directory.
func newCTF(t testing.TB) *ctf.Archive {
	t.Helper()
	a, err := ctf.Create(filepath.Join(t.TempDir(), "ctf"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func readAll(t testing.TB, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerDescs strips the local-blob layers of m to plain descriptors.
func layerDescs(m v1.Manifest) []v1.Descriptor {
	var out []v1.Descriptor
	for _, l := range m.Layers[1:] {
		out = append(out, v1.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size})
	}
	return out
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
