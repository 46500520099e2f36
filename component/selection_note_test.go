package component

import (
	"strings"
	"testing"
)

func TestSelectionDescribe(t *testing.T) {
	s := Selection{Component: "example.com/app", Constraint: "~1.2", Version: "1.2.3", Matching: []string{"1.2.0", "1.2.3"}, Ignored: []string{"latest"}}
	var b strings.Builder
	s.Describe(&b)
	want := "note: example.com/app: ignored tag(s) that are no semantic version: latest\n" +
		"selected example.com/app:1.2.3 for \"~1.2\" (matching: 1.2.0, 1.2.3)\n"
	if b.String() != want {
		t.Errorf("Describe =\n%s\nwant\n%s", b.String(), want)
	}
	o := s
	o.Matching = nil
	if !s.Same(o) {
		t.Error("the same choice is not Same")
	}
	o.Version = "1.2.0"
	if s.Same(o) {
		t.Error("another version is Same")
	}
}
