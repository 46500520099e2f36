package release

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/repository"
)

func TestLocalizeVersionNeedsAVersion(t *testing.T) {
	ref, err := component.ParseRef("testdata/podinfo-ctf//example.com/podinfo")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LocalizeVersion(context.Background(), ref, LocalizeOptions{}, repository.Options{})
	if !IsUsage(err) || !strings.Contains(err.Error(), "name a version (REPO//NAME:VERSION)") {
		t.Errorf("LocalizeVersion without a version: %v", err)
	}
}

func TestDownloadResource(t *testing.T) {
	if _, err := DownloadResource(context.Background(), component.Ref{}, "r", "", repository.Options{}); !IsUsage(err) {
		t.Errorf("DownloadResource without a path: %v, want a usage error", err)
	}
	var b strings.Builder
	d := &DownloadedResource{"a:1 resource r", "r.tgz", "blob", 2048}
	if err := d.WriteTable(&b); err != nil || b.String() != "downloaded a:1 resource r to r.tgz as blob: 2.0 KiB (verified)\n" {
		t.Errorf("WriteTable = %q, %v", b.String(), err)
	}
}
