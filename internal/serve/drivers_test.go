package serve_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/serve"
)

// TestDefaultDrivers pins the drivers internal/serve registers itself; ferry-serve adds gcs
// (internal/serve/gcs), and the serve reference (docs/reference/ferry_serve.md) lists all six.
func TestDefaultDrivers(t *testing.T) {
	want := []string{"azure", "filesystem", "inmemory", "s3", "s3aws"}
	if got := serve.Drivers(); !slices.Equal(got, want) {
		t.Fatalf("Drivers() = %v, want %v", got, want)
	}
}

// TestDriversRegistered checks that every name Drivers reports (the list the serve reference
// prints) is a driver this build registers: a configuration naming it is not refused as an
// unknown driver.
func TestDriversRegistered(t *testing.T) {
	for _, name := range serve.Drivers() {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, "config.yml", "version: 0.1\nstorage:\n  "+name+": {}\n")
			_, err := serve.Options{ConfigFile: p}.Configuration()
			if err != nil && strings.Contains(err.Error(), "unknown driver") {
				t.Fatalf("%s is listed by Drivers but not registered: %v", name, err)
			}
		})
	}
}

// TestS3Config checks that --config selects the s3 driver as distribution's configuration
// does, and that its own parameter checks reach the user as a ConfigError naming the key.
// Building the driver contacts nothing, so the endpoint need not answer.
func TestS3Config(t *testing.T) {
	good := "version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n    bucket: ferry\n" +
		"    regionendpoint: http://127.0.0.1:1\n    forcepathstyle: true\n    accesskey: a\n    secretkey: b\n" +
		"    rootdirectory: /registry\n"
	cfg, err := serve.Options{ConfigFile: writeFile(t, "s3.yml", good)}.Configuration()
	if err != nil {
		t.Fatalf("s3 configuration refused: %v", err)
	}
	if got := cfg.Storage.Type(); got != "s3" {
		t.Fatalf("storage type = %q, want s3", got)
	}

	bad := "version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n    regionendpoint: http://127.0.0.1:1\n"
	_, err = serve.Options{ConfigFile: writeFile(t, "s3.yml", bad)}.Configuration()
	var ce *serve.ConfigError
	if !errors.As(err, &ce) || ce.Key != "storage.s3" || !strings.Contains(err.Error(), "bucket") {
		t.Fatalf("s3 without a bucket: error = %v, want a ConfigError on storage.s3 naming the bucket", err)
	}
}
