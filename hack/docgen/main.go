// Command docgen writes ferry's command reference (make docs).
package main

import (
	"fmt"
	"os"

	"github.com/ferry-oci/ferry/internal/cli"
)

func main() {
	dir := "docs/reference"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := cli.GenerateReference(dir); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}
