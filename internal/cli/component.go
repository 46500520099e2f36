package cli

import (
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
)

func newComponentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "component",
		Aliases: []string{"cv", "components"},
		Short:   "Create, inspect, sign and verify OCM component versions",
		Long: `component works on OCM component versions in a registry or a CTF archive,
named as ocm names them: REPO//NAME[:VERSION], where REPO is a registry path
(registry.local:5000/platform, http://127.0.0.1:5000/ocm) or a CTF archive
(./ctf, release.tar, ctf+tar::release.tar).`,
		GroupID: "main",
	}
	cmd.AddCommand(newComponentCreateCmd(g), newComponentGetCmd(g), newComponentResourcesCmd(g), newComponentDownloadCmd(g),
		newComponentSignCmd(g), newComponentVerifyCmd(g))
	return cmd
}

// parseComponentRef parses a REPO//NAME[:VERSION] argument; a usage error
// when it is malformed.
func parseComponentRef(s string, needVersion bool) (component.Ref, error) {
	parse := component.ParseRef
	if needVersion {
		parse = component.ParseVersionRef
	}
	ref, err := parse(s)
	return ref, usageErr(err)
}
