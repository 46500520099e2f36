package release

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/repository"
)

func TestListVersions(t *testing.T) {
	l, err := ListVersions(context.Background(), "testdata/podinfo-ctf", component.SchemeV3Alpha1, repository.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Descriptors) == 0 || l.Descriptors[0].Scheme != component.SchemeV3Alpha1 {
		t.Fatalf("ListVersions: %d descriptors, not converted", len(l.Descriptors))
	}
	var b strings.Builder
	if err := l.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "COMPONENT") || !strings.Contains(b.String(), l.Descriptors[0].Name) {
		t.Errorf("WriteTable:\n%s", b.String())
	}
	if _, err := ListVersions(context.Background(), "//", "", repository.Options{}); !IsUsage(err) {
		t.Errorf("a malformed spec: %v, want a usage error", err)
	}
}

func TestListResources(t *testing.T) {
	l, err := ListResources(context.Background(), "testdata/podinfo-ctf", false, repository.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(l)
	if err != nil || !strings.HasPrefix(string(b), "[") {
		t.Errorf("without charts the list is the rows: %.40s, %v", b, err)
	}
	l.WithCharts = true
	if b, err = json.Marshal(l); err != nil || !strings.HasPrefix(string(b), `{"resources":[`) {
		t.Errorf("with charts the list is an object: %.40s, %v", b, err)
	}
	var s strings.Builder
	if err := l.WriteTable(&s); err != nil || !strings.HasPrefix(s.String(), "NAME") || !strings.Contains(s.String(), "CHART") {
		t.Errorf("WriteTable:\n%s", s.String())
	}
}

func TestVersionListWrite(t *testing.T) {
	l, err := ListVersions(context.Background(), "testdata/podinfo-ctf", "", repository.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var js, table strings.Builder
	if err := l.Write(&js, "json"); err != nil || !json.Valid([]byte(js.String())) || !strings.Contains(js.String(), `"items"`) {
		t.Errorf("Write json: %v\n%.60s", err, js.String())
	}
	if err := l.Write(&table, "table"); err != nil || !strings.HasPrefix(table.String(), "COMPONENT") {
		t.Errorf("Write table: %v\n%s", err, table.String())
	}
}
