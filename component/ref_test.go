package component

import (
	"errors"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
	}{
		{"http://127.0.0.1:5055/ocm//example.com/podinfo:6.3.5",
			Ref{Repo{Kind: KindRegistry, Scheme: "http", Host: "127.0.0.1:5055", Path: "ocm"}, "example.com/podinfo", "6.3.5", ""}},
		{"ghcr.io/acme/releases//example.com/podinfo",
			Ref{Repo{Kind: KindRegistry, Host: "ghcr.io", Path: "acme/releases"}, "example.com/podinfo", "", ""}},
		{"reg.local:5000//example.com/app:1.0.0+build.7",
			Ref{Repo{Kind: KindRegistry, Host: "reg.local:5000"}, "example.com/app", "1.0.0+build.7", ""}},
		{"./ctf-dir//example.com/app:1.0.0",
			Ref{Repo{Kind: KindCTF, Path: "./ctf-dir"}, "example.com/app", "1.0.0", ""}},
		{"+ctf+tar::./x.tar//example.com/app:1.0.0",
			Ref{Repo{Prefix: "+ctf+tar", Kind: KindCTF, Create: true, Format: FormatTar, Path: "./x.tar"}, "example.com/app", "1.0.0", ""}},
		{"ctf+directory::dir//example.com/a/b",
			Ref{Repo{Prefix: "ctf+directory", Kind: KindCTF, Format: FormatDirectory, Path: "dir"}, "example.com/a/b", "", ""}},
		{"/abs/bundle.tgz//example.com/app:v2",
			Ref{Repo{Kind: KindCTF, Path: "/abs/bundle.tgz"}, "example.com/app", "v2", ""}},
		{"OCIRegistry::https://[::1]:5000/x//example.com/app:1",
			Ref{Repo{Prefix: "OCIRegistry", Kind: KindRegistry, Scheme: "https", Host: "[::1]:5000", Path: "x"}, "example.com/app", "1", ""}},
		{"ctf-dir//example.com/app",
			Ref{Repo{Kind: KindCTF, Path: "ctf-dir"}, "example.com/app", "", ""}},
		{"ghcr.io/acme//example.com/podinfo@~6.3",
			Ref{Repo{Kind: KindRegistry, Host: "ghcr.io", Path: "acme"}, "example.com/podinfo", "", "~6.3"}},
		{"./ctf//example.com/podinfo@>=6.0.0 <7",
			Ref{Repo{Kind: KindCTF, Path: "./ctf"}, "example.com/podinfo", "", ">=6.0.0 <7"}},
		{"http://127.0.0.1:5000/ocm//example.com/podinfo@latest",
			Ref{Repo{Kind: KindRegistry, Scheme: "http", Host: "127.0.0.1:5000", Path: "ocm"}, "example.com/podinfo", "", "latest"}},
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
		"ghcr.io/acme", "ghcr.io//Example.com/app", "ghcr.io//app", "x//example.com/app:not a version",
		"bogus::x//example.com/app", "ftp://h//example.com/app", "//example.com/app",
		"x//example.com/app@", "x//example.com/app@>>1", "x//example.com/app:1.0.0@~1", "x//example.com/app@~1:1.0.0",
		"x//example.com/app:latest", "x//example.com/app:~6.3",
	} {
		if _, err := ParseRef(in); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("ParseRef(%q) = %v, want ErrInvalidRef", in, err)
		}
	}
}

func TestRepoBase(t *testing.T) {
	r, err := ParseRepo("http://127.0.0.1:5000/air/gap")
	if err != nil {
		t.Fatal(err)
	}
	if r.Base() != "127.0.0.1:5000/air/gap" || !r.PlainHTTP() {
		t.Fatalf("got %q plain=%v", r.Base(), r.PlainHTTP())
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:5055/ocm//example.com/podinfo:6.3.5", "+ctf+tar::./x.tar//example.com/app:1.0.0",
		"ctf+directory::dir//example.com/a/b", "ghcr.io/acme//example.com/app", "./ctf//example.com/x:v1.2.3-rc.1+b.2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("%q: error %v is not ErrInvalidRef", s, err)
			}
			return
		}
		r2, err := ParseRef(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q: round trip gave %#v, %v; want %#v", s, r2, err, r)
		}
	})
}

func TestParseVersionRef(t *testing.T) {
	if ref, err := ParseVersionRef("./ctf//example.com/app:1.0"); err != nil || ref.Version != "1.0" {
		t.Errorf("ParseVersionRef = %+v, %v", ref, err)
	}
	if _, err := ParseVersionRef("./ctf//example.com/app"); err == nil || err.Error() != "./ctf//example.com/app: name a version (REPO//NAME:VERSION)" {
		t.Errorf("a reference without a version: %v", err)
	}
}
