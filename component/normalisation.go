package component

import "fmt"

// ParseNormalisation checks a descriptor normalisation's name:
// JSONNormalisationV1, V2, V3 or V4Alpha1, or "" (the default SignOptions
// pick).
func ParseNormalisation(s string) (string, error) {
	switch s {
	case "", JSONNormalisationV1, JSONNormalisationV2, JSONNormalisationV3, JSONNormalisationV4Alpha1:
		return s, nil
	}
	return "", fmt.Errorf("%q: want %s, %s, %s or %s", s, JSONNormalisationV1, JSONNormalisationV2, JSONNormalisationV3, JSONNormalisationV4Alpha1)
}
