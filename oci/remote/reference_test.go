package remote_test

import (
	"errors"
	"testing"

	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

func TestParseRef(t *testing.T) {
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:5000/air/app:1.0": "127.0.0.1:5000/air/app:1.0",
		"oci://registry.local/apps/web:2":   "registry.local/apps/web:2",
		"https://registry.local/apps/web:2": "registry.local/apps/web:2",
		"alpine:3.20":                       "docker.io/library/alpine:3.20",
	} {
		r, err := s.ParseRef(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRef(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	var pe *remote.PlainHTTPError
	if _, err := s.ParseRef("http://registry.example:5000/app:1"); !errors.As(err, &pe) || pe.Host != "registry.example:5000" {
		t.Errorf("plain HTTP off loopback: %v, want a *PlainHTTPError", err)
	}
	if _, err := s.ParseRef("https://127.0.0.1:5001/app:1"); err != nil {
		t.Fatal(err)
	}
	// the same registry with the other scheme, a scheme ferry does not
	// speak, and a malformed name
	for _, bad := range []string{"http://127.0.0.1:5001/app:1", "ftp://registry.local/app:1", "http://127.0.0.1:5000/Bad Name"} {
		if _, err := s.ParseRef(bad); !errors.Is(err, oci.ErrInvalidReference) {
			t.Errorf("ParseRef(%q) = %v, want an error wrapping oci.ErrInvalidReference", bad, err)
		}
	}
	plain, err := remote.New(remote.WithPlainHTTP(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.ParseRef("http://registry.example:5000/app:1"); err != nil {
		t.Errorf("plain HTTP allowed: %v", err)
	}
}
