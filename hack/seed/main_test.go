package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
)

func TestSeed(t *testing.T) {
	reg := registrytest.New(t)
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"-registry", reg.Host, "-prefix", "src/", "-sample", "-corpus", "1MiB", "-seed", "5"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	set := append(testimage.Sample(), testimage.Corpus(5, 1<<20)...)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(set) {
		t.Fatalf("printed %d lines, want %d:\n%s", len(lines), len(set), out.String())
	}
	store, err := newStore(false)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range set {
		d, err := n.Artifact.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		want := reg.Host + "/src/" + n.String() + "@" + d.Digest.String()
		if lines[i] != want {
			t.Errorf("line %d: %q, want %q", i, lines[i], want)
		}
		ref, err := oci.ParseRef(reg.Host + "/src/" + n.String())
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.Resolve(context.Background(), ref)
		if err != nil || got.Digest != d.Digest {
			t.Errorf("resolving %s: %v, %v; want %s", ref, got.Digest, err, d.Digest)
		}
	}
}

func TestSeedUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-sample"},
		{"-registry", "127.0.0.1:1"},
		{"-registry", "127.0.0.1:1/x", "-sample"},
		{"-registry", "127.0.0.1:1", "-corpus", "huge"},
		{"-registry", "127.0.0.1:1", "-sample", "extra"},
		{"-no-such-flag"},
	} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errs.String())
		}
	}
}
