package component

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// Limits on untrusted descriptor input. Real descriptors are a few KiB and
// less than 15 levels deep.
const (
	// MaxDescriptorBytes is the largest descriptor Decode accepts (16 MiB).
	MaxDescriptorBytes = 16 << 20
	// MaxNesting is the deepest nesting of maps and lists Decode accepts,
	// counted after YAML aliases are expanded.
	MaxNesting = 100
	// maxExpandedBytes bounds the size of the document after YAML aliases
	// are expanded (a "billion laughs" document is small until expanded).
	maxExpandedBytes = 2 * MaxDescriptorBytes
)

// ErrTooLarge: the descriptor exceeds MaxDescriptorBytes, MaxNesting, or
// expands beyond the size limit through YAML aliases.
var ErrTooLarge = errors.New("descriptor too large")

// toJSON converts YAML or JSON descriptor bytes to JSON the way OCM v1 does
// (sigs.k8s.io/yaml, YAML 1.1 scalars), after checking the input limits.
func toJSON(data []byte) ([]byte, error) {
	if len(data) > MaxDescriptorBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxDescriptorBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty descriptor")
	}
	if err := checkShape(data); err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing descriptor: %w", err)
	}
	return j, nil
}

// checkShape parses the first YAML document into nodes (aliases stay
// unexpanded) and measures its depth and expanded size.
func checkShape(data []byte) error {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parsing descriptor: %w", err)
	}
	m := measurer{memo: map[*yamlv3.Node]shape{}}
	s, err := m.measure(&doc, 0)
	if err != nil {
		return err
	}
	if s.size > maxExpandedBytes {
		return fmt.Errorf("%w: YAML aliases expand it to more than %d bytes", ErrTooLarge, maxExpandedBytes)
	}
	return nil
}

type shape struct {
	size  int64 // approximate bytes after alias expansion
	depth int   // nesting levels below the node
}

type measurer struct {
	memo map[*yamlv3.Node]shape
}

var errAliasCycle = errors.New("parsing descriptor: YAML alias refers to its own anchor")

func (m *measurer) measure(n *yamlv3.Node, level int) (shape, error) {
	if n == nil {
		return shape{}, nil
	}
	if level > MaxNesting+2 { // document node and the top mapping are levels 0 and 1
		return shape{}, fmt.Errorf("%w: nested deeper than %d levels", ErrTooLarge, MaxNesting)
	}
	if s, ok := m.memo[n]; ok {
		if s.size < 0 {
			return shape{}, errAliasCycle
		}
		return s, nil
	}
	m.memo[n] = shape{size: -1}
	var s shape
	switch n.Kind {
	case yamlv3.AliasNode:
		t, err := m.measure(n.Alias, level)
		if err != nil {
			return shape{}, err
		}
		s = t
		delete(m.memo, n) // an alias node is cheap; its target is memoised
		if level+s.depth > MaxNesting+2 {
			return shape{}, fmt.Errorf("%w: nested deeper than %d levels", ErrTooLarge, MaxNesting)
		}
		return s, nil
	case yamlv3.ScalarNode:
		s = shape{size: int64(len(n.Value)) + 4}
	default:
		s.size = 2
		for _, c := range n.Content {
			cs, err := m.measure(c, level+1)
			if err != nil {
				return shape{}, err
			}
			s.size += cs.size + 2
			if s.size > maxExpandedBytes {
				return shape{}, fmt.Errorf("%w: YAML aliases expand it to more than %d bytes", ErrTooLarge, maxExpandedBytes)
			}
			s.depth = max(s.depth, cs.depth+1)
		}
	}
	m.memo[n] = s
	return s, nil
}

// parseJSON decodes JSON into generic values, numbers as json.Number.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func compactJSON(raw []byte) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return json.RawMessage(b.Bytes()), nil
}
