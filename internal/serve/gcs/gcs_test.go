package gcs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/serve"
	_ "github.com/ferry-oci/ferry/internal/serve/gcs"
)

// TestGCSRegistered: with this package imported, Drivers lists gcs and a
// configuration naming it is not refused as an unknown driver.
func TestGCSRegistered(t *testing.T) {
	if !slices.Contains(serve.Drivers(), "gcs") {
		t.Fatalf("Drivers() = %v, without gcs", serve.Drivers())
	}
	p := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(p, []byte("version: 0.1\nstorage:\n  gcs:\n    bucket: ferry\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (serve.Options{ConfigFile: p}).Configuration(); err != nil && strings.Contains(err.Error(), "unknown driver") {
		t.Fatalf("gcs is not registered: %v", err)
	}
}
