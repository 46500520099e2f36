package release

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyAndInspectBundleHints(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "b.tar")
	_, err := VerifyBundle(context.Background(), missing, false, 1)
	if h := Hint(err, false, false); !strings.Contains(h, "there is no bundle "+missing) {
		t.Errorf("VerifyBundle of a missing file: %v, hint %q", err, h)
	}
	_, err = VerifyBundle(context.Background(), missing+".001", true, 1)
	if h := Hint(err, false, false); !strings.Contains(h, "keep the sidecar") {
		t.Errorf("VerifyBundle of a lone volume: %v, hint %q", err, h)
	}
	if _, err := InspectBundle(context.Background(), missing); !strings.Contains(Hint(err, false, false), "ferry bundle verify") {
		t.Errorf("InspectBundle of a missing file: %v", err)
	}
}
