package component

import "testing"

func TestParseScheme(t *testing.T) {
	for s, want := range map[string]Scheme{"": "", "v2": SchemeV2, "v3alpha1": SchemeV3Alpha1, "ocm.software/v3alpha1": SchemeV3Alpha1} {
		if got, err := ParseScheme(s); err != nil || got != want {
			t.Errorf("ParseScheme(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	if _, err := ParseScheme("v1"); err == nil || err.Error() != `"v1": want v2 or v3alpha1` {
		t.Errorf("ParseScheme(v1): %v", err)
	}
}
