//go:build ferry_gcs

package serve

// A build with the ferry_gcs tag (go build -tags ferry_gcs ./cmd/ferry-serve) also has
// distribution's Google Cloud Storage driver; see Drivers for what it costs.
import _ "github.com/distribution/distribution/v3/registry/storage/driver/gcs"

func init() { drivers = append(drivers, "gcs") }
