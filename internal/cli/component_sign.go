package cli

import (
	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/release"
	"github.com/ferry-oci/ferry/repository"
)

// addSignFlags adds --signature and the key flag, both required, bound to r.
func addSignFlags(cmd *cobra.Command, r *release.SignRequest, keyFlag, keyHelp string) {
	fl := cmd.Flags()
	fl.StringVar(&r.Signature, "signature", "", "name of the signature (required)")
	fl.StringVar(&r.KeyFile, keyFlag, "", keyHelp+" (required)")
	_ = cmd.MarkFlagRequired("signature")
	_ = cmd.MarkFlagRequired(keyFlag)
}

func newComponentSignCmd(g *globals) *cobra.Command {
	var r release.SignRequest
	cmd := &cobra.Command{
		Use:   "sign REPO//NAME:VERSION",
		Short: "Sign a component version with an RSA key, as 'ocm sign componentversion' does",
		Long: `sign computes the digests of the version's resources from their content (and of
its references), the descriptor digest with the chosen normalisation, signs it with
an RSA private key (PEM, PKCS#1 or PKCS#8) and writes the version back with the
signature. 'ocm verify componentversion' accepts the result.`,
		Example: `  ferry component sign ./ctf//example.com/podinfo:6.3.5 --signature acme --private-key acme.priv
  ferry component sign registry.local:5000/air//example.com/podinfo:6.3.5 --signature site --private-key site.pem`,
		Args: exactArgs("REPO//NAME:VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runSigned(args[0], func(ref component.Ref, ro repository.Options) (*release.Signed, error) {
				return release.SignVersion(cmd.Context(), ref, r, ro)
			})
		},
	}
	addSignFlags(cmd, &r, "private-key", "PEM file with the RSA private key")
	cmd.Flags().StringVar(&r.Algorithm, "algorithm", "RSASSA-PKCS1-V1_5", "signature algorithm: RSASSA-PKCS1-V1_5 or RSASSA-PSS")
	cmd.Flags().StringVar(&r.Hash, "hash", "SHA-256", "hash algorithm: SHA-256 or SHA-512")
	cmd.Flags().StringVar(&r.Normalisation, "normalisation", "", "descriptor normalisation: jsonNormalisation/v1, v2, v3 or v4alpha1 (default: v4alpha1 for a version the OCM v2 CLI wrote or one in its layout, else v3)")
	g.lock.addFlags(cmd.Flags())
	return cmd
}

func newComponentVerifyCmd(g *globals) *cobra.Command {
	var (
		r         release.SignRequest
		localOnly bool
	)
	cmd := &cobra.Command{
		Use:   "verify REPO//NAME:VERSION",
		Short: "Verify a component version's signature and that its resources are what it signs",
		Long: `verify checks the named signature with an RSA public key (PEM: PKCS#1, PKIX or a
certificate), and recomputes every resource digest from the content the accesses
point at, so that a resource changed after signing is found too.`,
		Example: `  ferry component verify ./ctf//example.com/podinfo:6.3.5 --signature acme --public-key acme.pub`,
		Args:    exactArgs("REPO//NAME:VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runSigned(args[0], func(ref component.Ref, ro repository.Options) (*release.Signed, error) {
				return release.VerifyVersion(cmd.Context(), ref, r, localOnly, ro)
			})
		},
	}
	addSignFlags(cmd, &r, "public-key", "PEM file with the RSA public key or certificate")
	cmd.Flags().BoolVar(&localOnly, "local-only", false, "check only resources stored with the version (and images in the same store), not images in other registries")
	return cmd
}

// runSigned runs sign or verify (call) on the version refArg names and
// prints the signature.
func (g *globals) runSigned(refArg string, call func(component.Ref, repository.Options) (*release.Signed, error)) error {
	ref, err := parseComponentRef(refArg, true)
	if err != nil {
		return err
	}
	ro, err := g.repoOptions()
	if err != nil {
		return err
	}
	s, err := call(ref, ro)
	if err != nil {
		return err
	}
	return g.show(s.Signature(), s.WriteTable)
}
