package oci

import (
	"errors"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"testing"
)

func TestParseRef(t *testing.T) {
	d := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		in   string
		want Ref
	}{
		{"ghcr.io/stefanprodan/podinfo:6.3.5", Ref{Registry: "ghcr.io", Repository: "stefanprodan/podinfo", Tag: "6.3.5"}},
		{"127.0.0.1:5000/air/podinfo@" + d, Ref{Registry: "127.0.0.1:5000", Repository: "air/podinfo", Digest: mustHash(d)}},
		{"localhost/a:b@" + d, Ref{Registry: "localhost", Repository: "a", Tag: "b", Digest: mustHash(d)}},
		{"[::1]:5000/x/y:1", Ref{Registry: "[::1]:5000", Repository: "x/y", Tag: "1"}},
		{"stefanprodan/podinfo:6.3.5", Ref{Repository: "stefanprodan/podinfo", Tag: "6.3.5"}},
		{"nginx", Ref{Repository: "nginx"}},
		{"reg.local:5000/component-descriptors/example.com/podinfo:6.3.5.build-1", Ref{Registry: "reg.local:5000", Repository: "component-descriptors/example.com/podinfo", Tag: "6.3.5.build-1"}},
	}
	for _, tc := range tests {
		got, err := ParseRef(tc.in)
		if err != nil {
			t.Errorf("ParseRef(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseRef(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParseRef(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestParseRefErrors(t *testing.T) {
	for _, in := range []string{
		"", "UPPER/case", "reg.local/", "reg.local/a:", "a@sha256:short", "a:tag with space",
		"reg.local/a//b", "-lead/x", "reg.local/a:" + string(make([]byte, 200)),
	} {
		if _, err := ParseRef(in); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("ParseRef(%q) = %v, want ErrInvalidReference", in, err)
		}
	}
}

func TestWithDefaultRegistry(t *testing.T) {
	r, _ := ParseRef("nginx:1.25")
	if got := r.WithDefaultRegistry().String(); got != "docker.io/library/nginx:1.25" {
		t.Errorf("got %s", got)
	}
	r, _ = ParseRef("ghcr.io/x:1")
	if got := r.WithDefaultRegistry().String(); got != "ghcr.io/x:1" {
		t.Errorf("got %s", got)
	}
}

func mustHash(s string) v1.Hash {
	r, err := ParseRef("x@" + s)
	if err != nil {
		panic(err)
	}
	return r.Digest
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"lab.local:5000/acme/api:1.4", "ghcr.io/stefanprodan/podinfo:6.3.5", "nginx",
		"[::1]:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"localhost:5000", "a/b/c:d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidReference) {
				t.Fatalf("%q: error %v is not ErrInvalidReference", s, err)
			}
			return
		}
		r2, err := ParseRef(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q: round trip gave %#v, %v; want %#v", s, r2, err, r)
		}
	})
}
