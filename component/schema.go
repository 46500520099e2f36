package component

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"sigs.k8s.io/yaml"
)

// The official schemas, copied verbatim from OCM (see schemas/README.md).
var (
	//go:embed schemas/component-descriptor-v2-schema.yaml
	schemaV2YAML []byte
	//go:embed schemas/component-descriptor-ocm-v3-schema.yaml
	schemaV3YAML []byte
)

// descriptorSchema is one embedded schema, compiled on first use: a run
// that only reads v2 descriptors never compiles the v3 schema, and one that
// decodes no descriptor compiles neither.
type descriptorSchema struct {
	url  string
	src  []byte
	once sync.Once
	sch  *jsonschema.Schema
	err  error
}

var (
	schemaV2 = &descriptorSchema{url: "https://gardener.cloud/schemas/component-descriptor-v2", src: schemaV2YAML}
	schemaV3 = &descriptorSchema{url: "https://gardener.cloud/schemas/component-descriptor-ocm-v3alpha1", src: schemaV3YAML}
)

// compiled returns the compiled schema, compiling it the first time.
func (s *descriptorSchema) compiled() (*jsonschema.Schema, error) {
	s.once.Do(func() { s.sch, s.err = compileSchema(s.url, s.src) })
	return s.sch, s.err
}

// compileSchema compiles the YAML schema src, registered under url.
func compileSchema(url string, src []byte) (*jsonschema.Schema, error) {
	j, err := yaml.YAMLToJSON(src)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// PrepareSchema starts compiling the schema of scheme in the background, so
// that a caller about to wait on the network for a descriptor does not wait
// for the compile (about 8 ms) after it. Decoding uses the same compiled
// schema, waiting for the compile if it is still under way.
func PrepareSchema(scheme Scheme) {
	go schemaFor(scheme).compiled()
}

// schemaFor returns the schema of scheme: v3alpha1's, or v2's for any other.
func schemaFor(scheme Scheme) *descriptorSchema {
	if scheme == SchemeV3Alpha1 {
		return schemaV3
	}
	return schemaV2
}

var printer = message.NewPrinter(language.English)

// validateSchema checks doc (generic JSON values) against the official
// schema of scheme and returns every violation as a ValidationError.
func validateSchema(scheme Scheme, doc any) error {
	sch, err := schemaFor(scheme).compiled()
	if err != nil {
		return fmt.Errorf("compiling embedded descriptor schemas: %w", err)
	}
	err = sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validating descriptor against the %s schema: %w", scheme, err)
	}
	var all, nonNull ValidationErrors
	collectSchemaErrors(ve, doc, &all, nil)
	for _, e := range all {
		if !e.nullBranch {
			nonNull = append(nonNull, e)
		}
	}
	if len(nonNull) > 0 {
		all = nonNull
	}
	return dedupe(all)
}

// collectSchemaErrors flattens ve to its leaves. parent is the instance
// location of the enclosing error: jsonschema v6.0.3 gives propertyNames
// errors a location slice it later reuses, so they take their parent's.
func collectSchemaErrors(ve *jsonschema.ValidationError, doc any, out *ValidationErrors, parent []string) {
	if k, ok := ve.ErrorKind.(*kind.PropertyNames); ok {
		// the causes describe the key as a document of its own: report them at the key
		rule := "key is not allowed"
		if len(ve.Causes) > 0 {
			rule = "key: " + leafMessage(ve.Causes[0])
		}
		*out = append(*out, &ValidationError{Path: joinPath(instancePath(doc, parent), k.Property), Rule: "schema: " + rule})
		return
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectSchemaErrors(c, doc, out, ve.InstanceLocation)
		}
		return
	}
	path := instancePath(doc, ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, &ValidationError{Path: joinPath(path, m), Rule: "required by the schema, missing"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, &ValidationError{Path: joinPath(path, p), Rule: "not allowed by the schema (additionalProperties: false)"})
		}
	case *kind.Type:
		*out = append(*out, &ValidationError{
			Path:       orRoot(path),
			Rule:       "schema: " + k.LocalizedString(printer),
			nullBranch: len(k.Want) == 1 && k.Want[0] == "null",
		})
	default:
		*out = append(*out, &ValidationError{Path: orRoot(path), Rule: "schema: " + ve.ErrorKind.LocalizedString(printer)})
	}
}

func dedupe(l ValidationErrors) ValidationErrors {
	seen := map[string]bool{}
	var out ValidationErrors
	for _, e := range l {
		k := e.Path + "\x00" + e.Rule
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func orRoot(p string) string {
	if p == "" {
		return "(document)"
	}
	return p
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// instancePath renders a JSON pointer's segments as component.resources[2].name,
// using the document to tell list indexes from map keys.
func instancePath(doc any, segs []string) string {
	var b strings.Builder
	cur := doc
	for _, s := range segs {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + s + "]")
			if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(v) {
				cur = v[i]
			} else {
				cur = nil
			}
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
			if m, ok := v.(map[string]any); ok {
				cur = m[s]
			} else {
				cur = nil
			}
		}
	}
	return b.String()
}

func leafMessage(ve *jsonschema.ValidationError) string {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve.ErrorKind.LocalizedString(printer)
}
