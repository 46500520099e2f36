package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ferry-oci/ferry/bundle"
	"github.com/ferry-oci/ferry/internal/registrytest"
)

// cdxSchema compiles the CycloneDX 1.6 schema vendored in bom/testdata.
func cdxSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, f := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "bom", "testdata", "cyclonedx", f))
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

// checkCycloneDX validates doc and checks that it lists every image by
// digest (purl and hash) and the component version as its metadata component.
func checkCycloneDX(t *testing.T, doc json.RawMessage, digests []string) {
	t.Helper()
	if len(doc) == 0 {
		t.Fatal("no CycloneDX document")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := cdxSchema(t).Validate(v); err != nil {
		t.Fatalf("the CycloneDX BOM does not validate: %v", err)
	}
	var got struct {
		Metadata struct {
			Component struct{ Name, Version string }
		}
		Components []struct {
			Purl   string
			Hashes []struct{ Content string }
		}
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	if got.Metadata.Component.Name != "example.com/podinfo" || got.Metadata.Component.Version != "6.3.6" {
		t.Errorf("metadata component %+v", got.Metadata.Component)
	}
	for _, d := range digests {
		found := false
		for _, c := range got.Components {
			if strings.HasPrefix(c.Purl, "pkg:oci/") && strings.Contains(c.Purl, "@"+strings.Replace(d, ":", "%3A", 1)+"?") &&
				len(c.Hashes) == 1 && "sha256:"+c.Hashes[0].Content == d {
				found = true
			}
		}
		if !found {
			t.Errorf("image %s is not listed by digest", d)
		}
	}
}

// TestCycloneDXOfTheSampleCrossing: the sample release crosses by transfer
// and by bundle; both record a CycloneDX BOM that validates and lists every
// image by digest, in the report and in the bundle's metadata.
func TestCycloneDXOfTheSampleCrossing(t *testing.T) {
	_, ref := sampleRelease(t)
	dst := registrytest.New(t)
	report := filepath.Join(t.TempDir(), "report.json")
	mustRun(t, "transfer", ref, dst.Host+"/air", "--bom-format", "cyclonedx", "--report", report)
	var rep struct {
		BOM struct {
			Images []struct{ Digest string }
		}
		CycloneDX json.RawMessage
	}
	if err := json.Unmarshal(readFile(t, report), &rep); err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, im := range rep.BOM.Images {
		digests = append(digests, im.Digest)
	}
	if len(digests) != 2 {
		t.Fatalf("the sample has two images, the BOM lists %v", digests)
	}
	checkCycloneDX(t, rep.CycloneDX, digests)

	file := filepath.Join(t.TempDir(), "podinfo.tar")
	mustRun(t, "bundle", "create", ref, "-o", file, "--bom-format", "cyclonedx")
	b, err := bundle.Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkCycloneDX(t, b.Metadata.CycloneDX, digests)
	mustRun(t, "bundle", "verify", file)

	if code, _, stderr := run(t, "transfer", ref, dst.Host+"/air", "--bom-format", "spdx"); code != 2 {
		t.Errorf("--bom-format spdx: exit %d: %s", code, stderr)
	}
}
