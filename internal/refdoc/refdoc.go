// Package refdoc renders a cobra command tree as ferry's command reference:
// one Markdown file per command (docs/reference, written by make docs).
package refdoc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Generate writes the reference of the tree under root, one Markdown file
// per command, into dir, and removes files of commands that are gone. The
// content depends only on the command tree, so a test can tell when the
// committed copy is out of date.
func Generate(root *cobra.Command, dir string) error {
	files, err := Files(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "ferry*.md"))
	for _, f := range old {
		if _, keep := files[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Files renders the reference of the tree under root: file name → content.
func Files(root *cobra.Command) (map[string][]byte, error) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	out := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if c.Hidden || c.Name() == "help" {
			return nil
		}
		var b bytes.Buffer
		writeCommandDoc(&b, c)
		out[docName(c)] = b.Bytes()
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(root)
}

func docName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

func writeCommandDoc(w *bytes.Buffer, c *cobra.Command) {
	fmt.Fprintf(w, "# %s\n\n%s\n\n", c.CommandPath(), c.Short)
	fmt.Fprintf(w, "```\n%s\n```\n\n", c.UseLine())
	if c.Long != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.Long))
	}
	if c.Example != "" {
		fmt.Fprintf(w, "## Examples\n\n```sh\n# illustrative\n%s\n```\n\n", strings.TrimRight(c.Example, "\n"))
	}
	writeFlags(w, "Flags", c.NonInheritedFlags())
	if c.HasParent() {
		writeFlags(w, "Flags shared by every command", c.InheritedFlags())
	}
	var subs []*cobra.Command
	for _, s := range c.Commands() {
		if !s.Hidden && s.Name() != "help" {
			subs = append(subs, s)
		}
	}
	if len(subs) > 0 {
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
		w.WriteString("## Commands\n\n")
		for _, s := range subs {
			fmt.Fprintf(w, "- [%s](%s): %s\n", s.CommandPath(), docName(s), s.Short)
		}
		w.WriteString("\n")
	}
	if c.HasParent() {
		fmt.Fprintf(w, "See also: [%s](%s)\n", c.Parent().CommandPath(), docName(c.Parent()))
	}
}

func writeFlags(w *bytes.Buffer, title string, fs *pflag.FlagSet) {
	if !fs.HasAvailableFlags() {
		return
	}
	fmt.Fprintf(w, "## %s\n\n```\n%s```\n\n", title, fs.FlagUsagesWrapped(100))
}
