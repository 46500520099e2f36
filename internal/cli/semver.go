package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/repository"
)

// addSemverFlag adds --semver to a command that expands references into
// versions; the repositories it opens select by it (repository.Selection).
func (g *globals) addSemverFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&g.semver, "semver", "", "select, for each component named without a version, the highest version that satisfies this semver range (\">=6.3.0 <7\", \"~6.3\", \"^6.3.0\", \"latest\"); same as REPO//NAME@CONSTRAINT")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if err := (repository.Selection{Semver: g.semver}).Check(args); err != nil {
			return usageErr(fmt.Errorf("--semver: %w", err))
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// selection is what the repositories ferry opens select versions by:
// --semver, and a callback that prints each choice and records it for the
// report.
func (g *globals) selection() repository.Selection {
	return repository.Selection{Semver: g.semver, OnSelect: func(sel component.Selection) {
		g.selMu.Lock()
		defer g.selMu.Unlock()
		for _, s := range g.selected {
			if s.Component == sel.Component && s.Constraint == sel.Constraint && s.Version == sel.Version {
				return // the same choice, made again
			}
		}
		if len(sel.Ignored) > 0 {
			fmt.Fprintf(g.stderr, "note: %s: ignored tag(s) that are no semantic version: %s\n", sel.Component, strings.Join(sel.Ignored, ", "))
		}
		fmt.Fprintf(g.stderr, "selected %s:%s for %q (matching: %s)\n", sel.Component, sel.Version, sel.Constraint, strings.Join(sel.Matching, ", "))
		g.selected = append(g.selected, sel)
	}}
}
