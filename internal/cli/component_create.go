package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/release"
)

type createOptions struct {
	file         string
	to           string
	vars         []string
	scheme       string
	skipDigests  bool
	creationTime string
	overwrite    bool
	uploadAs     uploadAsFlag
}

// createdVersion is one line of create's output.
func newComponentCreateCmd(g *globals) *cobra.Command {
	var o createOptions
	cmd := &cobra.Command{
		Use:   "create -f component-constructor.yaml --to REPO",
		Short: "Build component versions from a constructor file into a registry or a CTF archive",
		Long: `create reads an OCM component constructor (the file 'ocm add componentversions'
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
is given, or SOURCE_DATE_EPOCH is set (reproducible builds).`,
		Example: `  ferry component create -f component-constructor.yaml --to ./ctf
  ferry component create -f component-constructor.yaml --to http://127.0.0.1:5000/ocm --var VERSION=1.2.0`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runCreate(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	g.lock.addFlags(f)
	f.StringVarP(&o.file, "file", "f", "component-constructor.yaml", "the component constructor file")
	f.StringVar(&o.to, "to", "", "repository to write to: a registry path or a CTF archive (required)")
	f.StringArrayVar(&o.vars, "var", nil, "NAME=VALUE for ${NAME} in the constructor (repeatable; the environment is used too)")
	f.StringVar(&o.scheme, "scheme", "v2", "descriptor schema: v2 or v3alpha1")
	f.BoolVar(&o.skipDigests, "skip-digest-generation", false, "write resources without digests")
	f.StringVar(&o.creationTime, "creation-time", "", "creationTime to record (RFC 3339); default now, or SOURCE_DATE_EPOCH")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace a version REPO holds with different content")
	o.uploadAs.add(f)
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func (g *globals) runCreate(ctx context.Context, o createOptions) error {
	data, err := os.ReadFile(o.file)
	if err != nil {
		return usageErr(fmt.Errorf("reading the constructor: %w", err))
	}
	co, err := o.createOptions()
	if err != nil {
		return err
	}
	if co.Repository, err = g.repoOptions(); err != nil {
		return err
	}
	out, err := release.Create(ctx, data, o.to, co)
	if errors.Is(err, release.ErrVersionExists) {
		return withHint(err, "pass --overwrite to replace it, or give the new content a new version")
	}
	if err != nil {
		return err
	}
	return g.print(out, func(t *tableWriter) {
		t.row("COMPONENT", "VERSION", "DIGEST", "TARGET", "")
		for _, c := range out {
			t.row(c.Component, c.Version, c.Digest.String(), c.Target, c.State)
		}
	})
}

// createOptions reads --var (over the environment), --scheme,
// --creation-time and --upload-as.
func (o createOptions) createOptions() (release.CreateOptions, error) {
	co := release.CreateOptions{File: o.file, Vars: map[string]string{}, SkipDigests: o.skipDigests, Overwrite: o.overwrite}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		co.Vars[k] = v
	}
	for _, kv := range o.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return co, usageErr(fmt.Errorf("--var %q: want NAME=VALUE", kv))
		}
		co.Vars[k] = v
	}
	switch o.scheme {
	case "v2":
		co.Scheme = component.SchemeV2
	case "v3alpha1", "ocm.software/v3alpha1":
		co.Scheme = component.SchemeV3Alpha1
	default:
		return co, usageErr(fmt.Errorf("--scheme %q: want v2 or v3alpha1", o.scheme))
	}
	now, err := construct.Clock(o.creationTime)
	if err != nil {
		return co, usageErr(err)
	}
	co.Now = now
	co.UploadAs = o.uploadAs.value
	return co, nil
}
