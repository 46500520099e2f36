// Command docgen writes ferry's command reference (make docs).
package main

import (
	"fmt"
	"os"

	"github.com/ferry-oci/ferry/internal/cli"
	"github.com/ferry-oci/ferry/internal/cli/servecmd"
	"github.com/ferry-oci/ferry/internal/refdoc"
	_ "github.com/ferry-oci/ferry/internal/serve/gcs" // ferry-serve has it
)

func main() {
	dir := "docs/reference"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := refdoc.Generate(cli.Root(servecmd.Command), dir); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}
