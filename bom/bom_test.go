package bom

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
)

func hash(s string) v1.Hash {
	sum := sha256.Sum256([]byte(s))
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func digest(v string) component.DigestSpec {
	return component.DigestSpec{HashAlgorithm: "SHA-256", NormalisationAlgorithm: component.JSONNormalisationV3, Value: v}
}

// TestSortIsCanonical: the same crossing listed in any order gives the same
// bytes once sorted.
func TestSortIsCanonical(t *testing.T) {
	mk := func(order []int) []byte {
		comps := []Component{
			{Name: "example.com/b", Version: "1.0.0", Digest: digest("b"), Manifest: hash("mb"),
				Resources:  []Resource{{Name: "z"}, {Name: "a"}},
				Signatures: []Signature{{Kind: KindOCM, Name: "y"}, {Kind: KindOCM, Name: "x"}}},
			{Name: "example.com/a", Version: "2.0.0", Digest: digest("a2"), Manifest: hash("ma2")},
			{Name: "example.com/a", Version: "1.0.0", Digest: digest("a1"), Manifest: hash("ma1")},
		}
		imgs := []Image{{Target: "r/b", Digest: hash("b")}, {Target: "r/a", Digest: hash("a2")}, {Target: "r/a", Digest: hash("a1")}}
		b := &BOM{MediaType: MediaType}
		for _, i := range order {
			b.Components = append(b.Components, comps[i])
			b.Images = append(b.Images, imgs[i])
		}
		b.Sort()
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(b)
		return out
	}
	first := mk([]int{0, 1, 2})
	if second := mk([]int{2, 0, 1}); string(first) != string(second) {
		t.Errorf("two orders give\n%s\n%s", first, second)
	}
	var b BOM
	if err := json.Unmarshal(first, &b); err != nil {
		t.Fatal(err)
	}
	if b.Components[0].Name != "example.com/a" || b.Components[0].Version != "1.0.0" || b.Components[2].Resources[0].Name != "a" ||
		b.Components[2].Signatures[0].Name != "x" || b.Images[0].Target != "r/a" {
		t.Errorf("not sorted: %s", first)
	}
}

func TestValidate(t *testing.T) {
	for name, b := range map[string]BOM{
		"media type":   {MediaType: "application/json"},
		"no version":   {MediaType: MediaType, Components: []Component{{Name: "a", Digest: component.DigestSpec{Value: "x"}}}},
		"no digest":    {MediaType: MediaType, Components: []Component{{Name: "a", Version: "1"}}},
		"image target": {MediaType: MediaType, Images: []Image{{Digest: hash("x")}}},
		"image digest": {MediaType: MediaType, Images: []Image{{Target: "r/a"}}},
	} {
		if err := b.Validate(); err == nil || !strings.Contains(err.Error(), "bill of materials") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestKeyID: the fingerprint is the SHA-256 of the key's PKIX form, the
// same for the key however it is held.
func TestKeyID(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sum := sha256.Sum256(der)
	if got, want := KeyID(&k.PublicKey), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("KeyID = %s, want %s", got, want)
	}
	if KeyID(k.Public()) != KeyID(&k.PublicKey) {
		t.Error("the same key gives two fingerprints")
	}
	if KeyID("not a key") != "" {
		t.Error("a value that is no key has a fingerprint")
	}
}
