package cli

import (
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/release"
)

// addGitOpsFlags binds the flags that shape a GitOps artifact to r.
func addGitOpsFlags(cmd *cobra.Command, r *release.PublishRequest) {
	fl := cmd.Flags()
	fl.StringVar(&r.Format, "format", "oci", "artifact media types: oci (Flux, Argo CD and Config Sync) or flux (Flux's own)")
	fl.StringVar(&r.Artifact.Source, "source", "", "org.opencontainers.image.source annotation (where the manifests come from)")
	fl.StringVar(&r.Artifact.Revision, "revision", "", "org.opencontainers.image.revision annotation")
	fl.StringVar(&r.Created, "created", "", "org.opencontainers.image.created (RFC 3339); fixed to the epoch by default, so the same files give the same digest")
	fl.StringVar(&r.SignKey, "sign-key", "", "sign the pushed artifact with the private key in `FILE` as cosign does (cosign.key with $COSIGN_PASSWORD, or PEM PKCS#8/EC/RSA), for 'cosign verify --key' and Flux's verify")
}

func newArtifactPushCmd(g *globals) *cobra.Command {
	var r release.PublishRequest
	cmd := &cobra.Command{
		Use:   "push DIR oci://REPO:TAG",
		Short: "Push a directory of Kubernetes manifests as a GitOps OCI artifact",
		Long: `push packs DIR into one tar+gzip layer (entries sorted, times and owners fixed,
no links) and pushes it as an OCI artifact that Flux (OCIRepository), Argo CD (an
oci:// source) and Config Sync (sourceType: oci) deploy as they are. The same files
give the same digest on any machine. It prints the reference with its digest, to
pin in the GitOps tool.`,
		Example: `  ferry artifact push ./manifests oci://registry.local:5000/apps/podinfo:6.3.5`,
		Args:    exactArgs("DIR", "oci://REPO:TAG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := g.remoteStore()
			if err != nil {
				return err
			}
			p, err := release.PushDirectory(cmd.Context(), store, args[0], args[1], r)
			if err != nil {
				return err
			}
			return g.show(p, p.WriteTable)
		},
	}
	addGitOpsFlags(cmd, &r)
	return cmd
}

func newArtifactPullCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "pull oci://REPO:TAG -O DIR",
		Short: "Pull a GitOps OCI artifact and unpack its manifests into a directory",
		Long: `pull fetches a GitOps artifact (as 'ferry artifact push' or 'ferry localize --push'
write it, or one that Flux's CLI pushed), verifies it, and unpacks its files into
DIR. Nothing is written unless the whole layer verified; entries that would land
outside DIR, links and oversized content are refused.`,
		Example: `  ferry artifact pull oci://registry.local:5000/apps/podinfo:6.3.5 -O ./out`,
		Args:    exactArgs("oci://REPO:TAG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := g.remoteStore()
			if err != nil {
				return err
			}
			p, err := release.PullDirectory(cmd.Context(), store, args[0], out)
			if err != nil {
				return err
			}
			return g.show(p, p.WriteTable)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "O", "", "directory to unpack into (created if missing)")
	return cmd
}
