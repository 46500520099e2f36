package remote_test

import (
	"errors"
	"io/fs"
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

func TestConfigCheck(t *testing.T) {
	if err := (remote.Config{}).Check(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	if err := (remote.Config{CertFile: "c.pem"}).Check(); err == nil || err.Error() != "--cert-file and --key-file go together" {
		t.Errorf("a certificate without its key: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "ca.pem")
	var fe *remote.ConfigFileError
	if err := (remote.Config{CAFile: missing}).Check(); !errors.As(err, &fe) || fe.Flag != "--ca-file" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing CA file: %v", err)
	}
}
