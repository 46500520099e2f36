// Command ferry carries Kubernetes software across an air gap: it copies OCM
// component versions with every image they name between registries and
// offline bundles, and localizes their manifests for GitOps.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ferry-oci/ferry/internal/cli"
)

// startProfile starts profiling the run and returns what ends it. Only a
// build with the ferrybench tag (hack/bench) sets it; see profile.go.
var startProfile = func() func() { return func() {} }

func main() {
	log.SetFlags(0)
	log.SetOutput(cli.StdLog(os.Stderr))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	endProfile := startProfile()
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	endProfile()
	stop()
	os.Exit(code)
}
