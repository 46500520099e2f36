package ocireg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
)

// FuzzDescriptorFromTar feeds arbitrary layers to the descriptor-layer
// reader. Whatever it accepts is within the size limit, and survives
// being written as OCM writes it and read again; what it refuses is
// refused with one of its documented errors.
func FuzzDescriptorFromTar(f *testing.F) {
	f.Add(readFile(f, "testdata/registry/ocm.podinfo-6.3.5.cd-layer.tar"))
	f.Add(tarOf(f, [2]string{"../x", "boo"}, [2]string{DescriptorFile, "a: b"}))
	f.Add(tarOf(f, [2]string{"README", "x"}, [2]string{"/" + DescriptorFile, "a: b"}))
	f.Add(tarOf(f, [2]string{DescriptorFile, "->/etc/passwd"}))
	f.Add([]byte{})
	if blobs, err := filepath.Glob("testdata/blobs/*"); err == nil {
		for _, b := range blobs {
			data, _ := os.ReadFile(b)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, err := DescriptorFromTar(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, oci.ErrTooLarge) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if len(raw) > component.MaxDescriptorBytes {
			t.Fatalf("accepted %d bytes", len(raw))
		}
		layer, err := DescriptorTar(raw)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DescriptorFromTar(layer)
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
