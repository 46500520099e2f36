package remote_test

import (
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/oci/remote"
)

func TestConfigOptions(t *testing.T) {
	if _, err := remote.New(remote.Config{}.Options()...); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	if _, err := remote.New(remote.Config{PlainHTTP: true, Retries: 2}.Options()...); err != nil {
		t.Fatalf("plain HTTP, 2 retries: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "ca.pem")
	if _, err := remote.New(remote.Config{CAFile: missing}.Options()...); err == nil {
		t.Fatal("a CA file that does not exist was accepted")
	}
	if _, err := remote.New(remote.Config{CAFile: missing, InsecureSkipTLSVerify: true}.Options()...); err == nil {
		t.Fatal("a CA file with TLS verification off was accepted")
	}
}
