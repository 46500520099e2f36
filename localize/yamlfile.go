package localize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// ErrNotScalar: a path selected a mapping, a sequence or a block scalar,
// where a rule or the coverage check needs a one-line string.
var ErrNotScalar = errors.New("not a rewritable scalar")

// yamlFile is one YAML (or JSON) file: its bytes, every document of it, and
// the scalars rewritten so far. The documents are decoded with the YAML
// parser kyaml wraps (go.yaml.in/yaml/v3), from one stream, so node
// positions are positions in the file; rewriting splices the new scalars
// into the original bytes, so everything else stays byte for byte.
type yamlFile struct {
	path  string
	src   []byte
	docs  []*yaml.Node
	lines []int // byte offset of the start of each line
	edits map[*yaml.Node]edit
}

// edit is a new value for the scalar at src[start:end].
type edit struct {
	start, end int
	style      yaml.Style
	value      string
}

func parseYAML(path string, src []byte) (*yamlFile, error) {
	f := &yamlFile{path: path, src: src, edits: map[*yaml.Node]edit{}}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		f.docs = append(f.docs, &n)
	}
	return f, nil
}

// set records v as the new value of the scalar n (after checking that it can
// be spliced) and updates n, so later rules and the coverage check see it.
func (f *yamlFile) set(n *yaml.Node, v string) error {
	e, ok := f.edits[n]
	if !ok {
		if n.Value == v && n.Tag == "!!str" && n.Kind == yaml.ScalarNode {
			return nil // already so: leave the bytes alone
		}
		start, end, err := f.span(n)
		if err != nil {
			return err
		}
		e = edit{start: start, end: end, style: n.Style}
	}
	e.value = v
	f.edits[n] = e
	n.Value = v
	n.Tag = "!!str"
	return nil
}

func (f *yamlFile) changed() bool { return len(f.edits) > 0 }

// offset converts a 1-based line and column (counted in characters, as the
// parser counts) to a byte offset.
func (f *yamlFile) offset(line, col int) (int, bool) {
	if f.lines == nil {
		f.lines = []int{0}
		for i, c := range f.src {
			if c == '\n' {
				f.lines = append(f.lines, i+1)
			}
		}
	}
	if line < 1 || line > len(f.lines) || col < 1 {
		return 0, false
	}
	p := f.lines[line-1]
	for i := 1; i < col; i++ {
		if p >= len(f.src) || f.src[p] == '\n' {
			return 0, false
		}
		_, w := utf8.DecodeRune(f.src[p:])
		p += w
	}
	return p, true
}

// span returns the bytes [start, end) that hold the scalar n in the source,
// without its anchor and tag.
func (f *yamlFile) span(n *yaml.Node) (int, int, error) {
	where := func() string { return fmt.Sprintf("%s:%d:%d", f.path, n.Line, n.Column) }
	if n.Kind != yaml.ScalarNode {
		return 0, 0, fmt.Errorf("%s: %w (%s node)", where(), ErrNotScalar, kindName(n.Kind))
	}
	start, ok := f.offset(n.Line, n.Column)
	if !ok {
		return 0, 0, fmt.Errorf("%s: %w (position outside the file)", where(), ErrNotScalar)
	}
	src := f.src
	// Skip an anchor (&a) and a tag (!!str) in front of the value.
	for start < len(src) && (src[start] == '&' || src[start] == '!') {
		for start < len(src) && !isSpace(src[start]) {
			start++
		}
		for start < len(src) && (src[start] == ' ' || src[start] == '\t') {
			start++
		}
	}
	style := n.Style &^ (yaml.TaggedStyle | yaml.FlowStyle)
	switch style {
	case yaml.DoubleQuotedStyle:
		if start >= len(src) || src[start] != '"' {
			break
		}
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return start, i + 1, nil
			}
		}
	case yaml.SingleQuotedStyle:
		if start >= len(src) || src[start] != '\'' {
			break
		}
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return start, i + 1, nil
			}
		}
	case 0:
		if n.Value == "" && n.Tag == "!!null" {
			return start, start, nil // `image:` with nothing after it
		}
		end := start + len(n.Value)
		if end <= len(src) && string(src[start:end]) == n.Value && (end == len(src) || strings.IndexByte(" \t\r\n,]}", src[end]) >= 0) {
			return start, end, nil
		}
		return 0, 0, fmt.Errorf("%s: %w (a plain scalar over several lines)", where(), ErrNotScalar)
	default:
		return 0, 0, fmt.Errorf("%s: %w (a block scalar)", where(), ErrNotScalar)
	}
	return 0, 0, fmt.Errorf("%s: %w (cannot find its quotes)", where(), ErrNotScalar)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	default:
		return "scalar"
	}
}

// render returns the file with every recorded edit spliced in.
func (f *yamlFile) render() ([]byte, error) {
	if len(f.edits) == 0 {
		return f.src, nil
	}
	type splice struct {
		start, end int
		text       string
	}
	var ss []splice
	for _, e := range f.edits {
		ss = append(ss, splice{e.start, e.end, encodeScalar(f.src, e.start, e.end, e.style, e.value)})
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].start < ss[j].start })
	var out bytes.Buffer
	out.Grow(len(f.src) + 64*len(ss))
	prev := 0
	for _, s := range ss {
		if s.start < prev {
			return nil, fmt.Errorf("rewriting %s: overlapping scalars at byte %d", f.path, s.start)
		}
		out.Write(f.src[prev:s.start])
		out.WriteString(s.text)
		prev = s.end
	}
	out.Write(f.src[prev:])
	return out.Bytes(), nil
}

// encodeScalar writes v in the quoting style the old scalar had: quoted
// stays quoted the same way, plain stays plain unless v would not read back
// as the same string, in which case it is double-quoted.
func encodeScalar(src []byte, start, end int, style yaml.Style, v string) string {
	style &^= yaml.TaggedStyle | yaml.FlowStyle
	switch {
	case style == yaml.SingleQuotedStyle && !strings.ContainsAny(v, "\n\r"):
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case style == yaml.DoubleQuotedStyle || !plainSafe(v):
		return doubleQuote(v)
	}
	if start == end && start > 0 && src[start-1] == ':' {
		return " " + v // was `key:` with no value
	}
	return v
}

func doubleQuote(v string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// plainSafe reports whether v, written without quotes in block or flow
// context, reads back as the string v.
func plainSafe(v string) bool {
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsAny(v, ",[]{}#\"'\n\r\t") ||
		strings.Contains(v, ": ") || strings.HasSuffix(v, ":") {
		return false
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(v), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.Tag == "!!str" && c.Value == v && c.Style == 0
}

// scalarString returns the value of a string-like scalar (following an
// alias), or false when n is not a scalar.
func scalarString(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}
