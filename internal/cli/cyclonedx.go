package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

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
