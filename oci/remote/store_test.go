package remote_test

import (
	"testing"
	"time"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// fast keeps retries quick in tests.
var fast = remote.WithRetry(3, time.Millisecond)

func newStore(t testing.TB, opts ...remote.Option) *remote.Store {
	t.Helper()
	s, err := remote.New(append([]remote.Option{fast}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestSuitePlainHTTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (oci.Store, string) {
		reg := registrytest.New(t)
		return newStore(t), reg.Host
	})
}

func TestSuiteTLS(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (oci.Store, string) {
		reg := registrytest.New(t, registrytest.WithTLS())
		return newStore(t, remote.WithCAFile(reg.CAFile)), reg.Host
	})
}

func TestSuiteAuth(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (oci.Store, string) {
		reg := registrytest.New(t, registrytest.WithAuth("ferry", "s3cret-pass"))
		return newStore(t, remote.WithRegistryConfig(reg.DockerConfigFile())), reg.Host
	})
}
