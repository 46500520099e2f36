package localize

import (
	"strings"
	"testing"
	"time"
)

// billionLaughs is a YAML alias bomb: a few hundred bytes that expand to
// billions of nodes if aliases are followed naively.
func billionLaughs(head string) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(n + ": &" + n + " [")
		for i := range 9 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = n
	}
	return b.String()
}

// TestHostileDocuments feeds alias bombs, deep nesting and oversized input
// to the rule reader and to localization: each is refused or processed
// within bounds, quickly, never a panic.
func TestHostileDocuments(t *testing.T) {
	deep := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"ConfigData alias bomb", func() error {
			_, err := ParseRules([]byte(billionLaughs("apiVersion: config.ocm.software/v1alpha1\nkind: ConfigData\n")))
			return err
		}},
		{"manifest alias bomb", func() error {
			files := Files{"bomb.yaml": []byte(billionLaughs("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n"))}
			_, err := Localize(files.FS(), nil, ImageList{}, Options{})
			return err
		}},
		{"deeply nested manifest", func() error {
			files := Files{"deep.yaml": []byte(deep)}
			_, err := Localize(files.FS(), nil, ImageList{}, Options{})
			return err
		}},
		{"oversized tree", func() error {
			files := Files{"big.yaml": []byte("a: " + strings.Repeat("x", 2<<20) + "\n")}
			_, err := Localize(files.FS(), nil, ImageList{}, Options{Limits: Limits{MaxTotalSize: 1 << 20}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				err = tc.run()
			}()
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
			t.Logf("RELIABILITY hostile=%q refused=%v error=%v", tc.name, err != nil, err)
		})
	}
}
