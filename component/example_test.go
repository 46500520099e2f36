package component_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/ferry-oci/ferry/component"
)

// Decode a descriptor written by `ocm`, write it in the other scheme, and
// check its signature.
func Example() {
	data, err := os.ReadFile("testdata/descriptors/podinfo-6.3.5.signed.v2.yaml")
	if err != nil {
		panic(err)
	}
	d, err := component.Decode(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Name, d.Version, d.Scheme)
	for _, r := range d.Resources {
		fmt.Println(r.Name, r.Access.Kind(), r.Digest.NormalisationAlgorithm)
	}

	pemKey, _ := os.ReadFile("testdata/signing/acme.pub")
	pub, err := component.ParsePublicKey(pemKey)
	if err != nil {
		panic(err)
	}
	fmt.Println("verify:", component.Verify(d, "acme", pub))

	v3, _ := component.Encode(d, component.SchemeV3Alpha1)
	for _, line := range strings.SplitN(string(v3), "\n", 4)[:3] {
		fmt.Println(line)
	}
	// Output:
	// example.com/podinfo 6.3.5 v2
	// config localBlob genericBlobDigest/v1
	// deployment localBlob genericBlobDigest/v1
	// image ociArtifact ociArtifactDigest/v1
	// verify: <nil>
	// apiVersion: ocm.software/v3alpha1
	// kind: ComponentVersion
	// metadata:
}
