package localize

import (
	"errors"
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want Path
		str  string
	}{
		{"spec.template.spec.containers[0].image", Path{{Kind: Key, Key: "spec"}, {Kind: Key, Key: "template"}, {Kind: Key, Key: "spec"},
			{Kind: Key, Key: "containers"}, {Kind: Index, Index: 0}, {Kind: Key, Key: "image"}}, "spec.template.spec.containers[0].image"},
		{".spec.containers[name=app].image", Path{{Kind: Key, Key: "spec"}, {Kind: Key, Key: "containers"},
			{Kind: Match, Key: "name", Value: "app"}, {Kind: Key, Key: "image"}}, "spec.containers[name=app].image"},
		{`containers[name="my app"]`, Path{{Kind: Key, Key: "containers"}, {Kind: Match, Key: "name", Value: "my app"}}, `containers[name=my app]`},
		{`metadata.labels["app.kubernetes.io/name"]`, Path{{Kind: Key, Key: "metadata"}, {Kind: Key, Key: "labels"},
			{Kind: Key, Key: "app.kubernetes.io/name"}}, `metadata.labels["app.kubernetes.io/name"]`},
		{`a."b.c".d`, Path{{Kind: Key, Key: "a"}, {Kind: Key, Key: "b.c"}, {Kind: Key, Key: "d"}}, `a["b.c"].d`},
		{"items[*].image", Path{{Kind: Key, Key: "items"}, {Kind: All}, {Kind: Key, Key: "image"}}, "items[*].image"},
		{"items[].x.[1]", Path{{Kind: Key, Key: "items"}, {Kind: All}, {Kind: Key, Key: "x"}, {Kind: Index, Index: 1}}, "items[*].x[1]"},
		{"list[-1]", Path{{Kind: Key, Key: "list"}, {Kind: Index, Index: -1}}, "list[-1]"},
		{"data.PODINFO_UI_MESSAGE", Path{{Kind: Key, Key: "data"}, {Kind: Key, Key: "PODINFO_UI_MESSAGE"}}, "data.PODINFO_UI_MESSAGE"},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) || got.String() != tt.str {
			t.Errorf("%q: got %#v (%s), want %#v (%s)", tt.in, got, got, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", ".", "a.", "a..b", "a[", "a[x]", "a[01]", "a[=b]", "a]b", `a["b"`, "a[0]b", `a"b"`, "a[+1]"} {
		if p, err := ParsePath(bad); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("%q: got %v, %v; want ErrInvalidPath", bad, p, err)
		}
	}
}

// FuzzParsePath checks the round trip: whatever parses prints in a form
// that parses to the same path.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"spec.template.spec.containers[0].image", "containers[name=app].image", `a["b.c"][*]`,
		`x[k="v]"]`, "a[-2].b", `."q\"x".y`, "a[k=v=w]", "[0]", "a[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		q, err := ParsePath(p.String())
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("%q: %#v printed as %q gave %#v, %v", s, p, p.String(), q, err)
		}
	})
}
