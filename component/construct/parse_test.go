package construct_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
)

const single = `
name: example.com/demo
version: ${VERSION}
provider:
  name: example.com
resources:
- name: notes
  type: blob
  input:
    type: utf8
    text: "release ${VERSION} costs $$5"
`

func TestParseForms(t *testing.T) {
	vars := map[string]string{"VERSION": "1.2.3"}
	list := "components:\n- " + strings.ReplaceAll(strings.TrimPrefix(single, "\n"), "\n", "\n  ")
	multi := single + "---\n" + strings.ReplaceAll(single, "demo", "other") + "---\n"
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"single", single, []string{"example.com/demo"}},
		{"list", list, []string{"example.com/demo"}},
		{"documents", multi, []string{"example.com/demo", "example.com/other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs, err := construct.Parse([]byte(tc.text), construct.ParseOptions{File: "c.yaml", Vars: vars})
			if err != nil {
				t.Fatal(err)
			}
			if len(specs) != len(tc.want) {
				t.Fatalf("%d specs, want %d", len(specs), len(tc.want))
			}
			for i, s := range specs {
				if s.Name != tc.want[i] || s.Version != "1.2.3" {
					t.Errorf("spec %d: %s:%s", i, s.Name, s.Version)
				}
				if got := s.Resources[0].Input.Text; got != "release 1.2.3 costs $5" {
					t.Errorf("text %q", got)
				}
				if s.Resources[0].Relation != component.RelationLocal {
					t.Errorf("relation %q, want local", s.Resources[0].Relation)
				}
			}
		})
	}
}

func TestSubstitutionDefaults(t *testing.T) {
	text := strings.ReplaceAll(single, "${VERSION}", "${VERSION:-0.1.0}")
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].Version != "0.1.0" {
		t.Errorf("version %q", specs[0].Version)
	}
}

func TestReferences(t *testing.T) {
	base := "name: example.com/app\nversion: 1.0.0\nprovider: {name: acme}\n"
	ref := "- {name: podinfo, componentName: example.com/podinfo, version: 6.3.5}\n"
	for _, key := range []string{"references", "componentReferences"} {
		specs, err := construct.Parse([]byte(base+key+":\n"+ref), construct.ParseOptions{})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if len(specs[0].References) != 1 || specs[0].References[0].ComponentName != "example.com/podinfo" {
			t.Errorf("%s: %+v", key, specs[0].References)
		}
	}
}

// TestParseErrors: bad constructors fail with an *Error naming the file,
// the line and the field path.
func TestParseErrors(t *testing.T) {
	head := "name: example.com/demo\nversion: 1.0.0\nprovider:\n  name: acme\n"
	res := func(body string) string { return head + "resources:\n- name: res\n  type: blob\n" + body }
	for _, tc := range []struct {
		name, text, path string
		line             int
		is               error
		msg              string
	}{
		{"unknown field", res("  inptu:\n    type: utf8\n"), "resources[0].inptu", 8, construct.ErrInvalid, `did you mean "input"`},
		{"unknown input field", res("  input:\n    type: file\n    path: x\n    compres: true\n"), "resources[0].input.compres", 11, construct.ErrInvalid, "unknown field"},
		{"unknown top field", head + "resource: []\n", "resource", 5, construct.ErrInvalid, `did you mean "resources"`},
		{"both references", head + "references: []\ncomponentReferences:\n- {name: a, componentName: example.com/a, version: 1.0.0}\n",
			"componentReferences", 6, construct.ErrInvalid, "only one of references and componentReferences"},
		{"input and access", res("  input: {type: utf8, text: x}\n  access: {type: ociArtifact, imageReference: a.io/b:1}\n"), "resources[0].input", 8, construct.ErrInvalid, "not both"},
		{"neither", res(""), "resources[0]", 6, construct.ErrInvalid, "either input or access"},
		{"undefined variable", strings.Replace(head, "1.0.0", "${NOPE}", 1), "", 2, construct.ErrUndefinedVariable, "NOPE"},
		{"unsupported substitution", strings.Replace(head, "1.0.0", "${V/a/b}", 1), "", 2, construct.ErrInvalid, "unsupported substitution"},
		{"local access", res("  version: 1.0.0\n  access: {type: localBlob, localReference: 'sha256:00', mediaType: x}\n"), "resources[0].access.type", 9, construct.ErrInvalid, "local"},
		{"unsupported input", res("  input: {type: docker, path: chart}\n"), "resources[0].input.type", 8, construct.ErrUnsupportedInput, "docker"},
		{"helm repository input", res("  input: {type: helm, path: podinfo, helmRepository: https://charts.example.com}\n"), "resources[0].input.helmRepository", 8, construct.ErrUnsupportedInput, "helm access"},
		{"external without version", res("  access: {type: ociArtifact, imageReference: a.io/b:1}\n"), "resources[0].version", 6, construct.ErrInvalid, "external"},
		{"bad name", strings.Replace(head, "example.com/demo", "Demo", 1), "name", 1, component.ErrInvalid, "name"},
		{"bad resource name", strings.Replace(res("  input: {type: utf8, text: x}\n"), "name: res", "name: R!", 1), "resources[0].name", 6, component.ErrInvalid, ""},
		{"duplicate resource", res("  input: {type: utf8, text: x}\n- name: res\n  type: blob\n  input: {type: utf8, text: y}\n"), "resources[1]", 9, component.ErrInvalid, "duplicate"},
		{"bad pattern", res("  input: {type: dir, path: d, includeFiles: ['[']}\n"), "resources[0].input.includeFiles[0]", 8, construct.ErrInvalid, "bad pattern"},
		{"bad base64", res("  input: {type: binary, data: '!!!'}\n"), "resources[0].input.data", 8, construct.ErrInvalid, "base64"},
		{"two utf8 values", res("  input: {type: utf8, text: x, json: {a: 1}}\n"), "resources[0].input", 8, construct.ErrInvalid, "only one of"},
		{"input relation external", res("  relation: external\n  version: 1.0.0\n  input: {type: utf8, text: x}\n"), "resources[0].relation", 8, construct.ErrInvalid, "local"},
		{"missing provider", "name: example.com/demo\nversion: 1.0.0\n", "provider", 1, construct.ErrInvalid, "required"},
		{"components with more keys", "components: []\nname: x\n", "name", 2, construct.ErrInvalid, "unknown field"},
		{"bad schema", head + "meta: {configuredSchemaVersion: v9}\n", "meta.configuredSchemaVersion", 5, construct.ErrInvalid, "v9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := construct.Parse([]byte(tc.text), construct.ParseOptions{File: "cc.yaml"})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			var e *construct.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is no *construct.Error", err, err)
			}
			if e.File != "cc.yaml" || e.Path != tc.path || e.Line != tc.line {
				t.Errorf("error at %s:%d %q, want line %d path %q (%v)", e.File, e.Line, e.Path, tc.line, tc.path, err)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "cc.yaml:") {
				t.Errorf("message %q does not start with the file or lacks %q", err, tc.msg)
			}
		})
	}
}

// TestBuildErrors: problems only Build sees (the file system, the registry)
// name the field too.
func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	head := "name: example.com/demo\nversion: 1.0.0\nprovider: {name: acme}\nresources:\n- name: res\n  type: blob\n"
	for _, tc := range []struct {
		name, body, path string
		is               error
	}{
		{"missing file", "  input: {type: file, path: nothere.txt}\n", "resources[0].input.path", fs.ErrNotExist},
		{"missing dir", "  input: {type: dir, path: nothere}\n", "resources[0].input.path", fs.ErrNotExist},
		{"file is a dir", "  input: {type: file, path: .}\n", "resources[0].input.path", nil},
		{"no resolver", "  version: 1.0.0\n  access: {type: ociArtifact, imageReference: 'a.io/b:1'}\n", "resources[0].access.imageReference", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs, err := construct.Parse([]byte(head+tc.body), construct.ParseOptions{File: "cc.yaml", Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			_, err = construct.Build(context.Background(), specs[0], construct.Options{})
			var e *construct.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is no *construct.Error", err, err)
			}
			if e.Path != tc.path || e.Line != 5 || e.File != "cc.yaml" {
				t.Errorf("error at %s:%d %q, want line 5 %q (%v)", e.File, e.Line, e.Path, tc.path, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

// TestErrorLineInLaterDocument: lines count from the start of the file, not
// of the YAML document.
func TestErrorLineInLaterDocument(t *testing.T) {
	text := single + "---\n" + strings.Replace(single, "  type: blob\n", "  typo: blob\n", 1)
	_, err := construct.Parse([]byte(text), construct.ParseOptions{File: "cc.yaml", Vars: map[string]string{"VERSION": "1.0.0"}})
	var e *construct.Error
	if !errors.As(err, &e) || e.Line != 20 || e.Path != "resources[0].typo" {
		t.Errorf("error %v, want cc.yaml:20 resources[0].typo", err)
	}
}

// TestPathOutsideConstructorDir: input paths may leave the constructor's
// directory, as OCM allows (the constructor is the author's own file).
func TestPathOutsideConstructorDir(t *testing.T) {
	base := t.TempDir()
	os.WriteFile(filepath.Join(base, "outside.txt"), []byte("out"), 0o644)
	os.Mkdir(filepath.Join(base, "cc"), 0o755)
	text := "name: example.com/demo\nversion: 1.0.0\nprovider: {name: acme}\nresources:\n- {name: out, type: blob, input: {type: file, path: ../outside.txt}}\n"
	specs, err := construct.Parse([]byte(text), construct.ParseOptions{File: filepath.Join(base, "cc", "component-constructor.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := construct.Build(context.Background(), specs[0], construct.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs[0].Descriptor.Size != 3 {
		t.Errorf("blob %v", res.Blobs[0].Descriptor)
	}
}

// FuzzParse: any input either parses or fails with a *construct.Error that
// names where; never a panic.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(fixtureDir, "src", "component-constructor.yaml")); err == nil {
		f.Add(string(b))
	}
	f.Add(single)
	f.Add("components: [{name: example.com/a, version: '1', provider: {name: x}, resources: [{name: aa, type: t, input: {type: dir, path: .}}]}]")
	f.Fuzz(func(t *testing.T, s string) {
		specs, err := construct.Parse([]byte(s), construct.ParseOptions{Vars: map[string]string{"VERSION": "1.0.0"}})
		if err != nil {
			var e *construct.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is no *construct.Error", err, err)
			}
			return
		}
		if len(specs) == 0 {
			t.Fatal("no error and no spec")
		}
	})
}
