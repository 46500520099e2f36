package cli

import (
	"fmt"
	"slices"

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
		if !slices.ContainsFunc(g.selected, sel.Same) { // the same choice, made again, is told once
			sel.Describe(g.stderr)
			g.selected = append(g.selected, sel)
		}
	}}
}

// addBOMFormatFlag adds --bom-format to the commands that report a bill of
// materials.
func (g *globals) addBOMFormatFlag(cmd *cobra.Command) {
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		switch g.bomFormat {
		case "", "ferry", "cyclonedx":
		default:
			return usageErr(fmt.Errorf("--bom-format %q: want ferry or cyclonedx", g.bomFormat))
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	cmd.Flags().StringVar(&g.bomFormat, "bom-format", "ferry", "also record the bill of materials as a CycloneDX 1.6 document (cyclonedx: in the report's \"cyclonedx\" field and, for a bundle, in its metadata); ferry: only ferry's own")
}

// wantCycloneDX reports whether --bom-format asks for CycloneDX.
func (g *globals) wantCycloneDX() bool { return g.bomFormat == "cyclonedx" }
