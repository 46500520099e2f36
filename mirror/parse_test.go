package mirror

import (
	"errors"
	"slices"
	"testing"
)

func TestParseFormats(t *testing.T) {
	if fs, err := ParseFormats(nil); err != nil || !slices.Equal(fs, Formats) {
		t.Errorf("ParseFormats(nil) = %v, %v; want every format", fs, err)
	}
	if fs, err := ParseFormats([]string{"RKE2", "idms"}); err != nil || !slices.Equal(fs, []Format{RKE2, IDMS}) {
		t.Errorf("ParseFormats = %v, %v", fs, err)
	}
	if _, err := ParseFormats([]string{"crio", "docker"}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormats(docker): %v", err)
	}
}
