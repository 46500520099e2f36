package component

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// TestSchemaCompiledOnFirstUse decodes one v2 descriptor in a fresh process
// (other tests share the package's schemas) and checks that only the v2
// schema was compiled, and that it was not compiled before the decode.
func TestSchemaCompiledOnFirstUse(t *testing.T) {
	if os.Getenv("FERRY_SCHEMA_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSchemaCompiledOnFirstUse$")
		cmd.Env = append(os.Environ(), "FERRY_SCHEMA_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	if schemaV2.sch != nil || schemaV3.sch != nil {
		t.Fatal("a schema was compiled before any descriptor was decoded")
	}
	decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	if schemaV2.sch == nil {
		t.Error("decoding a v2 descriptor did not compile the v2 schema")
	}
	if schemaV3.sch != nil {
		t.Error("decoding a v2 descriptor compiled the v3alpha1 schema too")
	}
	// A compile started ahead (PrepareSchema) is the one decodes use, also
	// when they start while it is under way.
	PrepareSchema(SchemeV3Alpha1)
	v3 := readFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := Decode(v3); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if schemaV3.sch == nil {
		t.Error("decoding a v3alpha1 descriptor did not compile its schema")
	}
}

// BenchmarkCompileSchema is what the first decode of a descriptor pays for
// its scheme's schema; before compiling became per scheme it paid for both.
func BenchmarkCompileSchema(b *testing.B) {
	for _, s := range []*descriptorSchema{schemaV2, schemaV3} {
		b.Run(s.url[len("https://gardener.cloud/schemas/"):], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := compileSchema(s.url, s.src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
