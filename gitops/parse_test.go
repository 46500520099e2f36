package gitops

import (
	"testing"
	"time"
)

func TestParseFormat(t *testing.T) {
	for s, want := range map[string]Format{"": FormatOCI, "oci": FormatOCI, "flux": FormatFlux} {
		if f, err := ParseFormat(s); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", s, f, err, want)
		}
	}
	if _, err := ParseFormat("docker"); err == nil || err.Error() != `"docker": want oci or flux` {
		t.Errorf("ParseFormat(docker): %v", err)
	}
}

func TestParseCreated(t *testing.T) {
	if c, err := ParseCreated(""); err != nil || !c.IsZero() {
		t.Errorf("ParseCreated(\"\") = %v, %v; want the zero time", c, err)
	}
	c, err := ParseCreated("2024-01-02T03:04:05Z")
	if err != nil || !c.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("ParseCreated = %v, %v", c, err)
	}
	if _, err := ParseCreated("yesterday"); err == nil {
		t.Error("ParseCreated(yesterday) did not fail")
	}
}
