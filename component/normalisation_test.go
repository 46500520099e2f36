package component

import "testing"

func TestParseNormalisation(t *testing.T) {
	for _, s := range []string{"", JSONNormalisationV1, JSONNormalisationV3, JSONNormalisationV4Alpha1} {
		if got, err := ParseNormalisation(s); err != nil || got != s {
			t.Errorf("ParseNormalisation(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseNormalisation("jsonNormalisation/v9"); err == nil {
		t.Error("an unknown normalisation was accepted")
	}
}
