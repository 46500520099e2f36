package localize

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ErrNoServiceAccount: PullSecretOptions.ServiceAccount names a
// ServiceAccount the manifests do not hold.
var ErrNoServiceAccount = errors.New("no such ServiceAccount in the manifests")

// ErrCannotInsert: a place where an image pull secret belongs is written
// in a way ferry does not edit without rewriting the file (a value that is
// neither a list nor empty, a mapping that starts on a sequence item's line).
var ErrCannotInsert = errors.New("cannot insert the image pull secret here")

// PullSecretOptions say which image pull secret to name, and where.
type PullSecretOptions struct {
	// Secret is the name of the Secret (of type kubernetes.io/dockerconfigjson)
	// that holds the private registry's credentials. ferry only names it:
	// the Secret itself is never written.
	Secret string
	// ServiceAccount, when set, names the ServiceAccount (in the manifests)
	// whose imagePullSecrets get the secret, instead of every workload's pod
	// spec.
	ServiceAccount string
}

// AddPullSecret adds {name: Secret} to imagePullSecrets in the pod spec of
// every workload in files (Pods, Deployments, StatefulSets, DaemonSets,
// ReplicaSets, ReplicationControllers, PodTemplates, Jobs, CronJobs, and
// the items of Lists), or, with ServiceAccount, to that ServiceAccount.
// Entries already there are kept, and a pod spec that names the secret
// already is left alone; every other byte of the files stays as it was
// (comments, key order, quoting). It returns the files, rewritten where
// they changed, and one Change per pod spec or ServiceAccount changed.
func AddPullSecret(files Files, o PullSecretOptions) (Files, []Change, error) {
	if o.Secret == "" {
		return nil, nil, errors.New("image pull secret: no name given")
	}
	out := Files{}
	for p, b := range files {
		out[p] = b
	}
	var changes []Change
	var names []string
	for p := range files {
		if isYAMLName(p) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	foundSA := false
	for _, p := range names {
		f, err := parseYAML(p, files[p])
		if err != nil {
			continue // a Helm template or an AppleDouble file, as the coverage check skips them
		}
		var ins []insertion
		for di, doc := range f.docs {
			if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
				continue
			}
			var targets []hit
			visitObjects(doc.Content[0], nil, 0, func(n *yaml.Node, prefix Path, kind, name string) {
				if o.ServiceAccount != "" {
					if kind == "ServiceAccount" && name == o.ServiceAccount {
						foundSA = true
						targets = append(targets, hit{node: n, path: prefix})
					}
					return
				}
				if spec, ok := podSpecs[kind]; ok {
					for _, h := range spec.eval(n) {
						if h.node.Kind == yaml.MappingNode {
							targets = append(targets, hit{node: h.node, path: append(append(Path{}, prefix...), h.path...)})
						}
					}
				}
			})
			for _, t := range targets {
				in, changed, err := f.addNamed(t.node, "imagePullSecrets", o.Secret)
				if err != nil {
					return nil, nil, fmt.Errorf("%s[%d] %s: %w", p, di, t.path, err)
				}
				if changed {
					ins = append(ins, in)
					changes = append(changes, Change{Rule: "pull-secret", File: p, Document: di,
						Path: extend(t.path, Step{Kind: Key, Key: "imagePullSecrets"}).String(), New: o.Secret})
				}
			}
		}
		if len(ins) > 0 {
			out[p] = splice(f.src, ins)
		}
	}
	if o.ServiceAccount != "" && !foundSA {
		return nil, nil, fmt.Errorf("ServiceAccount %q: %w (name one the manifests hold, or use the pull secret on the workloads)", o.ServiceAccount, ErrNoServiceAccount)
	}
	return out, changes, nil
}

// AddToList adds {name: NAME} to the list under the key path (dot-separated
// keys, "imagePullSecrets", "spec.values.imagePullSecrets",
// "global.imagePullSecrets") of every document of a YAML file that has the
// key's parent mapping, creating the key when the mapping lacks it; entries
// already there are kept and a list that names NAME already is left alone.
// Every other byte stays as it was. It is how an image pull secret gets
// into a chart's values or a HelmRelease's spec.values. changed reports
// whether anything was added.
func AddToList(path string, src []byte, keyPath, name string) (out []byte, changed bool, err error) {
	keys := strings.Split(keyPath, ".")
	for _, k := range keys {
		if k == "" {
			return nil, false, fmt.Errorf("key path %q: empty key", keyPath)
		}
	}
	f, err := parseYAML(path, src)
	if err != nil {
		return nil, false, err
	}
	parent := Path{}
	for _, k := range keys[:len(keys)-1] {
		parent = append(parent, Step{Kind: Key, Key: k})
	}
	var ins []insertion
	for di, doc := range f.docs {
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
			continue
		}
		for _, h := range parent.eval(doc.Content[0]) {
			m := deref(h.node)
			if m == nil || m.Kind != yaml.MappingNode {
				continue
			}
			in, ok, err := f.addNamed(m, keys[len(keys)-1], name)
			if err != nil {
				return nil, false, fmt.Errorf("%s[%d] %s: %w", path, di, keyPath, err)
			}
			if ok {
				ins = append(ins, in)
			}
		}
	}
	if len(ins) == 0 {
		return src, false, nil
	}
	return splice(src, ins), true, nil
}

// insertion is text to insert at a byte offset.
type insertion struct {
	at   int
	text string
}

func splice(src []byte, ins []insertion) []byte {
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].at < ins[j].at })
	var b bytes.Buffer
	prev := 0
	for _, in := range ins {
		b.Write(src[prev:in.at])
		b.WriteString(in.text)
		prev = in.at
	}
	b.Write(src[prev:])
	return b.Bytes()
}

// addNamed plans the insertion of {name: NAME} into the list under key of
// the mapping m. It reports false when the list names NAME already.
func (f *yamlFile) addNamed(m *yaml.Node, key, name string) (insertion, bool, error) {
	var k, v *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i].Kind == yaml.ScalarNode {
			k, v = m.Content[i], deref(m.Content[i+1])
		}
	}
	entry := "{name: " + yamlString(name) + "}"
	if f.json() {
		entry = `{"name": ` + doubleQuote(name) + `}`
	}
	switch {
	case v != nil && v.Kind == yaml.SequenceNode:
		for _, it := range v.Content {
			if s, ok := scalarString(first(Path{{Kind: Key, Key: "name"}}.eval(it))); ok && s == name {
				return insertion{}, false, nil
			}
		}
		at, ok := f.offset(v.Line, v.Column)
		if !ok {
			return insertion{}, false, fmt.Errorf("%s: %w (position outside the file)", key, ErrCannotInsert)
		}
		if v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 {
			if at >= len(f.src) || f.src[at] != '[' {
				return insertion{}, false, fmt.Errorf("%s: %w (cannot find its '[')", key, ErrCannotInsert)
			}
			if len(v.Content) > 0 {
				entry += ","
				if at+1 < len(f.src) && !isSpace(f.src[at+1]) {
					entry += " "
				}
			}
			return insertion{at + 1, entry}, true, nil
		}
		// A block list: the new entry goes last, as an item like the others.
		ls, indent, ok := f.lineIndent(at)
		if !ok || at >= len(f.src) || f.src[at] != '-' {
			return insertion{}, false, fmt.Errorf("%s: %w (a list item that does not start its line)", key, ErrCannotInsert)
		}
		return f.appendLines(ls, len(indent), true, indent+"- name: "+yamlString(name)+"\n"), true, nil
	case v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "":
		// `key:` with nothing after it.
		at, ok := f.offset(k.Line, k.Column)
		if !ok {
			return insertion{}, false, fmt.Errorf("%s: %w (position outside the file)", key, ErrCannotInsert)
		}
		colon := bytes.IndexByte(f.src[at:], ':')
		if colon < 0 {
			return insertion{}, false, fmt.Errorf("%s: %w (cannot find its ':')", key, ErrCannotInsert)
		}
		return insertion{at + colon + 1, " [" + entry + "]"}, true, nil
	case v != nil:
		return insertion{}, false, fmt.Errorf("%s is a %s, not a list: %w", key, kindName(v.Kind), ErrCannotInsert)
	}
	// No such key: add it to the mapping.
	at, ok := f.offset(m.Line, m.Column)
	if !ok {
		return insertion{}, false, fmt.Errorf("%s: %w (position outside the file)", key, ErrCannotInsert)
	}
	if m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		if at >= len(f.src) || f.src[at] != '{' {
			return insertion{}, false, fmt.Errorf("%s: %w (cannot find the mapping's '{')", key, ErrCannotInsert)
		}
		text := yamlString(key) + ": [" + entry + "]"
		if f.json() {
			text = doubleQuote(key) + ": [" + entry + "]"
		}
		if len(m.Content) > 0 {
			text += ","
			if at+1 < len(f.src) && !isSpace(f.src[at+1]) {
				text += " "
			}
		}
		return insertion{at + 1, text}, true, nil
	}
	k0 := m.Content[0]
	kat, ok := f.offset(k0.Line, k0.Column)
	if !ok {
		return insertion{}, false, fmt.Errorf("%s: %w (position outside the file)", key, ErrCannotInsert)
	}
	indent := strings.Repeat(" ", k0.Column-1)
	if bytes.IndexByte(f.src[bytes.LastIndexByte(f.src[:kat], '\n')+1:kat], '\t') >= 0 {
		return insertion{}, false, fmt.Errorf("%s: %w (tabs before the mapping's first key)", key, ErrCannotInsert)
	}
	// Indent the list as the mapping's other block lists are ("- " under
	// the key, or two spaces in).
	item := indent
	for i := 0; i+1 < len(m.Content); i += 2 {
		c := m.Content[i+1]
		if c.Kind == yaml.SequenceNode && c.Style&yaml.FlowStyle == 0 && len(c.Content) > 0 {
			if cat, ok := f.offset(c.Line, c.Column); ok {
				if _, ci, ok := f.lineIndent(cat); ok && strings.HasPrefix(ci, indent) {
					item = ci
				}
			}
			break
		}
	}
	last := m.Content[len(m.Content)-2]
	lat, ok := f.offset(last.Line, last.Column)
	if !ok {
		return insertion{}, false, fmt.Errorf("%s: %w (position outside the file)", key, ErrCannotInsert)
	}
	return f.appendLines(lat, len(indent), false, indent+key+":\n"+item+"- name: "+yamlString(name)+"\n"), true, nil
}

// appendLines places text after the last line of a block node whose lines
// start at or after from: a mapping with keys at column indent, or (seq)
// a list with its dashes there. The node ends before the first line that
// holds content less indented, or as indented but (for a list) no item, or
// a document marker; blank lines and comments do not end it, and those
// after its last line stay after the insertion.
func (f *yamlFile) appendLines(from, indent int, seq bool, text string) insertion {
	src := f.src
	pos := bytes.IndexByte(src[from:], '\n')
	if pos < 0 {
		return f.atEOF(text)
	}
	end := from + pos + 1 // the end of the node's last content line, newline included
	for p := end; p < len(src); {
		nl := bytes.IndexByte(src[p:], '\n')
		line := src[p:]
		next := len(src)
		if nl >= 0 {
			line, next = src[p:p+nl], p+nl+1
		}
		body := bytes.TrimLeft(line, " ")
		ind := len(line) - len(body)
		trimmed := bytes.TrimSpace(body)
		switch {
		case len(trimmed) == 0 || trimmed[0] == '#':
			// blank or comment: decided by what follows
		case ind == 0 && (bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))),
			ind < indent,
			seq && ind == indent && body[0] != '-':
			return insertion{end, text}
		default:
			end = next
		}
		p = next
	}
	if end == len(src) {
		return f.atEOF(text)
	}
	return insertion{end, text}
}

// atEOF places text at the end of the file, on a line of its own.
func (f *yamlFile) atEOF(text string) insertion {
	if len(f.src) > 0 && f.src[len(f.src)-1] != '\n' {
		text = "\n" + text
	}
	return insertion{len(f.src), text}
}

// json reports whether the file is JSON (by its name), where keys and
// strings are always quoted.
func (f *yamlFile) json() bool { return strings.EqualFold(filepath.Ext(f.path), ".json") }

// lineIndent returns the start of the line holding offset at and the
// blanks in front of at, or false when anything else stands before it.
func (f *yamlFile) lineIndent(at int) (int, string, bool) {
	ls := bytes.LastIndexByte(f.src[:at], '\n') + 1
	pre := f.src[ls:at]
	if len(bytes.Trim(pre, " ")) != 0 {
		return 0, "", false
	}
	return ls, string(pre), true
}

// yamlString writes s plain when that reads back as s, else double-quoted.
func yamlString(s string) string {
	if plainSafe(s) {
		return s
	}
	return doubleQuote(s)
}

// visitObjects calls fn with every Kubernetes object of a document: the
// root and, in a List, its items.
func visitObjects(n *yaml.Node, prefix Path, depth int, fn func(n *yaml.Node, prefix Path, kind, name string)) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 4 {
		return
	}
	kind, _ := scalarString(first(Path{{Kind: Key, Key: "kind"}}.eval(n)))
	name, _ := scalarString(first(Path{{Kind: Key, Key: "metadata"}, {Kind: Key, Key: "name"}}.eval(n)))
	fn(n, prefix, kind, name)
	if strings.HasSuffix(kind, "List") {
		for _, h := range (Path{{Kind: Key, Key: "items"}, {Kind: All}}).eval(n) {
			visitObjects(h.node, append(append(Path{}, prefix...), h.path...), depth+1, fn)
		}
	}
}

func isYAMLName(p string) bool {
	switch strings.ToLower(p[strings.LastIndexByte(p, '.')+1:]) {
	case "yaml", "yml", "json":
		return true
	}
	return false
}
