package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

// componentCreateLong is component create's help.
const componentCreateLong = `create reads an OCM component constructor (the file 'ocm add componentversions'
reads: one component, a components: list, or several YAML documents), builds each
component version — local blobs from file, dir, utf8 and binary inputs, image
resources by reference with their digest taken from the registry — and writes it
to REPO, a registry path or a CTF archive (created if missing).

--upload-as localBlob copies each image into the version's own OCI index instead
(LocalBlob/v1 accesses, as the OCM v2 CLI stores images after 'transfer
--copy-resources'); the OCM v1 CLI cannot read such versions. A compressed dir
input is labelled application/x-tar+gzip, which both OCM CLIs unpack.

${NAME} in the file is replaced by --var NAME=VALUE or the environment; an
undefined variable is an error. Directories are packed deterministically (sorted
entries, fixed times and owners), so the same files always give the same digest.
creationTime is the current time unless the constructor sets it, --creation-time
is given, or SOURCE_DATE_EPOCH is set (reproducible builds).`

func newComponentCreateCmd(g *globals) *cobra.Command {
	var r release.CreateRequest
	cmd := &cobra.Command{
		Use:   "create -f component-constructor.yaml --to REPO",
		Short: "Build component versions from a constructor file into a registry or a CTF archive",
		Long:  componentCreateLong,
		Example: `  ferry component create -f component-constructor.yaml --to ./ctf
  ferry component create -f component-constructor.yaml --to http://127.0.0.1:5000/ocm --var VERSION=1.2.0`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if r.Repository, err = g.repoOptions(); err != nil {
				return err
			}
			out, err := release.CreateFromFile(cmd.Context(), r, os.Environ())
			if err != nil {
				return err
			}
			return g.show(out, out.WriteTable)
		},
	}
	f := cmd.Flags()
	g.lock.addFlags(f)
	f.StringVarP(&r.File, "file", "f", "component-constructor.yaml", "the component constructor file")
	f.StringVar(&r.Target, "to", "", "repository to write to: a registry path or a CTF archive (required)")
	f.StringArrayVar(&r.Assignments, "var", nil, "NAME=VALUE for ${NAME} in the constructor (repeatable; the environment is used too)")
	f.StringVar(&r.SchemeName, "scheme", "v2", "descriptor schema: v2 or v3alpha1")
	f.BoolVar(&r.SkipDigests, "skip-digest-generation", false, "write resources without digests")
	f.StringVar(&r.CreationTime, "creation-time", "", "creationTime to record (RFC 3339); default now, or SOURCE_DATE_EPOCH")
	f.BoolVar(&r.Overwrite, "overwrite", false, "replace a version REPO holds with different content")
	addUploadAsFlag(f, &r.UploadAs)
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
