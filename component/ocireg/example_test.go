package ocireg_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/oci"
)

// Write a component version into a CTF directory and read it back.
func ExampleRepository_Write() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	a, err := ctf.Create(filepath.Join(dir, "ctf"), ctf.FormatDirectory)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	raw, _ := os.ReadFile("testdata/registry/ocm.podinfo-6.3.5.component-descriptor.yaml")
	d, err := component.Decode(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	var blobs []ocireg.LocalBlob
	for _, hex := range []string{"01be29a86d5dbaacecc53a381ff194f72bb62c8422ec7e6fa683e3535f96472c", "0d7b4d8a72296b9074ca1c7e04d7d60ad288174045e5c6e37621c66b89b1464f"} {
		b, _ := os.ReadFile("testdata/blobs/sha256." + hex)
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: ociDescriptorOf(b), Open: openBytes(b)})
	}

	r := ocireg.New(a, "") // a CTF: repositories without a host
	if _, err := r.Write(ctx, d, blobs, ocireg.WriteOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	v, err := r.Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Ref.Repo(), v.Ref.Tag)
	fmt.Println(len(v.LocalBlobs()), "local blobs")
	fmt.Println(v.Annotations[ocireg.AnnotationComponentVersion], v.Annotations[ocireg.AnnotationCreator])
	// Output:
	// component-descriptors/example.com/podinfo 6.3.5
	// 2 local blobs
	// example.com/podinfo:6.3.5 ferry
}

func ociDescriptorOf(b []byte) v1.Descriptor { return oci.DescriptorOf("", b) }

func openBytes(b []byte) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
