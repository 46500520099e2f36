package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// block is a fenced shell block of a Markdown file.
type block struct {
	file string
	line int
	text string
}

// shellBlocks returns the ```sh blocks of a Markdown file.
func shellBlocks(t *testing.T, path string) []block {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	for i, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && (trimmed == "```sh" || trimmed == "```bash" || trimmed == "```shell"):
			cur = &block{file: path, line: i + 1}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

// TestDocs runs every shell block of the README and docs/ that is not
// marked "# illustrative" on its first line, against two registries with
// the sample release published: $FERRY, $PUBLIC, $PRIVATE, $WORK (the
// working directory) and $SAMPLE (testdata/podinfo).
func TestDocs(t *testing.T) {
	files, _ := filepath.Glob("../docs/*.md")
	files = append([]string{"../README.md"}, files...)
	var blocks []block
	for _, f := range files {
		for _, b := range shellBlocks(t, f) {
			if strings.HasPrefix(strings.TrimSpace(b.text), "# illustrative") {
				continue
			}
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		t.Skip("no tested blocks")
	}
	w := newWorld(t)
	for _, b := range blocks {
		t.Run(filepath.Base(b.file)+":"+itoa(b.line), func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), "bash", "-euo", "pipefail", "-c", b.text)
			cmd.Dir = w.work
			cmd.Env = append(os.Environ(), reproducible, "FERRY="+w.ferry, "PUBLIC="+w.public.Host, "PRIVATE="+w.private.Host,
				"WORK="+w.work, "SAMPLE="+w.sample, "PATH="+filepath.Dir(w.ferry)+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s:%d: %v\n--- block\n%s--- output\n%s", b.file, b.line, err, b.text, out)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
