package oci

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestVerifyReader(t *testing.T) {
	b := bytes.Repeat([]byte("ferry"), 1000)
	d := DescriptorOf(types.OCILayer, b)
	altered := append([]byte(nil), b...)
	altered[10] = 'X'
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"intact", b, nil},
		{"flipped byte", altered, ErrDigestMismatch},
		{"truncated", b[:len(b)-1], ErrSizeMismatch},
		{"extra bytes", append(append([]byte(nil), b...), 'x'), ErrSizeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vr, err := VerifyReader(bytes.NewReader(tc.content), d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(io.Discard, vr)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyReaderUnknownAlgorithm(t *testing.T) {
	d := DescriptorOf(types.OCILayer, nil)
	d.Digest.Algorithm = "md5"
	if _, err := VerifyReader(bytes.NewReader(nil), d); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

func TestVerifyReaderComposes(t *testing.T) {
	b := []byte("once")
	d := DescriptorOf(types.OCILayer, b)
	v1r, _ := VerifyReader(bytes.NewReader(b), d)
	v2r, _ := VerifyReader(v1r, d)
	if v1r != v2r {
		t.Fatal("a verifying reader for the same descriptor was wrapped again")
	}
	other := DescriptorOf(types.OCILayer, []byte("other"))
	if v3r, _ := VerifyReader(v1r, other); v3r == v1r {
		t.Fatal("a verifying reader was reused for another descriptor")
	}
}
