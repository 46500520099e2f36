package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/exitcode"
	"github.com/ferry-oci/ferry/oci"
)

// errDrift stands for a sentinel another package declares by wrapping a kind.
var errDrift = fmt.Errorf("target tag moved: %w", exitcode.Drift)

type damage struct{}

func (damage) Error() string        { return "volume 2 truncated" }
func (damage) Is(target error) bool { return target == exitcode.Damaged }

func TestCode(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", base, 1},
		{"usage", exitcode.Mark(base, exitcode.Usage), 2},
		{"wrapped usage", fmt.Errorf("parsing: %w", exitcode.Mark(base, exitcode.Usage)), 2},
		{"drift sentinel", fmt.Errorf("promoting: %w", errDrift), 3},
		{"damage type", fmt.Errorf("verifying: %w", damage{}), 4},
		{"digest mismatch", fmt.Errorf("fetch: %w", oci.ErrDigestMismatch), 4},
		{"size mismatch", fmt.Errorf("fetch: %w", oci.ErrSizeMismatch), 4},
		{"cancelled", fmt.Errorf("copying: %w", context.Canceled), 130},
		{"interrupted wins", exitcode.Mark(fmt.Errorf("%w", oci.ErrDigestMismatch), exitcode.Interrupted), 130},
	} {
		if got := exitcode.Code(tc.err); got != tc.want {
			t.Errorf("%s: Code = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMarkKeepsMessageAndChain(t *testing.T) {
	err := exitcode.Mark(fmt.Errorf("a: %w", oci.ErrNotFound), exitcode.Usage)
	if err.Error() != "a: not found" {
		t.Errorf("message = %q", err)
	}
	if !errors.Is(err, oci.ErrNotFound) || !errors.Is(err, exitcode.Usage) || errors.Is(err, exitcode.Drift) {
		t.Error("chain lost or wrong kind matched")
	}
	if exitcode.Mark(nil, exitcode.Usage) != nil {
		t.Error("Mark(nil) is not nil")
	}
}

func TestTableCodesAreDistinct(t *testing.T) {
	seen := map[int]bool{}
	for _, k := range exitcode.Table {
		if seen[k.Code] || k.Name == "" || k.Meaning == "" {
			t.Errorf("kind %+v: duplicate code or empty text", k)
		}
		seen[k.Code] = true
	}
}

// TestDocumented: the README and the getting-started guide list every kind
// with its code and name, as rows of a Markdown table.
func TestDocumented(t *testing.T) {
	for _, file := range []string{"../../README.md", "../../docs/getting-started.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range exitcode.Table {
			row := fmt.Sprintf("| %d | %s |", k.Code, k.Name)
			if !strings.Contains(string(b), row) {
				t.Errorf("%s has no row %q", file, row)
			}
		}
	}
}
