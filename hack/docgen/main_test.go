package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/internal/cli"
	"github.com/ferry-oci/ferry/internal/cli/servecmd"
	"github.com/ferry-oci/ferry/internal/refdoc"
)

// TestReferenceIsCurrent fails when docs/reference differs from what the
// command tree says: run 'make docs' and commit the result.
func TestReferenceIsCurrent(t *testing.T) {
	want, err := refdoc.Files(cli.Root(servecmd.Command))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "reference")
	have, _ := filepath.Glob(filepath.Join(dir, "ferry*.md"))
	if len(have) != len(want) {
		t.Errorf("docs/reference has %d files, the command tree %d: run 'make docs'", len(have), len(want))
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("docs/reference/%s is out of date: run 'make docs'", name)
		}
	}
}
