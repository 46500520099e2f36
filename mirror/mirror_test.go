package mirror

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// sample are the sample release's images (testdata/podinfo, published in
// ghcr.io) and their copies under registry.local:5000/air.
var sample = []Pair{
	{Source: "ghcr.io/library/busybox", Mirror: "registry.local:5000/air/library/busybox"},
	{Source: "ghcr.io/stefanprodan/podinfo", Mirror: "registry.local:5000/air/stefanprodan/podinfo"},
}

// mixed adds a host whose copies share no root (a sub path dropped for one
// of them) and a Docker Hub image copied to the registry's root.
var mixed = append(slices.Clone(sample),
	Pair{Source: "docker.io/library/redis", Mirror: "registry.local:5000/air/library/redis"},
	Pair{Source: "quay.io/ocm/app", Mirror: "registry.local:5000/air/app"},
	Pair{Source: "quay.io/other/tool", Mirror: "registry.local:5000/air/other/tool"},
)

// hostsTOML is the part of containerd's hosts.toml schema ferry writes.
type hostsTOML struct {
	Server string `toml:"server"`
	Host   map[string]struct {
		Capabilities []string `toml:"capabilities"`
		OverridePath bool     `toml:"override_path"`
		CA           string   `toml:"ca"`
	} `toml:"host"`
}

func TestContainerdParses(t *testing.T) {
	files, err := Generate(Containerd, sample, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "ghcr.io/hosts.toml" {
		t.Fatalf("files %v", files)
	}
	var h hostsTOML
	md, err := toml.Decode(string(files[0].Data), &h)
	if err != nil {
		t.Fatalf("hosts.toml does not parse: %v\n%s", err, files[0].Data)
	}
	if un := md.Undecoded(); len(un) > 0 {
		t.Errorf("keys containerd does not know: %v", un)
	}
	host, ok := h.Host["https://registry.local:5000/v2/air"]
	if h.Server != "https://ghcr.io" || !ok || !host.OverridePath || !slices.Equal(host.Capabilities, []string{"pull", "resolve"}) ||
		host.CA != "/etc/containerd/certs.d/registry.local:5000/ca.crt" {
		t.Errorf("hosts.toml = %+v", h)
	}

	// A mirror at the registry's root needs no override_path; plain HTTP no CA.
	files, err = Generate(Containerd, []Pair{{Source: "docker.io/library/redis", Mirror: "lab:5000/library/redis"}}, Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	h = hostsTOML{}
	if _, err := toml.Decode(string(files[0].Data), &h); err != nil {
		t.Fatal(err)
	}
	host, ok = h.Host["http://lab:5000"]
	if files[0].Path != "docker.io/hosts.toml" || h.Server != "https://registry-1.docker.io" || !ok || host.OverridePath || host.CA != "" {
		t.Errorf("root mirror: %s %+v", files[0].Path, h)
	}

	// Copies that share no root cannot be said host-wide.
	if _, err := Generate(Containerd, mixed, Options{}); !errors.Is(err, ErrNotHostWide) || !strings.Contains(err.Error(), "quay.io") {
		t.Errorf("mixed: %v", err)
	}
}

// registriesConf is the part of containers-registries.conf(5) ferry writes.
type registriesConf struct {
	Registry []struct {
		Prefix   string `toml:"prefix"`
		Location string `toml:"location"`
		Mirror   []struct {
			Location string `toml:"location"`
			Insecure bool   `toml:"insecure"`
		} `toml:"mirror"`
	} `toml:"registry"`
}

func TestCRIOParses(t *testing.T) {
	files, err := Generate(CRIO, mixed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c registriesConf
	md, err := toml.Decode(string(files[0].Data), &c)
	if err != nil {
		t.Fatalf("registries.conf does not parse: %v\n%s", err, files[0].Data)
	}
	if un := md.Undecoded(); len(un) > 0 {
		t.Errorf("unknown keys: %v", un)
	}
	got := map[string]string{}
	for _, r := range c.Registry {
		if r.Location != r.Prefix || len(r.Mirror) != 1 || r.Mirror[0].Insecure {
			t.Errorf("entry %+v", r)
			continue
		}
		got[r.Prefix] = r.Mirror[0].Location
	}
	want := map[string]string{
		"ghcr.io":            "registry.local:5000/air",
		"docker.io":          "registry.local:5000/air",
		"quay.io/ocm/app":    "registry.local:5000/air/app",
		"quay.io/other/tool": "registry.local:5000/air/other/tool",
	}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s -> %q, want %q", k, got[k], v)
		}
	}
}

func TestRKE2Parses(t *testing.T) {
	files, err := Generate(RKE2, mixed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Mirrors map[string]struct {
			Endpoint []string          `json:"endpoint"`
			Rewrite  map[string]string `json:"rewrite"`
		} `json:"mirrors"`
		Configs map[string]struct {
			Auth struct{ Username, Password string } `json:"auth"`
			TLS  struct {
				CAFile string `json:"ca_file"`
			} `json:"tls"`
		} `json:"configs"`
	}
	if err := yaml.UnmarshalStrict(files[0].Data, &r); err != nil {
		t.Fatalf("registries.yaml: %v\n%s", err, files[0].Data)
	}
	g := r.Mirrors["ghcr.io"]
	if !slices.Equal(g.Endpoint, []string{"https://registry.local:5000"}) || g.Rewrite["^(.*)$"] != "air/$1" {
		t.Errorf("ghcr.io: %+v", g)
	}
	q := r.Mirrors["quay.io"]
	if q.Rewrite[`^ocm/app$`] != "air/app" || q.Rewrite[`^other/tool$`] != "air/other/tool" {
		t.Errorf("quay.io: %+v", q)
	}
	c := r.Configs["registry.local:5000"]
	if c.Auth.Username != "<USERNAME>" || c.TLS.CAFile == "" {
		t.Errorf("configs: %+v", r.Configs)
	}
}

// TestIDMSValidatesAgainstCRD validates the ImageDigestMirrorSet against
// the openAPIV3Schema of OpenShift's CRD (vendored in testdata), and checks
// that it uses no field the schema does not name.
func TestIDMSValidatesAgainstCRD(t *testing.T) {
	crdYAML, err := os.ReadFile(filepath.Join("testdata", "imagedigestmirrorsets.crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(crdYAML, &crd); err != nil {
		t.Fatal(err)
	}
	schemaDoc := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	c := jsonschema.NewCompiler()
	if err := c.AddResource("idms.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("idms.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, pairs := range [][]Pair{sample, mixed} {
		files, err := Generate(IDMS, pairs, Options{Name: "podinfo-mirrors"})
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(files[0].Data)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("the IDMS does not validate: %v\n%s", err, files[0].Data)
		}
		unknownFields(t, "", doc, schemaDoc)
		var idms struct {
			APIVersion, Kind string
			Metadata         struct{ Name string }
			Spec             struct {
				ImageDigestMirrors []struct {
					Source  string
					Mirrors []string
				}
			}
		}
		_ = yaml.Unmarshal(files[0].Data, &idms)
		if idms.APIVersion != "config.openshift.io/v1" || idms.Kind != "ImageDigestMirrorSet" || idms.Metadata.Name != "podinfo-mirrors" ||
			len(idms.Spec.ImageDigestMirrors) != len(pairs) {
			t.Errorf("IDMS %+v", idms)
		}
		for i, m := range idms.Spec.ImageDigestMirrors {
			if m.Source != pairs[i].Source || !slices.Equal(m.Mirrors, []string{pairs[i].Mirror}) {
				t.Errorf("entry %d: %+v, want %+v", i, m, pairs[i])
			}
		}
	}
	// The schema is strict enough to refuse a broken entry.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"spec":{"imageDigestMirrors":[{"source":"Bad Host/x","mirrors":["ok.io/x"]}]}}`))
	if err := sch.Validate(bad); err == nil {
		t.Error("the schema accepted a source with a space")
	}
}

// unknownFields fails on every key of doc that the schema's properties do
// not name (a structural CRD prunes such fields silently).
func unknownFields(t *testing.T, at string, doc any, schema map[string]any) {
	t.Helper()
	switch d := doc.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		if props == nil {
			return // an open object (metadata)
		}
		for k, v := range d {
			sub, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not a field of the CRD", at, k)
				continue
			}
			unknownFields(t, at+"."+k, v, sub)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for _, v := range d {
			unknownFields(t, at+"[]", v, items)
		}
	}
}

func TestWriteAndFormats(t *testing.T) {
	dir := t.TempDir()
	paths, err := Write(dir, Containerd, sample, Options{})
	if err != nil || len(paths) != 1 {
		t.Fatalf("%v %v", paths, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ghcr.io", "hosts.toml")); err != nil {
		t.Error(err)
	}
	if _, err := ParseFormat("docker"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(docker) = %v", err)
	}
	if _, err := Generate(CRIO, nil, Options{}); !errors.Is(err, ErrNoImages) {
		t.Errorf("no pairs: %v", err)
	}
}
