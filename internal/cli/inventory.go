package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

func newInventoryCmd(g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "inventory REPO//NAME[:VERSION]... [-o FILE]",
		Short: "Record what a registry holds of some component versions, for a differential bundle",
		Long: `inventory walks the component versions named (every version when none is given),
the versions they reference and the images their accesses name inside REPO, and
writes every component version, manifest and blob digest found as a small JSON
file. Carried out of the air gap, it lets 'ferry bundle create --missing-from'
leave out everything the registry already holds.

A registry cannot list its repositories reliably, so the components are named.`,
		Example: `  ferry inventory registry.local:5000/air//example.com/podinfo -o inventory.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageErr(fmt.Errorf("%s needs at least one REPO//NAME[:VERSION]", cmd.CommandPath()))
			}
			return release.CheckInventorySources(args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFileName(file); err != nil {
				return err
			}
			ro, err := g.repoOptions()
			if err != nil {
				return err
			}
			return release.WriteInventory(cmd.Context(), args, file, g.stdout, ro)
		},
	}
	cmd.Flags().StringVarP(&file, "output", "o", "", "write the inventory to this file (default: standard output)")
	g.addSemverFlag(cmd)
	cmd.GroupID = "main"
	return cmd
}
