package transfer

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestOrderBy: a destination's blob order wins; blobs it does not list keep
// their order (largest first), after the others.
func TestOrderBy(t *testing.T) {
	h := func(s string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: s} }
	blobs := []*Blob{{Digest: h("a"), Size: 9}, {Digest: h("x"), Size: 8}, {Digest: h("b"), Size: 7}, {Digest: h("y"), Size: 6}, {Digest: h("c"), Size: 5}}
	orderBy(blobs, []v1.Hash{h("c"), h("zz"), h("a"), h("b")})
	var got []string
	for _, b := range blobs {
		got = append(got, b.Digest.Hex)
	}
	if want := []string{"c", "a", "b", "x", "y"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
