package localize

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the want/ trees of testdata from the current output")

const (
	digestApp   = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestRedis = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	digestBusy  = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	digestCache = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
)

// testImages are the image resources of the component the golden cases
// localize, as transfer leaves them: copies with tag and digest.
var testImages = ImageList{
	{Identity: Identity{"name": "image"}, Image: Image{
		Ref: "registry.local/air/stefanprodan/podinfo:6.3.5@" + digestApp, Original: "ghcr.io/stefanprodan/podinfo:6.3.5"}},
	{Identity: Identity{"name": "image", "architecture": "amd64"}, Image: Image{
		Ref: "registry.local/air/stefanprodan/podinfo:6.3.5-amd64", Digest: digestApp, Original: "ghcr.io/stefanprodan/podinfo:6.3.5-amd64"}},
	{Identity: Identity{"name": "redis"}, Image: Image{
		Ref: "registry.local:5000/air/library/redis:7.0.7@" + digestRedis, Original: "redis:7.0.7"}},
	{Identity: Identity{"name": "busybox"}, Image: Image{
		Ref: "registry.local/air/library/busybox:1.36", Digest: digestBusy, Original: "busybox:1.36"}},
	{Identity: Identity{"name": "redis"}, ReferencePath: []Identity{{"name": "cache"}}, Image: Image{
		Ref: "registry.local:5000/air/bitnami/redis:7.2.4@" + digestCache, Original: "docker.io/bitnami/redis:7.2.4"}},
}

// TestGolden localizes every testdata/<case>/input tree with <case>/rules.yaml
// (Auto mode when there is none) and compares every output file with
// <case>/want byte for byte.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*/input")
	if err != nil || len(cases) < 7 {
		t.Fatalf("want at least 7 golden cases, got %v (%v)", cases, err)
	}
	for _, in := range cases {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var rules []Rule
			o := Options{}
			if b, err := os.ReadFile(filepath.Join(dir, "rules.yaml")); err == nil {
				if rules, err = ParseRules(b); err != nil {
					t.Fatal(err)
				}
			} else {
				o.Auto = true
			}
			res, err := Localize(os.DirFS(in), rules, testImages, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changed) == 0 {
				t.Fatal("nothing changed")
			}
			want := filepath.Join(dir, "want")
			if *update {
				if err := os.RemoveAll(want); err != nil {
					t.Fatal(err)
				}
				if err := WriteFiles(want, res.Files); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadFS(os.DirFS(want), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(res.Files) {
				t.Errorf("want/ has %v, output has %v", got.Names(), res.Files.Names())
			}
			for _, p := range res.Files.Names() {
				if !bytes.Equal(got[p], res.Files[p]) {
					t.Errorf("%s differs from golden:\n%s", p, Diff(p, got[p], res.Files[p]))
				}
			}
			// Only the rewritten scalars changed: the diff removes and adds
			// exactly one line per change.
			input, _ := ReadFS(os.DirFS(in), Limits{})
			lines := 0
			for _, p := range res.Changed {
				for _, l := range strings.Split(Diff(p, input[p], res.Files[p]), "\n") {
					if strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "---") {
						lines++
					}
				}
			}
			if lines != len(res.Changes) {
				t.Errorf("%d lines changed for %d changes: %+v", lines, len(res.Changes), res.Changes)
			}
			if len(res.Coverage.Unlocalized) != 0 {
				t.Errorf("unlocalized: %+v", res.Coverage.Unlocalized)
			}
		})
	}
}

// TestOCMControllerFixture reads the manifests.tar of ocm-controller's e2e
// test (PAX headers, AppleDouble files) and applies its ConfigData.
func TestOCMControllerFixture(t *testing.T) {
	dir := "testdata/ocm-controller-e2e-backend"
	f, err := os.Open(filepath.Join(dir, "manifests.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files, err := ReadArchive(f, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["manifests/deploy.yaml"]; !ok || len(files) != 8 {
		t.Fatalf("archive gave %v", files.Names())
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(b)
	if err != nil {
		t.Fatal(err)
	}
	// ocm-controller writes the digest of a copy named with tag and digest;
	// ferry does with --pin-digest and keeps the tag without it.
	unpinned, err := Localize(files, rules, testImages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := unpinned.Changes[0]; c.New != "registry.local/air/stefanprodan/podinfo:6.3.5" {
		t.Errorf("without PinDigest: change %+v", c)
	}
	res, err := Localize(files, rules, testImages, Options{PinDigest: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Changed; len(got) != 1 || got[0] != "manifests/deploy.yaml" {
		t.Fatalf("changed %v", got)
	}
	c := res.Changes[0]
	if c.New != "registry.local/air/stefanprodan/podinfo@"+digestApp || c.Path != "spec.template.spec.containers[0].image" {
		t.Errorf("change %+v", c)
	}
	if len(res.Coverage.Skipped) != 4 { // the "._*.yaml" AppleDouble files
		t.Errorf("skipped %+v", res.Coverage.Skipped)
	}
	if d := Diff("manifests/deploy.yaml", files["manifests/deploy.yaml"], res.Files["manifests/deploy.yaml"]); strings.Count(d, "\n-") != 1 { // one line
		t.Errorf("diff:\n%s", d)
	}
}

func TestRuleValues(t *testing.T) {
	tests := []struct {
		name string
		im   Image
		pin  bool
		want ruleValues
	}{
		{"tag", Image{Ref: "ghcr.io/a/b:6.3.5"}, false, ruleValues{"ghcr.io/a/b:6.3.5", "ghcr.io", "a/b", "6.3.5", "", "6.3.5"}},
		{"tag and digest", Image{Ref: "ghcr.io/a/b:6.3.5@" + digestApp}, false, ruleValues{"ghcr.io/a/b:6.3.5", "ghcr.io", "a/b", "6.3.5", digestApp, "6.3.5"}},
		{"tag and digest pinned", Image{Ref: "ghcr.io/a/b:6.3.5@" + digestApp}, true, ruleValues{"ghcr.io/a/b@" + digestApp, "ghcr.io", "a/b", digestApp, digestApp, "6.3.5"}},
		{"digest only", Image{Ref: "ghcr.io/a/b@" + digestApp}, false, ruleValues{"ghcr.io/a/b@" + digestApp, "ghcr.io", "a/b", digestApp, digestApp, ""}},
		{"docker hub", Image{Ref: "nginx:1.25"}, false, ruleValues{"index.docker.io/library/nginx:1.25", "index.docker.io", "library/nginx", "1.25", "", "1.25"}},
		{"port", Image{Ref: "localhost:5000/x/y:1"}, false, ruleValues{"localhost:5000/x/y:1", "localhost:5000", "x/y", "1", "", "1"}},
		{"port tag digest", Image{Ref: "127.0.0.1:5055/x:1.0@" + digestApp}, false, ruleValues{"127.0.0.1:5055/x:1.0", "127.0.0.1:5055", "x", "1.0", digestApp, "1.0"}},
		{"port no tag", Image{Ref: "127.0.0.1:5055/x"}, false, ruleValues{"127.0.0.1:5055/x:latest", "127.0.0.1:5055", "x", "latest", "", ""}},
		{"pin", Image{Ref: "registry.local:5000/x:1", Digest: digestApp}, true, ruleValues{"registry.local:5000/x@" + digestApp, "registry.local:5000", "x", digestApp, digestApp, "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := valuesOf(tt.im, tt.pin)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	files := Files{"deploy.yaml": []byte("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x:1\n")}
	rule := func(name, file, path, res string) Rule {
		return Rule{Name: name, File: file, Image: path, Resource: ResourceRef{Name: res}}
	}
	tests := []struct {
		name   string
		rule   Rule
		target error
		path   string
	}{
		{"no-match", rule("nomatch", "deploy.yaml", "spec.template.spec.containers[name=b].image", "image"), ErrNoMatch, "spec.template.spec.containers[name=b].image"},
		{"missing-file", rule("missing", "other.yaml", "spec.image", "image"), fs.ErrNotExist, ""},
		{"unknown-resource", rule("unknown", "deploy.yaml", "spec.template.spec.containers[0].image", "nope"), ErrUnknownResource, ""},
		{"unknown-reference", Rule{Name: "ref", File: "deploy.yaml", Image: "spec.template.spec.containers[0].image",
			Resource: ResourceRef{Name: "redis", ReferencePath: []Identity{{"name": "other"}}}}, ErrUnknownResource, ""},
		{"not-scalar", rule("mapping", "deploy.yaml", "spec.template", "image"), ErrNotScalar, "spec.template"},
		{"bad-path", rule("bad", "deploy.yaml", "spec[", "image"), ErrInvalidPath, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Localize(files, []Rule{tt.rule}, testImages, Options{AllowUnlocalized: true})
			if !errors.Is(err, tt.target) {
				t.Fatalf("got %v, want %v", err, tt.target)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("%v is not a *RuleError", err)
			}
			if re.Rule != `"`+tt.rule.Name+`"` || re.File != tt.rule.File || re.Path != tt.path {
				t.Errorf("error names rule %s file %s path %q: %v", re.Rule, re.File, re.Path, err)
			}
			if !strings.Contains(err.Error(), tt.rule.Name) || !strings.Contains(err.Error(), tt.rule.File) {
				t.Errorf("message does not name rule and file: %v", err)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	files := Files{
		"app.yaml": []byte(`apiVersion: v1
kind: List
items:
- kind: Pod
  metadata: {name: p}
  spec:
    containers:
    - {name: a, image: "registry.local/air/stefanprodan/podinfo:6.3.5"}
    - {name: b, image: "registry.local/air/stefanprodan/podinfo@` + digestApp + `"}
    initContainers:
    - {name: c, image: quay.io/evil/miner:1}
    ephemeralContainers:
    - {name: d, image: "registry.local/mirror/pause:3.9"}
- kind: ReplicaSet
  metadata: {name: rs}
  spec: {template: {spec: {containers: [{name: e, image: nginx}]}}}
---
kind: Certificate
metadata: {name: cert}
spec:
  helperImage: ghcr.io/helper/img:1
`),
		"templates/x.yaml": []byte("{{ if .Values.x }}\nkind: Pod\n{{ end }}\n"),
	}
	res, err := Localize(files, nil, testImages, Options{Fields: []string{"Certificate:spec.helperImage"}})
	var ce *CoverageError
	if !errors.As(err, &ce) || res == nil {
		t.Fatalf("got %v, want a *CoverageError with the result", err)
	}
	var got []string
	for _, f := range res.Coverage.Unlocalized {
		got = append(got, f.File+"|"+f.Kind+"|"+f.Name+"|"+f.Path+"|"+f.Image)
	}
	want := []string{
		"app.yaml|Pod|p|items[0].spec.initContainers[0].image|quay.io/evil/miner:1",
		"app.yaml|Pod|p|items[0].spec.ephemeralContainers[0].image|registry.local/mirror/pause:3.9",
		"app.yaml|ReplicaSet|rs|items[1].spec.template.spec.containers[0].image|nginx",
		"app.yaml|Certificate|cert|spec.helperImage|ghcr.io/helper/img:1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("unlocalized:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Coverage.Checked != 6 || len(res.Coverage.Skipped) != 1 {
		t.Errorf("checked %d, skipped %+v", res.Coverage.Checked, res.Coverage.Skipped)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatal(err)
	}

	// Allowing a prefix and exact references clears the list.
	res, err = Localize(files, nil, testImages, Options{Fields: []string{"*:spec.helperImage"},
		Allow: []string{"registry.local/mirror/", "quay.io/evil/miner:1", "docker.io/library/nginx:latest", "ghcr.io/helper/img:1"}})
	if err != nil || len(res.Coverage.Unlocalized) != 0 {
		t.Fatalf("%v %+v", err, res.Coverage.Unlocalized)
	}
}

func TestAutoPinDigest(t *testing.T) {
	files := Files{"d.yaml": []byte("kind: Pod\nspec:\n  containers:\n  - image: redis:7.0.7\n  - image: docker.io/stefanprodan/other:1\n")}
	res, err := Localize(files, nil, testImages, Options{Auto: true, PinDigest: true, AllowUnlocalized: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "kind: Pod\nspec:\n  containers:\n  - image: registry.local:5000/air/library/redis@" + digestRedis + "\n  - image: docker.io/stefanprodan/other:1\n"
	if string(res.Files["d.yaml"]) != want {
		t.Errorf("got\n%s", res.Files["d.yaml"])
	}
	if len(res.Coverage.Unlocalized) != 1 {
		t.Errorf("unlocalized %+v", res.Coverage.Unlocalized)
	}
}

func TestParseRulesFixtures(t *testing.T) {
	for _, p := range []string{"testdata/ocm-src/rules.yaml", "testdata/ocm-controller-e2e-backend/config.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rules, err := ParseRules(b)
		if err != nil || len(rules) != 1 || rules[0].Resource.Name != "image" || rules[0].Image != "spec.template.spec.containers[0].image" {
			t.Errorf("%s: %+v %v", p, rules, err)
		}
	}
	if _, err := ParseRules([]byte("apiVersion: v1\nkind: ConfigMap\n")); err == nil {
		t.Error("a ConfigMap was read as ConfigData")
	}
	var re *RuleError
	_, err := ParseRules([]byte("apiVersion: config.ocm.software/v1alpha1\nkind: ConfigData\nlocalization:\n- file: ../x.yaml\n  image: a\n  resource: {name: i}\n"))
	if !errors.As(err, &re) {
		t.Errorf("a file outside the tree: %v", err)
	}
}

func TestReadFSRefusesSymlinks(t *testing.T) {
	m := fstest.MapFS{"a.yaml": {Data: []byte("a: 1\n")}, "link.yaml": {Data: []byte("a.yaml"), Mode: fs.ModeSymlink}}
	if _, err := ReadFS(m, Limits{}); !errors.Is(err, ErrUnsafeArchive) {
		t.Errorf("got %v", err)
	}
}
