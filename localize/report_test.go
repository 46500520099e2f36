package localize

import (
	"strings"
	"testing"
)

func TestCoverageSummary(t *testing.T) {
	if got := (Coverage{Checked: 2}).Summary(); got != "all name copies" {
		t.Errorf("Summary = %q", got)
	}
	c := Coverage{Unlocalized: []Finding{{Image: "a"}, {Image: "b"}}}
	if got := c.Summary(); got != "2 name no copy (allowed by --allow-unlocalized)" {
		t.Errorf("Summary = %q", got)
	}
}

func TestWriteFindings(t *testing.T) {
	var b strings.Builder
	if err := WriteFindings(&b, []Finding{{File: "d.yaml", Document: 1, Kind: "Deployment", Name: "web", Path: "spec.image", Image: "nginx"}}); err != nil {
		t.Fatal(err)
	}
	want := "FILE    DOC  KIND        NAME  PATH        IMAGE\nd.yaml  1    Deployment  web   spec.image  nginx\n"
	if b.String() != want {
		t.Errorf("WriteFindings:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRewritten(t *testing.T) {
	if n := Rewritten([]Change{{Old: "a", New: "b"}, {Old: "c", New: "c"}}); n != 1 {
		t.Errorf("Rewritten = %d, want 1", n)
	}
}
