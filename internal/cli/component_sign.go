package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/release"
)

type signFlags struct {
	signature     string
	keyFile       string
	algorithm     string
	hash          string
	normalisation string
}

func (f *signFlags) add(cmd *cobra.Command, keyFlag, keyHelp string) {
	fl := cmd.Flags()
	fl.StringVar(&f.signature, "signature", "", "name of the signature (required)")
	fl.StringVar(&f.keyFile, keyFlag, "", keyHelp+" (required)")
	_ = cmd.MarkFlagRequired("signature")
	_ = cmd.MarkFlagRequired(keyFlag)
}

func newComponentSignCmd(g *globals) *cobra.Command {
	var f signFlags
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
			return g.runSign(cmd.Context(), args[0], f)
		},
	}
	f.add(cmd, "private-key", "PEM file with the RSA private key")
	cmd.Flags().StringVar(&f.algorithm, "algorithm", "RSASSA-PKCS1-V1_5", "signature algorithm: RSASSA-PKCS1-V1_5 or RSASSA-PSS")
	cmd.Flags().StringVar(&f.hash, "hash", "SHA-256", "hash algorithm: SHA-256 or SHA-512")
	cmd.Flags().StringVar(&f.normalisation, "normalisation", "", "descriptor normalisation: jsonNormalisation/v1, v2, v3 or v4alpha1 (default: v4alpha1 for a version the OCM v2 CLI wrote or one in its layout, else v3)")
	g.lock.addFlags(cmd.Flags())
	return cmd
}

func (f *signFlags) signOptions() (component.SignOptions, error) {
	h, err := component.ParseHash(f.hash)
	if err != nil {
		return component.SignOptions{}, usageErr(fmt.Errorf("--hash: %w", err))
	}
	switch f.normalisation {
	case "", component.JSONNormalisationV1, component.JSONNormalisationV2, component.JSONNormalisationV3, component.JSONNormalisationV4Alpha1:
	default:
		return component.SignOptions{}, usageErr(fmt.Errorf("--normalisation %q: want %s, %s, %s or %s", f.normalisation,
			component.JSONNormalisationV1, component.JSONNormalisationV2, component.JSONNormalisationV3, component.JSONNormalisationV4Alpha1))
	}
	return component.SignOptions{Algorithm: f.algorithm, Hash: h, Normalisation: f.normalisation}, nil
}

func (g *globals) runSign(ctx context.Context, refArg string, f signFlags) error {
	ref, err := parseComponentRef(refArg, true)
	if err != nil {
		return err
	}
	opts, err := f.signOptions()
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(f.keyFile)
	if err != nil {
		return usageErr(fmt.Errorf("--private-key: %w", err))
	}
	key, err := component.ParsePrivateKey(pem)
	if err != nil {
		return fmt.Errorf("reading private key %s: %w", f.keyFile, err)
	}
	repo, err := g.openRepo(ctx, ref.Repo, true)
	if err != nil {
		return err
	}
	d, err := release.Sign(ctx, repo, ref.Component, ref.Version, f.signature, key, repo.Registry(), opts)
	if err != nil {
		repo.Abort()
		return err
	}
	if err := repo.Close(); err != nil {
		return err
	}
	return g.printSignature(d, f.signature, "signed %s:%s as %q (digest %s)")
}

// printSignature prints a descriptor's resource digests and a line about
// its signature.
func (g *globals) printSignature(d *component.Descriptor, signature, line string) error {
	sig := d.Signatures[d.SignatureIndex(signature)]
	return g.print(sig, func(t *tableWriter) {
		printDigests(t, d)
		t.row(fmt.Sprintf(line, d.Name, d.Version, signature, sig.Digest))
	})
}

func newComponentVerifyCmd(g *globals) *cobra.Command {
	var (
		f         signFlags
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
			return g.runVerify(cmd.Context(), args[0], f, localOnly)
		},
	}
	f.add(cmd, "public-key", "PEM file with the RSA public key or certificate")
	cmd.Flags().BoolVar(&localOnly, "local-only", false, "check only resources stored with the version (and images in the same store), not images in other registries")
	return cmd
}

func (g *globals) runVerify(ctx context.Context, refArg string, f signFlags, localOnly bool) error {
	ref, err := parseComponentRef(refArg, true)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(f.keyFile)
	if err != nil {
		return usageErr(fmt.Errorf("--public-key: %w", err))
	}
	pub, err := component.ParsePublicKey(pem)
	if err != nil {
		return fmt.Errorf("reading public key %s: %w", f.keyFile, err)
	}
	repo, err := g.openRepo(ctx, ref.Repo, false)
	if err != nil {
		return err
	}
	defer repo.Close()
	var images oci.Reader
	if !localOnly {
		images = repo.Registry()
	}
	d, err := release.Verify(ctx, repo, ref.Component, ref.Version, f.signature, pub, images)
	if err != nil {
		return verifyCmdHint(err, f, localOnly)
	}
	what := "every resource digest"
	if localOnly {
		what = "the digests of the resources stored with it"
	}
	return g.printSignature(d, f.signature, "verified %s:%s: signature %q and "+what+" (digest %s)")
}

// verifyCmdHint says what to do after a failed 'component verify'.
func verifyCmdHint(err error, f signFlags, localOnly bool) error {
	var ce *release.ContentError
	switch {
	case errors.Is(err, component.ErrNoSignature):
		return withHint(err, "sign it with 'ferry component sign --signature %s', or name one of its signatures", f.signature)
	case errors.Is(err, component.ErrSignatureInvalid):
		return verifyHint(fmt.Errorf("%w (public key %s)", err, f.keyFile))
	case errors.As(err, &ce) && !localOnly && !errors.Is(err, component.ErrDigestChanged):
		return withHint(err, "the signature is valid; to check only the content stored with the version, pass --local-only")
	}
	return err
}

func printDigests(t *tableWriter, d *component.Descriptor) {
	for i, r := range d.Resources {
		if r.Digest != nil {
			t.row(fmt.Sprintf("  resource %d: %s: digest %s", i, r.Name, r.Digest))
		}
	}
}
