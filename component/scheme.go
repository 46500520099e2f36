package component

import "fmt"

// ParseScheme reads a descriptor schema as users name it: "v2", or
// "v3alpha1" (also as "ocm.software/v3alpha1"); "" stays "" (no schema
// asked for).
func ParseScheme(s string) (Scheme, error) {
	switch s {
	case "":
		return "", nil
	case "v2":
		return SchemeV2, nil
	case "v3alpha1", string(SchemeV3Alpha1):
		return SchemeV3Alpha1, nil
	}
	return "", fmt.Errorf("%q: want v2 or v3alpha1", s)
}
