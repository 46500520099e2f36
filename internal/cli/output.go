package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// tableWriter writes aligned columns.
type tableWriter struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *tableWriter {
	return &tableWriter{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

func (t *tableWriter) row(cols ...string) { fmt.Fprintln(t.tw, strings.Join(cols, "\t")) }

func (t *tableWriter) flush() error { return t.tw.Flush() }

// print writes v to stdout as JSON or YAML, or, for the table format, as
// the table draws it.
func (g *globals) print(v any, table func(*tableWriter)) error {
	return g.show(v, func(w io.Writer) error {
		t := newTable(w)
		table(t)
		return t.flush()
	})
}

// show writes v to stdout as JSON or YAML, or, for the table format, as
// writeTable (a result's WriteTable) writes it.
func (g *globals) show(v any, writeTable func(io.Writer) error) error {
	switch g.output {
	case "json":
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = g.stdout.Write(b)
		return err
	}
	return writeTable(g.stdout)
}
