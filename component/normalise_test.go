package component

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The eight expectations of spec/ocm/fixtures/INDEX.md (normalisation/).
func TestNormaliseFixtures(t *testing.T) {
	tests := []struct {
		dir, algo, file, digest string
	}{
		{"ocmcli-0.27.0-jsonNormalisation-v3", JSONNormalisationV3, "expected.json", "c97c44a4dca9fc85d4e634a617b662f72935cc202d52a46aa9367c937458b35b"},
		{"ocm-norm_test-cd1", JSONNormalisationV1, "expected.jsonNormalisation-v1.txt", "60656e9a2301f21f6f2b6d61e68541f4b3fc0d352ceed26245f948594452622c"},
		{"ocm-norm_test-cd1", JSONNormalisationV2, "expected.jsonNormalisation-v2.json", "2f8f029e45f0e158b7e9a5fa6523be0ae9ab9eadc6f3c7f2e37ebb6d8e79bb01"},
		{"ocm-norm_test-cd1", JSONNormalisationV3, "expected.jsonNormalisation-v3.json", "2f8f029e45f0e158b7e9a5fa6523be0ae9ab9eadc6f3c7f2e37ebb6d8e79bb01"},
		{"ocm-norm_test-provider-labels", JSONNormalisationV1, "expected.jsonNormalisation-v1.txt", "51c2957210074a282b62e95c997fef8a07279acb85a6e03ec8bfee00726bb0ca"},
		{"ocm-norm_test-provider-labels", JSONNormalisationV2, "expected.jsonNormalisation-v2.json", "929988755c6257f5f4a4d3d146d4013070e79030b27c2d3ca1f060232034ad86"},
		{"ocm-norm_test-provider-labels", JSONNormalisationV3, "expected.jsonNormalisation-v3.json", "929988755c6257f5f4a4d3d146d4013070e79030b27c2d3ca1f060232034ad86"},
		{"ocm-norm_test-duplicate-resource", JSONNormalisationV1, "expected.jsonNormalisation-v1.txt", "1aba27b657bd46d0c59bc6e29d85ffa3af9a7dc6ab6858058fe60851c5ecd49a"},
		{"ocm-norm_test-duplicate-resource", JSONNormalisationV2, "expected.jsonNormalisation-v2.json", "9bbfceab2aeef7f62f64bf5d9a7d0b3f083c571114f9af156a0306b07669cd75"},
		{"ocm-norm_test-duplicate-resource", JSONNormalisationV3, "expected.jsonNormalisation-v3.json", "460b948cb95b702e831d7e1d54590d6229b572c0fbe5123a6b35ddbb23d3e883"},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.algo, func(t *testing.T) {
			d := decodeFile(t, "normalisation/"+tt.dir+"/input.yaml")
			want := readFile(t, "normalisation/"+tt.dir+"/"+tt.file)
			got, err := Normalise(d, tt.algo)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Normalise:\n got %s\nwant %s", got, want)
			}
			dg, err := DescriptorDigest(d, tt.algo, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := (DigestSpec{"SHA-256", tt.algo, tt.digest}); dg != want {
				t.Errorf("DescriptorDigest = %v, want %v", dg, want)
			}
		})
	}
}

// The sigstore fixture was signed by the OCM v1 CLI; its digest includes
// creationTime.
func TestDigestSigstoreFixture(t *testing.T) {
	d := decodeFile(t, "signing/sigstore-signed-jsonNormalisation-v3/component-descriptor-signed.yaml")
	dg, err := DescriptorDigest(d, JSONNormalisationV3, 0)
	if err != nil {
		t.Fatal(err)
	}
	const want = "20d12fdfaf1f57c970d63608db4eaeaab934527ab19caac9b4518502d31c5d72"
	if dg.Value != want {
		t.Errorf("digest %s, want %s", dg.Value, want)
	}
	for _, s := range d.Signatures {
		if s.Digest.Value != want {
			t.Errorf("signature %s carries %s", s.Name, s.Digest.Value)
		}
	}
}

// `ocm hash cv -o wide` outputs: HASH and NORMALIZED FORM lines.
func TestHashOutputs(t *testing.T) {
	tests := []struct{ output, descriptor string }{
		{"c-hash-podinfo-6.3.5-jsonNormalisation-v1.txt", "podinfo-6.3.5.v2.yaml"},
		{"c-hash-podinfo-6.3.5-jsonNormalisation-v2.txt", "podinfo-6.3.5.v2.yaml"},
		{"c-hash-podinfo-6.3.5-jsonNormalisation-v3.txt", "podinfo-6.3.5.v2.yaml"},
		{"c-hash-app-1.0.0-jsonNormalisation-v3.txt", "app-1.0.0.signed.v2.yaml"},
	}
	re := regexp.MustCompile(`(?m)^HASH +: (\S+)\nNORMALIZED FORM: (.*)$`)
	algoRE := regexp.MustCompile(`jsonNormalisation-v\d`)
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			m := re.FindSubmatch(readFile(t, "outputs/"+tt.output))
			if m == nil {
				t.Fatal("no HASH / NORMALIZED FORM in output")
			}
			algo := strings.Replace(algoRE.FindString(tt.output), "-", "/", 1)
			d := decodeFile(t, "descriptors/"+tt.descriptor)
			got, err := Normalise(d, algo)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, m[2]) {
				t.Errorf("Normalise:\n got %s\nwant %s", got, m[2])
			}
			sum := sha256.Sum256(got)
			if hex.EncodeToString(sum[:]) != string(m[1]) {
				t.Errorf("hash %x, want %s", sum, m[1])
			}
		})
	}
}

// descriptors/*.normalized.*.json are `ocm hash cv -o norm` files.
func TestNormalisedFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/descriptors/*.normalized.*.json")
	if len(files) < 3 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			comp, rest, _ := strings.Cut(name, ".normalized.")
			algo := strings.Replace(strings.TrimSuffix(rest, ".json"), "-", "/", 1)
			src := "descriptors/" + comp + ".v2.yaml"
			if comp == "app-1.0.0" {
				src = "descriptors/app-1.0.0.signed.v2.yaml" // hashed after signing filled the reference digest
			}
			got, err := Normalise(decodeFile(t, src), algo)
			if err != nil {
				t.Fatal(err)
			}
			if want := readFile(t, "descriptors/"+name); !bytes.Equal(got, want) {
				t.Errorf("Normalise:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// Normalisation does not depend on the scheme for v2/v3, and v3alpha1
// descriptors normalise as v2 ones do.
func TestNormaliseSchemeIndependent(t *testing.T) {
	v2 := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	v3 := decodeFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml")
	for _, algo := range []string{JSONNormalisationV2, JSONNormalisationV3, JSONNormalisationV4Alpha1} {
		a, _ := DescriptorDigest(v2, algo, 0)
		b, _ := DescriptorDigest(v3, algo, 0)
		if a.Value != b.Value || a.Value != "2917b26d0a0995811c633683043a225366957396e9eaf8e31749bf0c9416b1de" {
			t.Errorf("%s: v2 %s, v3alpha1 %s", algo, a.Value, b.Value)
		}
	}
	if _, err := Normalise(v2, "jsonNormalisation/v9"); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

func TestESNumber(t *testing.T) {
	tests := map[float64]string{
		0: "0", 1: "1", -1.5: "-1.5", 1e21: "1e+21", 1e20: "100000000000000000000",
		1e-7: "1e-7", 0.000001: "0.000001", 123.456: "123.456", 5e-324: "5e-324",
		1.7976931348623157e308: "1.7976931348623157e+308",
	}
	for f, want := range tests {
		if got, _ := esNumber(f); got != want {
			t.Errorf("esNumber(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestJCSStrings(t *testing.T) {
	got, err := jcs(map[string]any{"b": "\u20ac$\u000f\nA'B\"\\\\\"/", "a": "<&>", "\u00e9": 1.0, "\U0001F600": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"<&>","b":"€$\u000f\nA'B\"\\\\\"/","é":1,"😀":true}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
