// Command ferry-serve is `ferry serve`: the CNCF distribution registry with
// its storage drivers. It is a program of its own so that ferry's other
// commands do not load the registry at every start; ferry runs it, from
// beside its own executable, for `ferry serve ARGS`. Run directly,
// `ferry-serve ARGS` is the same as `ferry serve ARGS`.
package main

import (
	"os"

	"github.com/ferry-oci/ferry/internal/cli"
	"github.com/ferry-oci/ferry/internal/cli/servecmd"
	_ "github.com/ferry-oci/ferry/internal/serve/gcs"
)

func main() {
	os.Exit(cli.Main(servecmd.Args(os.Args[1:]), servecmd.Command))
}
