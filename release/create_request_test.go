package release

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/mirror"
)

func TestCreateRequestParse(t *testing.T) {
	r := CreateRequest{Assignments: []string{"VERSION=1.2.0", "EMPTY="}, SchemeName: "v3alpha1", CreationTime: "2024-01-02T03:04:05Z"}
	co, err := r.Parse([]string{"VERSION=0.1", "HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	if co.Vars["VERSION"] != "1.2.0" || co.Vars["HOME"] != "/root" || co.Scheme != component.SchemeV3Alpha1 || co.Now().Year() != 2024 {
		t.Errorf("Parse = %+v", co)
	}
	for _, bad := range []CreateRequest{{SchemeName: "v2", Assignments: []string{"=x"}}, {SchemeName: ""}, {SchemeName: "v2", CreationTime: "now"}} {
		if _, err := bad.Parse(nil); !IsUsage(err) {
			t.Errorf("%+v: %v, want a usage error", bad, err)
		}
	}
	_, err = CreateFromFile(context.Background(), CreateRequest{CreateOptions: CreateOptions{File: filepath.Join(t.TempDir(), "none")}}, nil)
	if !IsUsage(err) || !strings.HasPrefix(err.Error(), "reading the constructor: ") {
		t.Errorf("a missing constructor: %v", err)
	}
}

func TestResultTables(t *testing.T) {
	var b strings.Builder
	if err := (&MirrorResult{Pairs: []mirror.Pair{{Source: "ghcr.io/a", Mirror: "r.local/air/a"}}, Files: []string{"x", "y"}}).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if want := "SOURCE     MIRROR\nghcr.io/a  r.local/air/a\n\nwrote x, y\n"; b.String() != want {
		t.Errorf("MirrorResult.WriteTable = %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := (CreatedVersions{{Component: "c", Version: "1", Target: "t", State: "written"}}).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "COMPONENT  VERSION  DIGEST") || !strings.Contains(b.String(), "written") {
		t.Errorf("CreatedVersions.WriteTable:\n%s", b.String())
	}
}
