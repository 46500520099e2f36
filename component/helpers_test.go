package component

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFile reads a fixture from testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFile(t testing.TB, name string) *Descriptor {
	t.Helper()
	d, err := Decode(readFile(t, name))
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return d
}

// stripDocStart removes the "---" line `ocm get cv -o yaml` prints before
// the descriptor; the stored descriptor has none.
func stripDocStart(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("---\n"))
}

// ctfDescriptor reads component-descriptor.yaml of name:version from a CTF
// directory: artifact-index.json → manifest blob → layer 0 tar.
func ctfDescriptor(t testing.TB, dir, name, version string) []byte {
	t.Helper()
	var index struct {
		Artifacts []struct {
			Repository, Tag, Digest string
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "artifact-index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	blob := func(digest string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", strings.Replace(digest, ":", ".", 1)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, a := range index.Artifacts {
		if a.Repository != "component-descriptors/"+name || a.Tag != version {
			continue
		}
		var m struct {
			Layers []struct{ Digest string }
		}
		if err := json.Unmarshal(blob(a.Digest), &m); err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(bytes.NewReader(blob(m.Layers[0].Digest)))
		for {
			h, err := tr.Next()
			if err != nil {
				t.Fatalf("component-descriptor.yaml not in layer 0 of %s:%s: %v", name, version, err)
			}
			if h.Name == "component-descriptor.yaml" {
				b, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
	t.Fatalf("%s:%s not in %s", name, version, dir)
	return nil
}
