// Package gcs adds distribution's Google Cloud Storage driver to the
// registry, for a program that imports it (cmd/ferry-serve). It is a package
// of its own because Google's client stack is large, and the tests'
// in-process registries do without it.
package gcs

import (
	_ "github.com/distribution/distribution/v3/registry/storage/driver/gcs"

	"github.com/ferry-oci/ferry/internal/serve"
)

func init() { serve.AddDriver("gcs") }
