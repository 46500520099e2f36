package localize

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseRules: any ConfigData is rules or an error, never a panic, and
// every rule accepted has a file and a parsable path for each field it sets.
func FuzzParseRules(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "rules.yaml"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: config.ocm.software/v1alpha1\nkind: ConfigData\nlocalization:\n- file: a.yaml\n  image: spec.containers[name=app].image\n  resource: {name: image}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, err := ParseRules(b)
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.File == "" {
				t.Fatalf("rule %q accepted without a file", r.Name)
			}
			for _, p := range []string{r.Image, r.Registry, r.Repository, r.Tag} {
				if p == "" {
					continue
				}
				if _, err := ParsePath(p); err != nil {
					t.Fatalf("rule %q accepted with path %q that does not parse: %v", r.Name, p, err)
				}
			}
		}
	})
}
