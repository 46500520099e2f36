// Command ferry carries Kubernetes software across an air gap: it copies OCM
// component versions with every image they name between registries and
// offline bundles, and localizes their manifests for GitOps.
package main

import (
	"os"

	"github.com/ferry-oci/ferry/internal/cli"
	_ "github.com/ferry-oci/ferry/internal/startheap" // a short run collects no garbage
)

// startProfile starts profiling the run and returns what ends it. Only a
// build with the ferrybench tag (hack/bench) sets it; see profile.go.
var startProfile = func() func() { return func() {} }

func main() {
	endProfile := startProfile()
	code := cli.Main(os.Args[1:])
	endProfile()
	os.Exit(code)
}
