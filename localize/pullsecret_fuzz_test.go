package localize

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// FuzzAddPullSecret: any file either is left alone or, when it parsed,
// still parses after the insertion, with the same number of documents; and
// nothing panics.
func FuzzAddPullSecret(f *testing.F) {
	for _, name := range []string{"deployment.yaml", "cronjob.yaml", "list.yaml", "pod.json", "serviceaccount.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "pullsecret", "in", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
	}
	f.Add("x.yaml", []byte("kind: Pod\nspec: {}\n"))
	f.Add("x.yaml", []byte("kind: Pod\nspec:\n  imagePullSecrets:\n  containers: []"))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		name = "f" + filepath.Ext(name)
		for _, sa := range []string{"", "podinfo"} {
			out, changes, err := AddPullSecret(Files{name: b}, PullSecretOptions{Secret: "regcred", ServiceAccount: sa})
			if err != nil || len(changes) == 0 {
				continue
			}
			before, err1 := countDocs(b)
			after, err2 := countDocs(out[name])
			if err1 == nil && (err2 != nil || before != after) {
				t.Fatalf("the insertion broke the file (%v, %d -> %d documents):\n%s\n---\n%s", err2, before, after, b, out[name])
			}
		}
	})
}

func countDocs(b []byte) (int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	n := 0
	for {
		var v yaml.Node
		err := dec.Decode(&v)
		if err != nil {
			if err.Error() == "EOF" {
				return n, nil
			}
			return n, err
		}
		n++
	}
}
