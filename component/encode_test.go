package component

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Every YAML descriptor in testdata/descriptors was written by the OCM v1
// CLI; decoding and re-encoding it in its own scheme must give its bytes.
// `ocm get cv -o yaml` files start with a "---" line that the stored
// descriptor (the *.raw-component-descriptor.yaml files) does not have:
// that line is CLI output framing, not part of the descriptor, and is
// stripped before comparing.
func TestEncodeGoldenYAML(t *testing.T) {
	files, err := filepath.Glob("testdata/descriptors/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want := stripDocStart(readFile(t, "descriptors/"+name))
			d := decodeFile(t, "descriptors/"+name)
			got, err := Encode(d, "")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Encode differs\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// podinfo-6.3.5.v2.json is `ocm get cv -o json`: the descriptor, indented,
// inside {"items": [...]}. EncodeJSON writes the descriptor compact, in
// OCM's struct order; framed the same way it must give the file's bytes.
func TestEncodeGoldenJSON(t *testing.T) {
	file := readFile(t, "descriptors/podinfo-6.3.5.v2.json")
	var wrapper struct{ Items []json.RawMessage }
	if err := json.Unmarshal(file, &wrapper); err != nil || len(wrapper.Items) != 1 {
		t.Fatalf("fixture: %v", err)
	}
	d, err := Decode(wrapper.Items[0])
	if err != nil {
		t.Fatal(err)
	}
	if d.Scheme != SchemeV2 {
		t.Errorf("scheme %q", d.Scheme)
	}
	enc, err := EncodeJSON(d, "")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, []byte(`{"items":[`+string(enc)+`]}`), "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	if !bytes.Equal(got.Bytes(), file) {
		t.Errorf("EncodeJSON differs\n got:\n%s\nwant:\n%s", got.Bytes(), file)
	}
	// and the YAML of the same descriptor is the -o yaml fixture
	y, err := Encode(d, SchemeV2)
	if err != nil {
		t.Fatal(err)
	}
	if want := stripDocStart(readFile(t, "descriptors/podinfo-6.3.5.v2.yaml")); !bytes.Equal(y, want) {
		t.Errorf("Encode of the JSON descriptor differs\n got:\n%s\nwant:\n%s", y, want)
	}
}

// The CTF stores descriptors exactly as Encode writes them.
func TestEncodeCTFLayer(t *testing.T) {
	raw := ctfDescriptor(t, "testdata/ctf-signed", "example.com/podinfo", "6.3.5")
	d, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(d, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("Encode differs from the stored layer\n got:\n%s\nwant:\n%s", got, raw)
	}
}

func TestConvert(t *testing.T) {
	pairs := []struct{ v2, v3 string }{
		{"podinfo-6.3.5.v2.yaml", "podinfo-6.3.5.v3alpha1.yaml"},
		{"app-1.0.0.v2.yaml", "app-1.0.0.v3alpha1.yaml"},
		{"podinfo-6.3.5.from-ctf-v3alpha1.as-v2.yaml", "podinfo-6.3.5.from-ctf-v3alpha1.as-v3alpha1.yaml"},
	}
	for _, p := range pairs {
		t.Run(p.v2, func(t *testing.T) {
			v2 := stripDocStart(readFile(t, "descriptors/"+p.v2))
			v3 := stripDocStart(readFile(t, "descriptors/"+p.v3))
			check := func(from []byte, to Scheme, want []byte) {
				t.Helper()
				d, err := Decode(from)
				if err != nil {
					t.Fatal(err)
				}
				c, err := Convert(d, to)
				if err != nil {
					t.Fatal(err)
				}
				got, err := Encode(c, "")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("converted to %s:\n%s\nwant:\n%s", to, got, want)
				}
				// Encode with an explicit scheme needs no Convert
				direct, err := Encode(d, to)
				if err != nil || !bytes.Equal(direct, want) {
					t.Errorf("Encode(d, %s) = %s, %v", to, direct, err)
				}
			}
			check(v2, SchemeV3Alpha1, v3)
			check(v3, SchemeV2, v2)
		})
	}
}

// A provider with labels is a JSON document in a string in v2 and an object
// in v3alpha1; both directions keep it.
func TestProviderLabelsRoundTrip(t *testing.T) {
	d := decodeFile(t, "normalisation/ocm-norm_test-provider-labels/input.yaml")
	if d.Provider.Name != "internal" || len(d.Provider.Labels) != 2 || !d.Provider.Labels[1].Signing {
		t.Fatalf("provider %+v", d.Provider)
	}
	v2, err := Encode(d, SchemeV2)
	if err != nil {
		t.Fatal(err)
	}
	want := `provider: '{"name":"internal","labels":[{"name":"volatile","value":"prov-value1"},{"name":"non-volatile","value":"prov-value2","signing":true}]}'`
	if !strings.Contains(string(v2), want) {
		t.Errorf("v2 provider not written as OCM does:\n%s", v2)
	}
	v3, err := Encode(d, SchemeV3Alpha1)
	if err != nil {
		t.Fatal(err)
	}
	d3, err := Decode(v3)
	if err != nil {
		t.Fatalf("%v\n%s", err, v3)
	}
	back, err := Encode(d3, SchemeV2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, v2) {
		t.Errorf("v2 → v3alpha1 → v2 changed:\n%s\nwant:\n%s", back, v2)
	}
}

// Unknown fields survive a round trip where the schema allows them.
func TestUnknownFieldsSurvive(t *testing.T) {
	in := []byte(`meta:
  schemaVersion: v2
component:
  name: example.com/x
  version: 1.0.0
  provider: acme
  futureField: {a: 1}
  repositoryContexts: []
  sources: []
  componentReferences: []
  resources:
  - name: r1
    version: 1.0.0
    type: blob
    relation: local
    access: {type: someFutureAccess/v7, endpoint: "https://x", retries: 3, nested: {k: [1, 2]}}
    referenceHints: [{type: oci, reference: a/b}]
    labels:
    - name: l
      value: {x: y}
      mergeAlgorithm: test
topLevelExtra: true
`)
	d, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Resources[0].Access.Kind() != "someFutureAccess" {
		t.Errorf("kind %q", d.Resources[0].Access.Kind())
	}
	out, err := Encode(d, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"futureField:", "endpoint: https://x", "retries: 3", "referenceHints:", "mergeAlgorithm: test", "topLevelExtra: true", "type: someFutureAccess/v7"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("lost %q:\n%s", s, out)
		}
	}
}
