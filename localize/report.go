package localize

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Summary says how the coverage proof ended, for a summary line: "all name
// copies", or how many fields name no copy (allowed by AllowUnlocalized).
func (c Coverage) Summary() string {
	if n := len(c.Unlocalized); n > 0 {
		return fmt.Sprintf("%d name no copy (allowed by --allow-unlocalized)", n)
	}
	return "all name copies"
}

// WriteFindings writes image fields that name no copy as a table: file,
// document, kind, name, path and image, with a header.
func WriteFindings(w io.Writer, fs []Finding) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tDOC\tKIND\tNAME\tPATH\tIMAGE")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", f.File, f.Document, f.Kind, f.Name, f.Path, f.Image)
	}
	return tw.Flush()
}

// Rewritten counts the changes that changed a value (a rule may find the
// value already right, as a tag that stays the same).
func Rewritten(cs []Change) int {
	n := 0
	for _, c := range cs {
		if c.Old != c.New {
			n++
		}
	}
	return n
}
