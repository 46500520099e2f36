package gitops

import (
	"fmt"
	"time"
)

// ParseFormat reads a format as users name it: "oci" (or "") for FormatOCI,
// "flux" for FormatFlux.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "oci", "":
		return FormatOCI, nil
	case "flux":
		return FormatFlux, nil
	}
	return "", fmt.Errorf("%q: want oci or flux", s)
}

// ParseCreated reads a creation time in RFC 3339; "" is the zero time,
// which Build takes as Created (the epoch).
func ParseCreated(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339", s)
	}
	return t, nil
}
