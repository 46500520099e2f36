package localize

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ErrInvalidPath: a rule or field path does not parse.
var ErrInvalidPath = errors.New("invalid path")

// StepKind says what one step of a Path selects.
type StepKind int

// The kinds of steps.
const (
	Key   StepKind = iota // a mapping key: `.image`, `["app.kubernetes.io/name"]`
	Index                 // a sequence element: `[0]`; negative counts from the end (`[-1]`)
	All                   // every element of a sequence or value of a mapping: `[*]` or `[]`
	Match                 // the sequence elements whose Key field is Value: `[name=app]`
)

// Step is one step of a Path.
type Step struct {
	Kind  StepKind
	Key   string // Key: the key; Match: the field compared
	Index int    // Index: the position
	Value string // Match: the value the field must have
}

// Path is a yq-style path into a YAML document, as localization rules write
// it: dotted keys with `[N]`, `[*]` and `[key=value]` selectors, for example
// `spec.template.spec.containers[name=app].image`. A key that holds a dot or
// a bracket is written `["app.kubernetes.io/name"]` (or `."…"`, as yq allows).
// Unlike yq, a Path only selects existing nodes: it never creates keys.
type Path []Step

// ParsePath parses a path. A leading "." is optional. Errors wrap
// ErrInvalidPath.
func ParsePath(s string) (Path, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, fmt.Errorf("parsing path %q: %w: %s", s, ErrInvalidPath, err)
	}
	return p, nil
}

func parsePath(s string) (Path, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	var p Path
	i := 0
	if s[0] == '.' {
		i = 1
		if len(s) == 1 {
			return nil, errors.New("no step after '.'")
		}
	}
	first := true
	for i < len(s) {
		switch {
		case s[i] == '[':
			st, n, err := parseBracket(s[i:])
			if err != nil {
				return nil, err
			}
			p = append(p, st)
			i += n
		case s[i] == '.' && !first:
			i++
			if i == len(s) {
				return nil, errors.New("path ends with '.'")
			}
			if s[i] == '[' {
				continue // yq allows `.[0]` and `.["key"]`
			}
			fallthrough
		default:
			if s[i] == '.' {
				return nil, fmt.Errorf("empty key at offset %d", i)
			}
			if s[i] == '"' {
				k, n, err := parseQuoted(s[i:])
				if err != nil {
					return nil, err
				}
				p = append(p, Step{Kind: Key, Key: k})
				i += n
				break
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				if s[j] == ']' || s[j] == '"' {
					return nil, fmt.Errorf("unexpected %q at offset %d", s[j], j)
				}
				j++
			}
			p = append(p, Step{Kind: Key, Key: s[i:j]})
			i = j
		}
		first = false
		if i < len(s) && s[i] != '.' && s[i] != '[' {
			return nil, fmt.Errorf("unexpected %q at offset %d", s[i], i)
		}
	}
	return p, nil
}

// parseBracket parses one `[…]` selector at the start of s and returns it
// with the number of bytes it took.
func parseBracket(s string) (Step, int, error) {
	if len(s) >= 2 && s[1] == '"' {
		k, n, err := parseQuoted(s[1:])
		if err != nil {
			return Step{}, 0, err
		}
		if 1+n < len(s) && s[1+n] == '=' {
			return parseMatch(s)
		}
		if 1+n >= len(s) || s[1+n] != ']' {
			return Step{}, 0, errors.New(`missing ']' after quoted key`)
		}
		return Step{Kind: Key, Key: k}, n + 2, nil
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return Step{}, 0, errors.New("missing ']'")
	}
	body := s[1:end]
	switch {
	case body == "" || body == "*":
		return Step{Kind: All}, end + 1, nil
	case strings.Contains(body, "="):
		return parseMatch(s)
	default:
		n, err := strconv.Atoi(body)
		if err != nil || strings.HasPrefix(body, "+") || (len(body) > 1 && (body[0] == '0' || strings.HasPrefix(body, "-0"))) {
			return Step{}, 0, fmt.Errorf("bad selector [%s]", body)
		}
		return Step{Kind: Index, Index: n}, end + 1, nil
	}
}

// parseMatch parses `[key=value]`, where key and value are plain words or
// double-quoted strings.
func parseMatch(s string) (Step, int, error) {
	i := 1
	word := func(stop byte) (string, error) {
		if i < len(s) && s[i] == '"' {
			w, n, err := parseQuoted(s[i:])
			if err != nil {
				return "", err
			}
			i += n
			return w, nil
		}
		j := i
		for j < len(s) && s[j] != stop && s[j] != ']' && s[j] != '"' && s[j] != '[' {
			j++
		}
		w := s[i:j]
		i = j
		return w, nil
	}
	k, err := word('=')
	if err != nil {
		return Step{}, 0, err
	}
	if k == "" || i >= len(s) || s[i] != '=' {
		return Step{}, 0, errors.New("bad [key=value] selector")
	}
	i++
	v, err := word(']')
	if err != nil {
		return Step{}, 0, err
	}
	if i >= len(s) || s[i] != ']' {
		return Step{}, 0, errors.New("missing ']' after [key=value]")
	}
	return Step{Kind: Match, Key: k, Value: v}, i + 1, nil
}

// parseQuoted reads a Go/JSON double-quoted string at the start of s.
func parseQuoted(s string) (string, int, error) {
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			v, err := strconv.Unquote(s[:j+1])
			if err != nil {
				return "", 0, fmt.Errorf("bad quoted string %s", s[:j+1])
			}
			return v, j + 1, nil
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

// String returns the path in the form ParsePath reads; ParsePath(p.String())
// equals p.
func (p Path) String() string {
	var b strings.Builder
	for i, st := range p {
		switch st.Kind {
		case Key:
			if plainWord(st.Key) {
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(st.Key)
			} else {
				b.WriteString("[" + strconv.Quote(st.Key) + "]")
			}
		case Index:
			b.WriteString("[" + strconv.Itoa(st.Index) + "]")
		case All:
			b.WriteString("[*]")
		case Match:
			b.WriteString("[" + matchWord(st.Key) + "=" + matchWord(st.Value) + "]")
		}
	}
	return b.String()
}

func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '/') {
			return false
		}
	}
	return true
}

func matchWord(s string) string {
	if s != "" && !strings.ContainsAny(s, "=]\"[") && strings.TrimSpace(s) == s &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	return strconv.Quote(s)
}

// hit is a node a path selected, with the concrete path that reached it
// (every [*] and [key=value] replaced by the index taken).
type hit struct {
	node *yaml.Node
	path Path
}

// eval returns the nodes p selects in the document or node n, in document
// order. Aliases are followed.
func (p Path) eval(n *yaml.Node) []hit {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	cur := []hit{{node: n}}
	for _, st := range p {
		var next []hit
		for _, h := range cur {
			next = step(next, h, st)
		}
		cur = next
		if len(cur) == 0 {
			return nil
		}
	}
	return cur
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func extend(p Path, st Step) Path {
	q := make(Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, st)
}

func step(out []hit, h hit, st Step) []hit {
	n := deref(h.node)
	if n == nil {
		return out
	}
	switch st.Kind {
	case Key:
		if n.Kind != yaml.MappingNode {
			return out
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == st.Key {
				return append(out, hit{node: n.Content[i+1], path: extend(h.path, st)})
			}
		}
	case Index:
		if n.Kind != yaml.SequenceNode {
			return out
		}
		i := st.Index
		if i < 0 {
			i += len(n.Content)
		}
		if i >= 0 && i < len(n.Content) {
			return append(out, hit{node: n.Content[i], path: extend(h.path, Step{Kind: Index, Index: i})})
		}
	case All:
		switch n.Kind {
		case yaml.SequenceNode:
			for i, c := range n.Content {
				out = append(out, hit{node: c, path: extend(h.path, Step{Kind: Index, Index: i})})
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
					out = append(out, hit{node: n.Content[i+1], path: extend(h.path, Step{Kind: Key, Key: k.Value})})
				}
			}
		}
	case Match:
		if n.Kind != yaml.SequenceNode {
			return out
		}
		for i, c := range n.Content {
			for _, f := range step(nil, hit{node: c}, Step{Kind: Key, Key: st.Key}) {
				if v := deref(f.node); v != nil && v.Kind == yaml.ScalarNode && v.Value == st.Value {
					out = append(out, hit{node: c, path: extend(h.path, Step{Kind: Index, Index: i})})
					break
				}
			}
		}
	}
	return out
}
