package localize

import (
	"fmt"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ConfigData's apiVersion and kind (ocm-controller's format, INTEROP §6.1).
const (
	ConfigDataAPIVersion = "config.ocm.software/v1alpha1"
	ConfigDataKind       = "ConfigData"
)

// Rule is one `localization:` entry of a ConfigData: which image resource,
// which file, and the paths that receive the whole reference (Image) or its
// parts (Registry, Repository, Tag). Each path is optional; a rule sets at
// least one.
type Rule struct {
	Name       string      `yaml:"name,omitempty" json:"name,omitempty"`
	File       string      `yaml:"file" json:"file"`
	Image      string      `yaml:"image,omitempty" json:"image,omitempty"`
	Registry   string      `yaml:"registry,omitempty" json:"registry,omitempty"`
	Repository string      `yaml:"repository,omitempty" json:"repository,omitempty"`
	Tag        string      `yaml:"tag,omitempty" json:"tag,omitempty"`
	Resource   ResourceRef `yaml:"resource" json:"resource"`
}

// ResourceRef names the image resource of a rule: its name and
// extraIdentity, in the component reached through ReferencePath (identities
// of component references, outermost first). Version is read for
// compatibility and not used to select.
type ResourceRef struct {
	Name          string            `yaml:"name" json:"name"`
	Version       string            `yaml:"version,omitempty" json:"version,omitempty"`
	ExtraIdentity map[string]string `yaml:"extraIdentity,omitempty" json:"extraIdentity,omitempty"`
	ReferencePath []Identity        `yaml:"referencePath,omitempty" json:"referencePath,omitempty"`
}

// Identity returns the resource identity: extraIdentity plus name.
func (r ResourceRef) Identity() Identity {
	id := Identity{}
	for k, v := range r.ExtraIdentity {
		id[k] = v
	}
	id["name"] = r.Name
	return id
}

// label names rule i in errors: its name, else its position.
func (r Rule) label(i int) string {
	if r.Name != "" {
		return fmt.Sprintf("%q", r.Name)
	}
	return fmt.Sprintf("localization[%d] (resource %s)", i, r.Resource.Identity())
}

// fields returns the rule's (kind, path) pairs in a fixed order.
func (r Rule) fields() [][2]string {
	var f [][2]string
	for _, x := range [][2]string{{"image", r.Image}, {"registry", r.Registry}, {"repository", r.Repository}, {"tag", r.Tag}} {
		if x[1] != "" {
			f = append(f, x)
		}
	}
	return f
}

// configData is the part of a ConfigData localization reads.
type configData struct {
	APIVersion   string `yaml:"apiVersion"`
	Kind         string `yaml:"kind"`
	Localization []Rule `yaml:"localization"`
}

// ParseRules reads the localization rules of a ConfigData document
// (apiVersion config.ocm.software/v1alpha1, kind ConfigData). Other sections
// (configuration, metadata) are ignored. Every rule is checked: a file that
// stays inside the tree, at least one path, each path valid, a resource name.
func ParseRules(b []byte) ([]Rule, error) {
	var cd configData
	if err := yaml.Unmarshal(b, &cd); err != nil {
		return nil, fmt.Errorf("reading ConfigData: %w", err)
	}
	if cd.APIVersion != ConfigDataAPIVersion || cd.Kind != ConfigDataKind {
		return nil, fmt.Errorf("reading ConfigData: apiVersion %q kind %q, want %s %s", cd.APIVersion, cd.Kind, ConfigDataAPIVersion, ConfigDataKind)
	}
	for i, r := range cd.Localization {
		if err := r.check(); err != nil {
			return nil, &RuleError{Rule: r.label(i), File: r.File, Err: err}
		}
	}
	return cd.Localization, nil
}

func (r Rule) check() error {
	if _, err := cleanFile(r.File); err != nil {
		return err
	}
	if r.Resource.Name == "" {
		return fmt.Errorf("no resource name")
	}
	if len(r.fields()) == 0 {
		return fmt.Errorf("no image, registry, repository or tag path")
	}
	for _, f := range r.fields() {
		if _, err := ParsePath(f[1]); err != nil {
			return err
		}
	}
	return nil
}

// cleanFile turns a rule's file into a path of the tree ("manifests/deploy.yaml").
func cleanFile(f string) (string, error) {
	if f == "" {
		return "", fmt.Errorf("no file")
	}
	c := path.Clean(strings.TrimPrefix(f, "/"))
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("file %q is outside the tree", f)
	}
	return c, nil
}
