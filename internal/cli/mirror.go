package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/mirror"
	"github.com/ferry-oci/ferry/release"
)

// mirrorConfigLong is mirror-config's help.
const mirrorConfigLong = `mirror-config writes, for the images of the component versions REF names, the
configuration that makes a node's container runtime pull them from their copies
in DST, where 'ferry transfer REF DST' puts them (the copies are named by the
transfer's own rule). Workloads that name the original images, such as pods an
operator starts with images no manifest of the release names, then pull from
the private registry all the same.

Formats (--format, comma-separated or repeated; default all, each in DIR/FORMAT):
  containerd  DIR/<upstream host>/hosts.toml, for containerd's config_path
  crio        DIR/registries.conf, a containers-registries.conf(5) drop-in
  rke2        DIR/registries.yaml, for RKE2 and k3s
  idms        DIR/imagedigestmirrorset.yaml, an OpenShift ImageDigestMirrorSet

CA and credential placeholders are written where each runtime takes them; the
files are for review before they go onto the nodes. Nothing is copied and
nothing is written to DST.`

func newMirrorConfigCmd(g *globals) *cobra.Command {
	var (
		registry  string
		formats   []string
		out       string
		recursive bool
		name      string
	)
	cmd := &cobra.Command{
		Use:   "mirror-config REF --registry DST -O DIR",
		Short: "Write container runtime configuration that pulls a release's images from their private copies",
		Long:  mirrorConfigLong,
		Example: `  ferry mirror-config ghcr.io/acme//example.com/podinfo:6.3.6 --registry registry.local:5000/air --format containerd -O certs.d
  ferry mirror-config ./ctf//example.com/podinfo@latest --registry registry.local:5000/air -O mirrors`,
		Args: exactArgs("REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runMirrorConfig(cmd, args, registry, out, formats, release.Options{Recursive: recursive}, mirror.Options{Name: name})
		},
	}
	f := cmd.Flags()
	f.StringVar(&registry, "registry", "", "the registry path the images are (or will be) copied to, as given to 'ferry transfer' (required)")
	f.StringSliceVar(&formats, "format", nil, "containerd, crio, rke2 or idms (comma-separated or repeated; default all)")
	f.StringVarP(&out, "out", "O", "", "the directory to write into (required)")
	f.BoolVarP(&recursive, "recursive", "r", false, "include the images of referenced component versions")
	f.StringVar(&name, "idms-name", "", "the name of the ImageDigestMirrorSet (default ferry-mirrors)")
	g.addSemverFlag(cmd)
	cmd.GroupID = "main"
	return cmd
}

func (g *globals) runMirrorConfig(cmd *cobra.Command, args []string, registry, out string, formats []string, o release.Options, mo mirror.Options) error {
	if registry == "" || out == "" {
		return usageErr(fmt.Errorf("%s needs --registry DST and -O DIR", cmd.CommandPath()))
	}
	fs, err := mirror.ParseFormats(formats)
	if err != nil {
		return usageErr(err)
	}
	if o.Repository, err = g.repoOptions(); err != nil {
		return err
	}
	res, err := release.MirrorConfig(cmd.Context(), args, registry, out, fs, mo, o)
	if err != nil {
		return err
	}
	return g.show(res, res.WriteTable)
}
