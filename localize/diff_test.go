package localize

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	new := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\nm\nn\n"
	want := `--- a/f.yaml
+++ b/f.yaml
@@ -1,5 +1,5 @@
 a
-b
+B
 c
 d
 e
@@ -9,5 +9,6 @@
 i
 j
 k
-l
+L
 m
+n
`
	if got := Diff("f.yaml", []byte(old), []byte(new)); got != want {
		t.Errorf("got\n%s", got)
	}
	if Diff("x", []byte(old), []byte(old)) != "" {
		t.Error("equal files gave a diff")
	}
}

// TestDiffMatchesDiffU compares with the system's `diff -u` on the golden
// cases, when there is one.
func TestDiffMatchesDiffU(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("no diff")
	}
	for _, c := range []string{"multidoc/input/manifests/all.yaml", "deployment/input/deployment.yaml", "helm-values/input/chart/values.yaml"} {
		in := filepath.Join("testdata", c)
		out := strings.Replace(in, "/input/", "/want/", 1)
		a, _ := os.ReadFile(in)
		b, _ := os.ReadFile(out)
		cmd := exec.Command("diff", "-u", "--label", "a/x", "--label", "b/x", in, out)
		want, _ := cmd.Output()
		if got := Diff("x", a, b); got != string(want) {
			t.Errorf("%s: got\n%s\nwant\n%s", c, got, want)
		}
	}
}
