package remote_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// TestRequireSchemeSendsOnlyThatScheme: http:// is plain HTTP with no https
// attempt first, https:// is TLS alone (also on loopback), and a bare host
// keeps the default (https first, plain HTTP as the loopback fallback).
func TestRequireSchemeSendsOnlyThatScheme(t *testing.T) {
	for _, tc := range []struct {
		scheme  string
		schemes []string
	}{
		{"http", []string{"http"}},
		{"https", []string{"https"}},
		{"", []string{"http", "https"}},
	} {
		t.Run("scheme "+tc.scheme, func(t *testing.T) {
			base := &offline{}
			s := newStore(t, remote.WithTransport(base))
			if err := s.RequireScheme("127.0.0.1:5999", tc.scheme); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Resolve(t.Context(), mustRef(t, "127.0.0.1:5999/x/y:1")); err == nil {
				t.Fatal("Resolve succeeded over a transport that sends nothing")
			}
			if got := base.schemes(); !slices.Equal(got, tc.schemes) {
				t.Errorf("schemes sent = %v, want %v", got, tc.schemes)
			}
		})
	}
}

func TestRequireSchemeAgainstRealRegistries(t *testing.T) {
	plain := registrytest.New(t)
	tlsReg := registrytest.New(t, registrytest.WithTLS())
	ref := func(host string) oci.Ref { return mustRef(t, host+"/x/y:1") }

	// https:// to a plain-HTTP registry on loopback fails: no silent downgrade.
	s := newStore(t)
	if err := s.RequireScheme(plain.Host, "https"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Resolve(t.Context(), ref(plain.Host))
	if err == nil || errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("https:// against a plain-HTTP registry: err = %v, want a TLS failure", err)
	}
	if n := plain.Requests().Count("GET", "/v2/"); n != 0 {
		t.Errorf("the plain registry saw %d pings over HTTP after https:// was asked for", n)
	}

	// http:// to the plain registry: one ping, over HTTP, and an answer (404: no such tag).
	s = newStore(t)
	if err := s.RequireScheme(plain.Host, "http"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(t.Context(), ref(plain.Host)); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("http:// against a plain registry: err = %v, want not found", err)
	}

	// http:// to a TLS registry fails instead of trying https.
	s = newStore(t, remote.WithCAFile(tlsReg.CAFile))
	if err := s.RequireScheme(tlsReg.Host, "http"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(t.Context(), ref(tlsReg.Host)); err == nil || errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("http:// against a TLS registry: err = %v, want a failure", err)
	}
	// https:// to it works.
	s = newStore(t, remote.WithCAFile(tlsReg.CAFile))
	if err := s.RequireScheme(tlsReg.Host, "https"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(t.Context(), ref(tlsReg.Host)); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("https:// against a TLS registry: err = %v, want not found", err)
	}
}

// TestRequireSchemeWithAuth: the challenge of a registry pinned to http://
// is read by ferry's own ping, and the token exchange works with it.
func TestRequireSchemeWithAuth(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithAuth("alice", "s3cret"))
	s := newStore(t, remote.WithRegistryConfig(reg.DockerConfigFile()))
	if err := s.RequireScheme(reg.Host, "http"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(t.Context(), mustRef(t, reg.Host+"/x/y:1")); !errors.Is(err, oci.ErrNotFound) {
		t.Fatalf("http:// against an auth registry: err = %v, want not found (after authenticating)", err)
	}
	s = newStore(t)
	if err := s.RequireScheme(reg.Host, "http"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(t.Context(), mustRef(t, reg.Host+"/x/y:1")); !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("http:// without credentials: err = %v, want unauthorized", err)
	}
}

func TestRequireSchemeConflict(t *testing.T) {
	s := newStore(t)
	if err := s.RequireScheme("127.0.0.1:5000", "http"); err != nil {
		t.Fatal(err)
	}
	if err := s.RequireScheme("127.0.0.1:5000", "http"); err != nil {
		t.Fatalf("same scheme twice: %v", err)
	}
	if err := s.RequireScheme("127.0.0.1:5000", "https"); !errors.Is(err, oci.ErrInvalidReference) {
		t.Fatalf("both schemes: err = %v, want ErrInvalidReference", err)
	}
}
