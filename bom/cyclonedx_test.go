package bom_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ferry-oci/ferry/bom"
	"github.com/ferry-oci/ferry/component"
)

// cycloneDXSchema compiles the CycloneDX 1.6 JSON schema vendored in
// testdata (with the SPDX and JSF schemas it refers to).
func cycloneDXSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, f := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "cyclonedx", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCycloneDX(t *testing.T) {
	const d1 = "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a"
	const d2 = "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774"
	const app = "sha256:01be29a86d5dbaacecc53a381ff194f72bb62c8422ec7e6fa683e3535f96472c"
	b := &bom.BOM{MediaType: bom.MediaType,
		Components: []bom.Component{
			{Name: "example.com/podinfo", Version: "6.3.6", Manifest: hash(t, app), Source: "ghcr.io/acme", Target: "registry.local:5000/air/component-descriptors/example.com/podinfo:6.3.6",
				Digest: component.DigestSpec{HashAlgorithm: "SHA-256", NormalisationAlgorithm: "jsonNormalisation/v3", Value: strings.Repeat("ab", 32)},
				Resources: []bom.Resource{
					{Name: "podinfo", Type: "ociImage", How: "by value", Location: "registry.local:5000/air/stefanprodan/podinfo:6.3.6@" + d1},
					{Name: "manifests", Type: "directoryTree", How: "local", Location: app},
				}},
			{Name: "example.com/app", Version: "1.0.0", Manifest: hash(t, app), Source: "ghcr.io/acme", Target: "registry.local:5000/air/component-descriptors/example.com/app:1.0.0",
				Resources:  []bom.Resource{{Name: "busybox", Type: "ociImage", How: "by value", Location: "registry.local:5000/air/library/busybox:1.36@" + d2}},
				References: []bom.Reference{{Name: "podinfo", ComponentName: "example.com/podinfo", Version: "6.3.6"}}},
		},
		Images: []bom.Image{
			{Source: "ghcr.io/stefanprodan/podinfo", Target: "registry.local:5000/air/stefanprodan/podinfo", Digest: hash(t, d1), MediaType: "application/vnd.oci.image.index.v1+json", Tags: []string{"6.3.6"}, Platforms: []string{"linux/amd64"}},
			{Source: "ghcr.io/library/busybox", Target: "registry.local:5000/air/library/busybox", Digest: hash(t, d2), MediaType: "application/vnd.oci.image.manifest.v1+json", Tags: []string{"1.36"}},
		}}
	out, err := b.CycloneDX("ferry v0.4.0")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := cycloneDXSchema(t).Validate(doc); err != nil {
		t.Fatalf("does not validate against the CycloneDX 1.6 schema: %v\n%s", err, out)
	}
	var got struct {
		BOMFormat, SpecVersion string
		Metadata               struct {
			Component struct{ Name, Version string }
		}
		Components []struct {
			Type, Name, Version, Purl string
			Hashes                    []struct{ Alg, Content string }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.BOMFormat != "CycloneDX" || got.SpecVersion != "1.6" || got.Metadata.Component.Name != "example.com/app" {
		t.Errorf("header %+v", got)
	}
	purls := map[string]string{}
	for _, c := range got.Components {
		if c.Type == "container" {
			purls[c.Version] = c.Purl
			if len(c.Hashes) != 1 || "sha256:"+c.Hashes[0].Content != c.Version {
				t.Errorf("%s: hashes %+v", c.Name, c.Hashes)
			}
		}
	}
	for _, im := range b.Images {
		p := purls[im.Digest.String()]
		want := "pkg:oci/" + im.Source[strings.LastIndex(im.Source, "/")+1:] + "@sha256%3A" + im.Digest.Hex + "?repository_url=" + im.Source + "&tag=" + im.Tags[0]
		if p != want {
			t.Errorf("image %s: purl %q, want %q", im.Digest, p, want)
		}
	}
	deps := map[string][]string{}
	for _, d := range got.Dependencies {
		deps[d.Ref] = d.DependsOn
	}
	if a := deps["ocm:example.com/app:1.0.0"]; len(a) != 2 || !strings.Contains(a[0], "busybox") || a[1] != "ocm:example.com/podinfo:6.3.6" {
		t.Errorf("app depends on %v", a)
	}
	if p := deps["ocm:example.com/podinfo:6.3.6"]; len(p) != 1 || !strings.Contains(p[0], "podinfo@") {
		t.Errorf("podinfo depends on %v", p)
	}
	// The schema is no rubber stamp: a component of an unknown type fails.
	broken, _ := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(string(out), `"type": "container"`, `"type": "bogus"`, 1)))
	if err := cycloneDXSchema(t).Validate(broken); err == nil {
		t.Error("the schema accepted a component of type bogus")
	}
	again, _ := b.CycloneDX("ferry v0.4.0")
	if !bytes.Equal(out, again) {
		t.Error("the same BOM gave different bytes")
	}
}
