package release_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-oci/ferry/internal/serve"
	"github.com/ferry-oci/ferry/release"
)

// Carry the sample component version, with its images and blobs, from a CTF
// directory into a registry (here distribution, in process), and read the
// report.
func ExampleTransfer() {
	ctx := context.Background()
	reg, _ := serve.New(serve.Options{Addr: "127.0.0.1:0", LogLevel: "panic"})
	if err := reg.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Shutdown(ctx)

	res, err := release.Transfer(ctx, []string{"testdata/podinfo-ctf//example.com/podinfo:6.3.6"}, "http://"+reg.Addr()+"/air", release.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range res.Report.Components {
		fmt.Println("component", c.Name, c.Version)
	}
	for _, a := range res.Report.Artifacts {
		fmt.Println("image", strings.TrimPrefix(a.Target, reg.Addr()+"/"), a.Tags, a.Digest.Hex[:12])
	}
	fmt.Printf("%d blobs, %d bytes copied\n", res.Report.BlobsCopied, res.Report.BytesCopied)
	// Output:
	// component example.com/podinfo 6.3.6
	// image air/stefanprodan/podinfo [6.3.6] b02850fbd92f
	// image air/library/busybox [1.36] 999301618bf0
	// 10 blobs, 25544 bytes copied
}
