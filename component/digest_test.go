package component

import (
	"crypto"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestGenericBlobDigest(t *testing.T) {
	tests := []struct {
		h    crypto.Hash
		name string
		want string
	}{
		{0, "SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{crypto.SHA256, "SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{crypto.SHA512, "SHA-512", "ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff"},
	}
	for _, tt := range tests {
		// sha256("test") is the local blob of fixture ctf/ocm-0.20.0-compat-01
		got, err := GenericBlobDigest(iotest.OneByteReader(strings.NewReader("test")), tt.h)
		if err != nil {
			t.Fatal(err)
		}
		if want := (DigestSpec{tt.name, GenericBlobDigestV1, tt.want}); got != want {
			t.Errorf("%v: %v, want %v", tt.h, got, want)
		}
	}
	if _, err := GenericBlobDigest(strings.NewReader(""), crypto.MD5); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("md5: %v", err)
	}
	if _, err := GenericBlobDigest(iotest.ErrReader(io.ErrUnexpectedEOF), 0); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error: %v", err)
	}
}

func TestOCIArtifactDigest(t *testing.T) {
	got, err := OCIArtifactDigest("sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774")
	if err != nil {
		t.Fatal(err)
	}
	// the digest ocm wrote for resource "image" of podinfo 6.3.5
	if want := *decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml").Resources[2].Digest; got != want {
		t.Errorf("%v, want %v", got, want)
	}
	for _, bad := range []string{"", "dec1e767", "sha256:DEC1E7679A6DC3E79DB0A1765EEB0DE7F1E8AB19C97CE4F10B2125F4E789D774", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:zec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774"} {
		if _, err := OCIArtifactDigest(bad); err == nil {
			t.Errorf("OCIArtifactDigest(%q) accepted", bad)
		}
	}
}

func TestParseHash(t *testing.T) {
	for name, want := range map[string]crypto.Hash{"SHA-256": crypto.SHA256, "sha256": crypto.SHA256, "SHA-512": crypto.SHA512, "sha512": crypto.SHA512} {
		if h, err := ParseHash(name); err != nil || h != want {
			t.Errorf("ParseHash(%s) = %v, %v", name, h, err)
		}
	}
	if _, err := ParseHash(NoDigest); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("NO-DIGEST: %v", err)
	}
	if !ExcludedDigest().IsExcluded() || (&DigestSpec{"SHA-256", GenericBlobDigestV1, "00"}).IsExcluded() {
		t.Error("IsExcluded")
	}
}
