package component

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimalV2 = `meta:
  schemaVersion: v2
component:
  name: example.com/x
  version: 1.0.0
  provider: acme
  repositoryContexts: []
  sources: []
  componentReferences: []
  resources:
  - {name: r1, version: 1.0.0, type: blob, relation: local, access: {type: localBlob, localReference: "sha256:00", mediaType: text/plain}}
`

func TestDecodeDetectsScheme(t *testing.T) {
	d := decodeFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml")
	if d.Scheme != SchemeV3Alpha1 || d.Name != "example.com/podinfo" || d.Provider.Name != "example.com" || len(d.Resources) != 3 {
		t.Fatalf("%+v", d)
	}
	if want := time.Date(2026, 11, 21, 4, 54, 13, 0, time.UTC); !d.CreationTime.Equal(want) {
		t.Errorf("creationTime %v", d.CreationTime)
	}
	if d.Sources == nil || d.References == nil {
		t.Error("defaults: nil lists")
	}
	a, err := d.Resources[2].Access.OCIArtifact()
	if err != nil || a.ImageReference != "127.0.0.1:5055/stefanprodan/podinfo:6.3.5" {
		t.Errorf("OCIArtifact() = %+v, %v", a, err)
	}
	lb, err := d.Resources[0].Access.LocalBlob()
	if err != nil || lb.MediaType != "application/x-yaml" || !strings.HasPrefix(lb.LocalReference, "sha256:01be") {
		t.Errorf("LocalBlob() = %+v, %v", lb, err)
	}
	if _, err := d.Resources[0].Access.OCIArtifact(); err == nil {
		t.Error("a localBlob read as ociArtifact")
	}
	if d2 := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml"); d2.Scheme != SchemeV2 {
		t.Errorf("scheme %q", d2.Scheme)
	}
}

func TestDecodeSchemeErrors(t *testing.T) {
	tests := map[string]string{
		"both":     "meta: {schemaVersion: v2}\napiVersion: ocm.software/v3alpha1\n",
		"neither":  "component: {name: example.com/x}\n",
		"v3":       "meta: {schemaVersion: v3}\n",
		"gardener": "apiVersion: ocm.gardener.cloud/v3alpha1\nkind: ComponentVersion\n",
		"list":     "- a\n- b\n",
		"scalar":   "hello\n",
	}
	for name, in := range tests {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrUnsupportedScheme) {
			t.Errorf("%s: %v, want ErrUnsupportedScheme", name, err)
		}
	}
	if _, err := Decode(nil); err == nil {
		t.Error("empty input accepted")
	}
}

// Every validation problem names its field and the rule.
func TestDecodeValidationErrors(t *testing.T) {
	tests := []struct {
		name, from, to string
		path           string
		rule           string
	}{
		{"name pattern", "name: example.com/x", "name: Example.com/x", "component.name", "pattern"},
		{"missing provider", "  provider: acme\n", "", "component.provider", "missing"},
		{"empty provider", "provider: acme", `provider: ""`, "component.provider", "provider must be set"},
		{"resource name", "{name: r1,", "{name: R_1,", "component.resources[0].name", "pattern"},
		{"relation", "relation: local", "relation: inside", "component.resources[0].relation", "local"},
		{"version", "version: 1.0.0, type", "version: 1.0.0.0, type", "component.resources[0].version", "pattern"},
		{"extraIdentity name", "type: blob,", "type: blob, extraIdentity: {name: x},", "component.resources[0].extraIdentity.name", `must not contain "name"`},
		{"extraIdentity key", "type: blob,", "type: blob, extraIdentity: {Os: x},", "component.resources[0].extraIdentity.Os", "pattern"},
		{"access type", "access: {type: localBlob,", "access: {", "component.resources[0].access.type", "missing"},
		{"unquoted number", "version: 1.0.0\n  provider", "version: 1.0\n  provider", "component.version", "string"},
		{"creationTime", "provider: acme", "provider: acme\n  creationTime: yesterday", "component.creationTime", "date-time"},
		{"label names", "provider: acme", "provider: acme\n  labels: [{name: a, value: 1}, {name: a, value: 2}]", "component.labels[1].name", "duplicate label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(minimalV2, tt.from, tt.to, 1)
			if in == minimalV2 {
				t.Fatalf("test does not change the input")
			}
			_, err := Decode([]byte(in))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode: %v, want ErrInvalid", err)
			}
			var l ValidationErrors
			if !errors.As(err, &l) {
				t.Fatalf("not ValidationErrors: %T %v", err, err)
			}
			for _, e := range l {
				if e.Path == tt.path && strings.Contains(e.Rule, tt.rule) {
					return
				}
			}
			t.Errorf("no error at %s about %q in %v", tt.path, tt.rule, err)
		})
	}
}

func TestDecodeDuplicateIdentity(t *testing.T) {
	dup := strings.Replace(minimalV2, "  resources:\n", "  resources:\n  - {name: r1, version: 1.0.0, type: blob, relation: local, access: {type: none}}\n", 1)
	_, err := Decode([]byte(dup))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Path != "component.resources[1]" || !strings.Contains(ve.Rule, "duplicate resource identity") {
		t.Fatalf("%v", err)
	}
	// the same name with other versions is two identities (OCM adds version)
	ok := strings.Replace(dup, "{name: r1, version: 1.0.0, type: blob, relation: local, access: {type: none}}", "{name: r1, version: 2.0.0, type: blob, relation: local, access: {type: none}}", 1)
	d, err := Decode([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if id := d.ResourceIdentity(0); id["version"] != "2.0.0" || id["name"] != "r1" {
		t.Errorf("identity %v", id)
	}
	if i := d.ResourceIndex(Identity{"name": "r1", "version": "1.0.0"}); i != 1 {
		t.Errorf("ResourceIndex = %d", i)
	}
	if i := d.ResourceIndex(Identity{"name": "r1"}); i != -1 {
		t.Errorf("ResourceIndex without version = %d", i)
	}
}

// v3alpha1 paths are written as v3alpha1 fields.
func TestDecodeValidationPathsV3(t *testing.T) {
	in := bytes.Replace(readFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml"), []byte("name: deployment"), []byte("name: config"), 1)
	_, err := Decode(in)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Path != "spec.resources[1]" {
		t.Fatalf("%v", err)
	}
	in = bytes.Replace(readFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml"), []byte("kind: ComponentVersion\n"), []byte("kind: ComponentVersion\nmetadata2: x\n"), 1)
	if _, err := Decode(in); err != nil {
		t.Errorf("top-level extra field in v3alpha1: %v", err)
	}
	in = bytes.Replace(readFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml"), []byte("  version: 6.3.5\nrepo"), []byte("  version: 6.3.5\n  color: red\nrepo"), 1)
	_, err = Decode(in)
	if !errors.As(err, &ve) || ve.Path != "metadata.color" {
		t.Errorf("closed metadata: %v", err)
	}
}

func TestDecodeLimits(t *testing.T) {
	big := append([]byte(minimalV2), bytes.Repeat([]byte("#"), MaxDescriptorBytes)...)
	if _, err := Decode(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized input: %v", err)
	}
	// billion laughs: 9 levels of 10 aliases, 10^9 strings when expanded
	var b strings.Builder
	b.WriteString(minimalV2 + "  labels:\n  - name: lol\n    value:\n      a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "      a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	if _, err := Decode([]byte(b.String())); !errors.Is(err, ErrTooLarge) {
		t.Errorf("billion laughs: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("billion laughs took %v", time.Since(start))
	}
	// a few aliases are fine
	small := minimalV2 + "  labels:\n  - name: a\n    value: &v {x: 1}\n  - name: b\n    value: *v\n"
	d, err := Decode([]byte(small))
	if err != nil || string(d.Labels[1].Value) != `{"x":1}` {
		t.Errorf("aliases: %v", err)
	}
	deep := minimalV2 + "  labels:\n  - name: deep\n    value: " + strings.Repeat("[", MaxNesting+5) + strings.Repeat("]", MaxNesting+5) + "\n"
	if _, err := Decode([]byte(deep)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("deep nesting: %v", err)
	}
	cyclic := minimalV2 + "  labels:\n  - name: c\n    value: &c [*c]\n"
	if _, err := Decode([]byte(cyclic)); err == nil {
		t.Error("self-referencing alias accepted")
	}
}

// Decode of JSON input: the same descriptor as YAML.
func TestDecodeJSONEqualsYAML(t *testing.T) {
	y := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	j, err := EncodeJSON(y, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(j)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, y) {
		t.Errorf("JSON and YAML decode differ:\n%+v\n%+v", d, y)
	}
}

func TestCloneIsDeep(t *testing.T) {
	d := decodeFile(t, "descriptors/podinfo-6.3.5.signed.v2.yaml")
	c, err := d.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("clone differs")
	}
	c.Resources[0].Digest.Value = "x"
	c.Labels[0].Name = "y"
	if d.Resources[0].Digest.Value == "x" || d.Labels[0].Name == "y" {
		t.Error("clone shares memory")
	}
}

// FuzzDecode: whatever Decode accepts re-encodes, in both schemes, to
// bytes that decode to the same descriptor.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/descriptors/*.yaml")
	more, _ := filepath.Glob("testdata/normalisation/*/input.yaml")
	for _, name := range append(files, more...) {
		f.Add(readFile(f, strings.TrimPrefix(filepath.ToSlash(name), "testdata/")))
	}
	f.Add([]byte(minimalV2))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			return
		}
		for _, scheme := range []Scheme{d.Scheme, SchemeV2, SchemeV3Alpha1} {
			for _, enc := range []func(*Descriptor, Scheme) ([]byte, error){Encode, EncodeJSON} {
				out, err := enc(d, scheme)
				if err != nil {
					t.Fatalf("encoding as %s: %v", scheme, err)
				}
				d2, err := Decode(out)
				if err != nil {
					t.Fatalf("re-decoding %s: %v\n%s", scheme, err, out)
				}
				want := d
				if scheme != d.Scheme {
					want, _ = Convert(d, scheme)
				}
				if !reflect.DeepEqual(d2, want) {
					t.Fatalf("round trip through %s changed the descriptor:\n%+v\n%+v", scheme, want, d2)
				}
			}
		}
		// normalisation never fails on a decoded descriptor
		for _, algo := range []string{JSONNormalisationV1, JSONNormalisationV2, JSONNormalisationV3} {
			if _, err := Normalise(d, algo); err != nil {
				t.Fatalf("Normalise %s: %v", algo, err)
			}
		}
	})
}
