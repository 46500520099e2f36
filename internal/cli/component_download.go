package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/resource"
)

func newComponentDownloadCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download REPO//NAME:VERSION RESOURCE -O PATH",
		Short: "Write a resource's content (a local blob or an OCI blob) to a file",
		Long: `download streams the content of a blob resource (localBlob or ociBlob access) to
PATH, verified against its digest on the way, and renames it into place only
when it is complete. RESOURCE is the resource name, with extra identity as
name,key=value,… when names repeat. Images are copied with 'ferry artifact copy'
or 'ferry transfer' instead.`,
		Example: `  ferry component download ./ctf//example.com/podinfo:6.3.5 deployment -O deploy.tgz`,
		Args:    exactArgs("REPO//NAME:VERSION", "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseComponentRef(args[0], true)
			if err != nil {
				return err
			}
			if out == "" {
				return usageErr(fmt.Errorf("name the file to write with -O PATH"))
			}
			ctx := cmd.Context()
			repo, err := g.openComponentRepo(ref.Repo, false)
			if err != nil {
				return err
			}
			defer repo.Close()
			cv, src, err := g.readVersion(ctx, repo, ref.Component, ref.Version)
			if err != nil {
				return err
			}
			res, err := findResource(cv.Descriptor, args[1])
			if err != nil {
				return err
			}
			if resource.IsArtifact(res) {
				return withHint(fmt.Errorf("%s is an OCI artifact, not a blob", src.Name(res)),
					"copy it with 'ferry artifact copy' (or the whole release with 'ferry transfer')")
			}
			rc, d, err := src.Open(ctx, res)
			if err != nil {
				return err
			}
			defer rc.Close()
			n, err := writeFileAtomic(out, rc)
			if err != nil {
				return fmt.Errorf("downloading %s to %s: %w", src.Name(res), out, err)
			}
			g.logger().Info("downloaded", "resource", src.Name(res), "bytes", n, "digest", d.Digest.String(), "to", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "O", "", "file to write")
	return cmd
}

// findResource finds a resource by "name" or "name,key=value,…".
func findResource(d *component.Descriptor, spec string) (*component.Resource, error) {
	id, err := parseIdentity(spec)
	if err != nil {
		return nil, usageErr(err)
	}
	if i := d.ResourceIndex(id); i >= 0 {
		return &d.Resources[i], nil
	}
	var matches []int
	for i, r := range d.Resources {
		if r.Name == id["name"] {
			matches = append(matches, i)
		}
	}
	if len(matches) == 1 && len(id) == 1 {
		return &d.Resources[matches[0]], nil
	}
	names := make([]string, 0, len(d.Resources))
	for i := range d.Resources {
		names = append(names, d.ResourceIdentity(i).String())
	}
	if len(matches) > 1 {
		return nil, fmt.Errorf("%s:%s has %d resources named %q: add their extra identity (name,key=value): %v", d.Name, d.Version, len(matches), id["name"], names)
	}
	return nil, fmt.Errorf("%s:%s has no resource %s; it has %v", d.Name, d.Version, spec, names)
}

func parseIdentity(spec string) (component.Identity, error) {
	id := component.Identity{}
	for i, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(part, "=")
		if i == 0 && !ok {
			id["name"] = part
			continue
		}
		if !ok || k == "" {
			return nil, fmt.Errorf("resource %q: want name or name,key=value,…", spec)
		}
		id[k] = v
	}
	if id["name"] == "" {
		return nil, fmt.Errorf("resource %q: no name", spec)
	}
	return id, nil
}

// writeFileAtomic writes r to path through a temporary file in the same
// directory, renamed into place only when complete.
func writeFileAtomic(path string, r io.Reader) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".ferry-*")
	if err != nil {
		return 0, err
	}
	err = f.Chmod(0o644) // as a file the user writes; CreateTemp makes it private
	var n int64
	if err == nil {
		n, err = io.Copy(f, r)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return n, err
	}
	return n, nil
}
