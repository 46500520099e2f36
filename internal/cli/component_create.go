package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/oci"
)

type createOptions struct {
	file         string
	to           string
	vars         []string
	scheme       string
	skipDigests  bool
	creationTime string
	overwrite    bool
}

// createdVersion is one line of create's output.
type createdVersion struct {
	Component string  `json:"component"`
	Version   string  `json:"version"`
	Digest    v1.Hash `json:"digest"`
	Target    string  `json:"target"`
	State     string  `json:"state"` // written, unchanged
}

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
	f.StringVarP(&o.file, "file", "f", "component-constructor.yaml", "the component constructor file")
	f.StringVar(&o.to, "to", "", "repository to write to: a registry path or a CTF archive (required)")
	f.StringArrayVar(&o.vars, "var", nil, "NAME=VALUE for ${NAME} in the constructor (repeatable; the environment is used too)")
	f.StringVar(&o.scheme, "scheme", "v2", "descriptor schema: v2 or v3alpha1")
	f.BoolVar(&o.skipDigests, "skip-digest-generation", false, "write resources without digests")
	f.StringVar(&o.creationTime, "creation-time", "", "creationTime to record (RFC 3339); default now, or SOURCE_DATE_EPOCH")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace a version REPO holds with different content")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func (g *globals) runCreate(ctx context.Context, o createOptions) error {
	data, err := os.ReadFile(o.file)
	if err != nil {
		return usageErr(fmt.Errorf("reading the constructor: %w", err))
	}
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for _, kv := range o.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr(fmt.Errorf("--var %q: want NAME=VALUE", kv))
		}
		vars[k] = v
	}
	var scheme component.Scheme
	switch o.scheme {
	case "v2":
		scheme = component.SchemeV2
	case "v3alpha1", "ocm.software/v3alpha1":
		scheme = component.SchemeV3Alpha1
	default:
		return usageErr(fmt.Errorf("--scheme %q: want v2 or v3alpha1", o.scheme))
	}
	now, err := creationClock(o.creationTime)
	if err != nil {
		return usageErr(err)
	}
	specs, err := construct.Parse(data, construct.ParseOptions{File: o.file, Vars: vars})
	if err != nil {
		return err
	}
	spec, err := component.ParseRepo(o.to)
	if err != nil {
		return usageErr(fmt.Errorf("--to: %w", err))
	}
	repo, err := g.openComponentRepo(spec, true)
	if err != nil {
		return err
	}
	images, err := g.remoteStore()
	if err != nil {
		repo.Abort()
		return err
	}
	var out []createdVersion
	for _, s := range specs {
		res, err := construct.Build(ctx, s, construct.Options{Resolver: images, Now: now, Scheme: scheme, SkipDigestGeneration: o.skipDigests})
		if err != nil {
			repo.Abort()
			return err
		}
		cv, err := writeVersion(ctx, repo, res, o.overwrite)
		if err != nil {
			repo.Abort()
			return err
		}
		out = append(out, cv)
	}
	if err := repo.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", spec, err)
	}
	return g.print(out, func(t *tableWriter) {
		t.row("COMPONENT", "VERSION", "DIGEST", "TARGET", "")
		for _, c := range out {
			t.row(c.Component, c.Version, c.Digest.String(), c.Target, c.State)
		}
	})
}

// writeVersion writes a built version, unless REPO holds it already.
func writeVersion(ctx context.Context, repo *componentRepo, res *construct.Result, overwrite bool) (createdVersion, error) {
	d := res.Descriptor
	var blobs []ocireg.LocalBlob
	var descs []v1.Descriptor
	seen := map[v1.Hash]bool{}
	for _, b := range res.Blobs {
		if seen[b.Descriptor.Digest] {
			continue
		}
		seen[b.Descriptor.Digest] = true
		descs = append(descs, b.Descriptor)
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: b.Descriptor, Open: func(context.Context) (io.ReadCloser, error) { return b.Open() }})
	}
	cv := createdVersion{Component: d.Name, Version: d.Version, Target: repo.display()}
	art, err := ocireg.Manifest(d, descs, ocireg.WriteOptions{})
	if err != nil {
		return cv, fmt.Errorf("encoding %s:%s: %w", d.Name, d.Version, err)
	}
	cv.Digest = art.Manifest.Digest
	have, err := repo.Resolve(ctx, d.Name, d.Version)
	switch {
	case err == nil && have.Digest == cv.Digest:
		cv.State = "unchanged"
		return cv, nil
	case err == nil && !overwrite:
		return cv, withHint(fmt.Errorf("%s:%s is in %s already, with other content (%s)", d.Name, d.Version, repo.spec, have.Digest),
			"pass --overwrite to replace it, or give the new content a new version")
	case err != nil && !errors.Is(err, oci.ErrNotFound):
		return cv, fmt.Errorf("looking up %s:%s in %s: %w", d.Name, d.Version, repo.spec, err)
	}
	if _, err := repo.Write(ctx, d, blobs, ocireg.WriteOptions{}); err != nil {
		return cv, fmt.Errorf("writing %s:%s to %s: %w", d.Name, d.Version, repo.spec, err)
	}
	cv.State = "written"
	return cv, nil
}

// creationClock is the clock for creationTime: the flag, SOURCE_DATE_EPOCH, or now.
func creationClock(flag string) (func() time.Time, error) {
	if flag != "" {
		t, err := time.Parse(time.RFC3339, flag)
		if err != nil {
			return nil, fmt.Errorf("--creation-time %q: want RFC 3339 (2026-01-02T15:04:05Z)", flag)
		}
		return func() time.Time { return t }, nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
		}
		t := time.Unix(sec, 0).UTC()
		return func() time.Time { return t }, nil
	}
	return time.Now, nil
}
