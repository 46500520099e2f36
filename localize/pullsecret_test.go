package localize

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// checkGolden compares got with testdata/pullsecret/want/name, or writes it
// there with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "pullsecret", "want", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, Diff(name, want, got))
	}
}

// pullSecretsOf decodes every document of b and returns, per pod spec (by
// kind/name), the names in its imagePullSecrets.
func pullSecretsOf(t *testing.T, b []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			break
		}
		visitObjects(n.Content[0], nil, 0, func(o *yaml.Node, _ Path, kind, name string) {
			spec, ok := podSpecs[kind]
			if !ok && kind != "ServiceAccount" {
				return
			}
			var m *yaml.Node = o
			if ok {
				m = first(spec.eval(o))
			}
			var v struct {
				ImagePullSecrets []struct{ Name string } `yaml:"imagePullSecrets"`
			}
			if err := m.Decode(&v); err != nil {
				t.Fatalf("%s/%s: %v", kind, name, err)
			}
			for _, s := range v.ImagePullSecrets {
				out[kind+"/"+name] = append(out[kind+"/"+name], s.Name)
			}
		})
	}
	return out
}

func readPullSecretInput(t *testing.T) Files {
	t.Helper()
	files, err := ReadFS(os.DirFS(filepath.Join("testdata", "pullsecret", "in")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestAddPullSecret: every workload pod spec (a Deployment, a StatefulSet
// that names another secret, a DaemonSet that names this one, a CronJob
// with an empty list, a Pod and a Job in a List, a Pod in JSON) names the
// secret once; the other entries, comments and every other byte stay.
func TestAddPullSecret(t *testing.T) {
	files := readPullSecretInput(t)
	out, changes, err := AddPullSecret(files, PullSecretOptions{Secret: "regcred"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deployment.yaml", "cronjob.yaml", "list.yaml", "pod.json"} {
		checkGolden(t, name, out[name])
	}
	if !bytes.Equal(out["serviceaccount.yaml"], files["serviceaccount.yaml"]) || !bytes.Equal(out["values.yaml"], files["values.yaml"]) {
		t.Error("files without workloads changed")
	}
	want := map[string][]string{
		"Deployment/podinfo": {"regcred"}, "StatefulSet/cache": {"other-registry", "regcred"}, "DaemonSet/agent": {"regcred"},
		"CronJob/backup": {"regcred"}, "Pod/debug": {"regcred"}, "Job/migrate": {"regcred"}, "Pod/json-pod": {"regcred"},
	}
	got := map[string][]string{}
	for _, name := range []string{"deployment.yaml", "cronjob.yaml", "list.yaml", "pod.json"} {
		for k, v := range pullSecretsOf(t, out[name]) {
			got[k] = v
		}
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s: imagePullSecrets %v, want %v", k, got[k], v)
		}
	}
	if len(changes) != 6 { // the DaemonSet names it already
		t.Errorf("%d changes, want 6: %+v", len(changes), changes)
	}
	// A second pass changes nothing.
	again, changes, err := AddPullSecret(out, PullSecretOptions{Secret: "regcred"})
	if err != nil || len(changes) != 0 {
		t.Fatalf("second pass: %v, %d changes", err, len(changes))
	}
	for name := range out {
		if !bytes.Equal(again[name], out[name]) {
			t.Errorf("second pass changed %s", name)
		}
	}
}

func TestAddPullSecretToServiceAccount(t *testing.T) {
	files := readPullSecretInput(t)
	out, changes, err := AddPullSecret(files, PullSecretOptions{Secret: "regcred", ServiceAccount: "podinfo"})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "serviceaccount.yaml", out["serviceaccount.yaml"])
	if len(changes) != 1 || changes[0].Path != "imagePullSecrets" {
		t.Errorf("changes %+v", changes)
	}
	if got := pullSecretsOf(t, out["serviceaccount.yaml"])["ServiceAccount/podinfo"]; !slices.Equal(got, []string{"regcred"}) {
		t.Errorf("ServiceAccount imagePullSecrets %v", got)
	}
	for _, name := range []string{"deployment.yaml", "cronjob.yaml", "list.yaml"} {
		if !bytes.Equal(out[name], files[name]) {
			t.Errorf("%s changed: the workloads keep their pod specs when a ServiceAccount carries the secret", name)
		}
	}
	if _, _, err := AddPullSecret(files, PullSecretOptions{Secret: "regcred", ServiceAccount: "nobody"}); !errors.Is(err, ErrNoServiceAccount) {
		t.Errorf("a missing ServiceAccount gave %v", err)
	}
}

// TestAddToList: a chart's values (an empty list at the top) and a
// HelmRelease's spec.values (no key yet) get the secret.
func TestAddToList(t *testing.T) {
	files := readPullSecretInput(t)
	for _, tc := range []struct{ file, path string }{
		{"values.yaml", "imagePullSecrets"},
		{"helmrelease.yaml", "spec.values.imagePullSecrets"},
	} {
		out, changed, err := AddToList(tc.file, files[tc.file], tc.path, "regcred")
		if err != nil || !changed {
			t.Fatalf("%s: %v, changed %v", tc.file, err, changed)
		}
		checkGolden(t, tc.file, out)
		var doc map[string]any
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%s does not parse: %v", tc.file, err)
		}
		again, changed, err := AddToList(tc.file, out, tc.path, "regcred")
		if err != nil || changed || !bytes.Equal(again, out) {
			t.Errorf("%s: second pass changed it (%v)", tc.file, err)
		}
	}
	if _, _, err := AddToList("x.yaml", []byte("image: {repository: x}\nimagePullSecrets: regcred\n"), "imagePullSecrets", "a"); !errors.Is(err, ErrCannotInsert) {
		t.Errorf("a scalar imagePullSecrets gave %v", err)
	}
}
