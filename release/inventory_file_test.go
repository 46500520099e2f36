package release

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/repository"
)

func TestCheckInventorySources(t *testing.T) {
	if err := CheckInventorySources([]string{"r.local/air//example.com/app", "./ctf//a:1"}); err != nil {
		t.Errorf("named components refused: %v", err)
	}
	for _, bad := range []string{"r.local/air", "r.local/air//"} {
		if err := CheckInventorySources([]string{bad}); !IsUsage(err) || !strings.Contains(err.Error(), "name the components") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestWriteInventory(t *testing.T) {
	l, err := ListVersions(context.Background(), "testdata/podinfo-ctf", "", repository.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := "testdata/podinfo-ctf//" + l.Descriptors[0].Name
	var out strings.Builder
	if err := WriteInventory(context.Background(), []string{src}, "", &out, repository.Options{}); err != nil || !json.Valid([]byte(out.String())) {
		t.Fatalf("WriteInventory to w: %v\n%.80s", err, out.String())
	}
	file := filepath.Join(t.TempDir(), "inv.json")
	if err := WriteInventory(context.Background(), []string{src}, file, nil, repository.Options{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != out.String() {
		t.Errorf("the file differs from what w got: %v", err)
	}
}
