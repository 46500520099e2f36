package repository_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/fixture"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/repository"
)

// TestOpenBySpec opens every kind of specification ferry takes and lists
// the fixture release (three component versions) in each: CTF directories,
// tars and tgzs by path and with a type prefix, a registry path with a
// scheme, with a type prefix and guessed, and a split bundle by its first
// volume.
func TestOpenBySpec(t *testing.T) {
	ctx := t.Context()
	reg := registrytest.New(t)
	if _, err := release.Transfer(ctx, []string{fixture.OCM(t, "ctf-copied")}, "http://"+reg.Host+"/ocm", release.Options{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "release.tar")
	if _, err := release.CreateBundle(ctx, []string{fixture.OCM(t, "ctf-copied")}, file, release.Options{}, release.BundleOptions{VolumeSize: 16 << 10}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec                   string
		intermediate, isBundle bool
	}{
		{fixture.OCM(t, "ctf-dir"), true, false},
		{"ctf+directory::" + fixture.OCM(t, "ctf-dir"), true, false},
		{fixture.OCM(t, "ctf.tar"), true, false},
		{"ctf+tar::" + fixture.OCM(t, "ctf.tar"), true, false},
		{fixture.OCM(t, "ctf.tgz"), true, false},
		{"http://" + reg.Host + "/ocm", false, false},
		{"OCIRegistry::" + reg.Host + "/ocm", false, false},
		{reg.Host + "/ocm", false, false},
		{file + ".000", true, true},
	} {
		r, err := repository.Open(ctx, c.spec, repository.Options{})
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if r.Intermediate() != c.intermediate || (r.Bundle != nil) != c.isBundle {
			t.Errorf("%s: intermediate %v, bundle %v", c.spec, r.Intermediate(), r.Bundle != nil)
		}
		names := []component.Ref{{Component: "example.com/app"}, {Component: "example.com/podinfo"}}
		if vs, err := r.Expand(ctx, names); err != nil || len(vs) != 3 {
			t.Errorf("%s: versions %v, %v", c.spec, vs, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: closing: %v", c.spec, err)
		}
	}
}

// TestOpenErrors: a missing archive to read, plain HTTP off loopback, and
// a missing archive to write, which is created in the format its path or
// prefix names.
func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	if _, err := repository.Open(ctx, filepath.Join(dir, "nothing"), repository.Options{}); !errors.Is(err, repository.ErrNoArchive) {
		t.Errorf("a missing CTF: %v, want ErrNoArchive", err)
	}
	var pe *remote.PlainHTTPError
	if _, err := repository.Open(ctx, "http://registry.example.com/ocm", repository.Options{}); !errors.As(err, &pe) {
		t.Errorf("plain HTTP off loopback: %v, want a *remote.PlainHTTPError", err)
	}
	for _, c := range []struct{ spec, file string }{
		{filepath.Join(dir, "new-dir"), "new-dir/artifact-index.json"},
		{filepath.Join(dir, "new.tar"), "new.tar"},
		{"ctf+tar::" + filepath.Join(dir, "named"), "named"},
	} {
		r, err := repository.Open(ctx, c.spec, repository.Options{Write: true})
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, c.file)); err != nil || fi.IsDir() {
			t.Errorf("%s: %s was not written as a file: %v", c.spec, c.file, err)
		}
	}
}

// TestOpenPinsTheScheme: https:// to a plain-HTTP registry fails instead of
// falling back, http:// works, and one run cannot name a host both ways.
func TestOpenPinsTheScheme(t *testing.T) {
	ctx := t.Context()
	reg := registrytest.New(t)
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := repository.Open(ctx, "https://"+reg.Host+"/ocm", repository.Options{Registry: s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Components(ctx); err == nil {
		t.Error("https:// to a plain-HTTP registry answered")
	}
	if _, err := repository.Open(ctx, "http://"+reg.Host+"/ocm", repository.Options{Registry: s}); err == nil {
		t.Error("one client opened a host with both http:// and https://")
	}
	r, err = repository.Open(ctx, "http://"+reg.Host+"/ocm", repository.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Components(ctx); err != nil {
		t.Errorf("http:// to a plain-HTTP registry: %v", err)
	}
}
