package cli

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/resource"
	"github.com/ferry-oci/ferry/transfer"
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
			ref, err := parseComponentRef(args[0], true)
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
			ctx := cmd.Context()
			repo, err := g.openComponentRepo(ref.Repo, true)
			if err != nil {
				return err
			}
			cv, src, err := g.readVersion(ctx, repo, ref.Component, ref.Version)
			if err != nil {
				repo.Abort()
				return err
			}
			d := cv.Descriptor
			opts.ResourceDigest = func(r component.Resource) (*component.DigestSpec, error) {
				return src.Digest(ctx, &r, r.Digest)
			}
			opts.Recompute = true
			opts.ReferenceDigest = func(r component.Reference) (*component.DigestSpec, error) {
				return referenceDigest(ctx, repo, r, opts)
			}
			if err := component.Sign(d, f.signature, key, opts); err != nil {
				repo.Abort()
				return err
			}
			blobs := make([]ocireg.LocalBlob, 0, len(cv.LocalBlobs()))
			for _, b := range cv.LocalBlobs() {
				blobs = append(blobs, ocireg.LocalBlob{Descriptor: b.Descriptor})
			}
			if _, err := repo.Write(ctx, d, blobs, ocireg.WriteOptions{Creator: cv.Annotations[ocireg.AnnotationCreator]}); err != nil {
				repo.Abort()
				return fmt.Errorf("writing signed %s:%s to %s: %w", d.Name, d.Version, repo.spec, err)
			}
			if err := repo.Close(); err != nil {
				return err
			}
			sig := d.Signatures[d.SignatureIndex(f.signature)]
			return g.print(sig, func(t *tableWriter) {
				printDigests(t, d)
				t.row(fmt.Sprintf("signed %s:%s as %q (digest %s)", d.Name, d.Version, f.signature, sig.Digest))
			})
		},
	}
	f.add(cmd, "private-key", "PEM file with the RSA private key")
	cmd.Flags().StringVar(&f.algorithm, "algorithm", "RSASSA-PKCS1-V1_5", "signature algorithm: RSASSA-PKCS1-V1_5 or RSASSA-PSS")
	cmd.Flags().StringVar(&f.hash, "hash", "SHA-256", "hash algorithm: SHA-256 or SHA-512")
	cmd.Flags().StringVar(&f.normalisation, "normalisation", component.JSONNormalisationV3, "descriptor normalisation: jsonNormalisation/v1, v2 or v3")
	return cmd
}

func (f *signFlags) signOptions() (component.SignOptions, error) {
	h, err := component.ParseHash(f.hash)
	if err != nil {
		return component.SignOptions{}, usageErr(fmt.Errorf("--hash: %w", err))
	}
	switch f.normalisation {
	case component.JSONNormalisationV1, component.JSONNormalisationV2, component.JSONNormalisationV3:
	default:
		return component.SignOptions{}, usageErr(fmt.Errorf("--normalisation %q: want %s, %s or %s", f.normalisation,
			component.JSONNormalisationV1, component.JSONNormalisationV2, component.JSONNormalisationV3))
	}
	return component.SignOptions{Algorithm: f.algorithm, Hash: h, Normalisation: f.normalisation}, nil
}

// readVersion reads a component version and a resource.Source for its content.
func (g *globals) readVersion(ctx context.Context, repo *componentRepo, name, version string) (*ocireg.Version, *resource.Source, error) {
	cv, err := repo.Get(ctx, name, version)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s:%s from %s: %w", name, version, repo.spec, err)
	}
	images, err := g.remoteStore()
	if err != nil {
		return nil, nil, err
	}
	return cv, &resource.Source{Version: cv, Store: repo.Store(), Images: images}, nil
}

// referenceDigest is the digest of a referenced version in the same
// repository, with its own resource and reference digests filled in.
func referenceDigest(ctx context.Context, repo *componentRepo, r component.Reference, opts component.SignOptions) (*component.DigestSpec, error) {
	cv, err := repo.Get(ctx, r.ComponentName, r.Version)
	if err != nil {
		return nil, fmt.Errorf("reference %s: reading %s:%s: %w", r.Name, r.ComponentName, r.Version, err)
	}
	for _, res := range cv.Descriptor.Resources {
		if res.Digest == nil && !res.Access.IsNone() {
			return nil, fmt.Errorf("reference %s: %s:%s resource %s has no digest: sign that version first", r.Name, r.ComponentName, r.Version, res.Name)
		}
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	d, err := component.DescriptorDigest(cv.Descriptor, opts.Normalisation, h)
	return &d, err
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
			ref, err := parseComponentRef(args[0], true)
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
			d := cv.Descriptor
			if err := component.Verify(d, f.signature, pub); err != nil {
				if errors.Is(err, component.ErrNoSignature) {
					return withHint(err, "sign it with 'ferry component sign --signature %s', or name one of its signatures", f.signature)
				}
				return err
			}
			if localOnly {
				src.Images = nil
			}
			if err := verifyResources(ctx, src); err != nil {
				if !localOnly && !errors.Is(err, component.ErrDigestChanged) {
					return withHint(err, "the signature is valid; to check only the content stored with the version, pass --local-only")
				}
				return err
			}
			sig := d.Signatures[d.SignatureIndex(f.signature)]
			return g.print(sig, func(t *tableWriter) {
				printDigests(t, d)
				what := "every resource digest"
				if localOnly {
					what = "the digests of the resources stored with it"
				}
				t.row(fmt.Sprintf("verified %s:%s: signature %q and %s (digest %s)", d.Name, d.Version, f.signature, what, sig.Digest))
			})
		},
	}
	f.add(cmd, "public-key", "PEM file with the RSA public key or certificate")
	cmd.Flags().BoolVar(&localOnly, "local-only", false, "check only resources stored with the version (and images in the same store), not images in other registries")
	return cmd
}

// verifyResources recomputes the digest of every resource from its content.
func verifyResources(ctx context.Context, src *resource.Source) error {
	d := src.Version.Descriptor
	for i := range d.Resources {
		r := &d.Resources[i]
		if r.Digest == nil || r.Digest.IsExcluded() || r.Access.IsNone() {
			continue
		}
		if src.Images == nil && r.Access.Kind() == component.AccessOCIArtifact {
			continue
		}
		if from, ok := filteredFrom(r); ok && from == "sha256:"+r.Digest.Value {
			// A copy filtered to some platforms (ferry transfer --platform)
			// names another index than the signed one, and says so.
			continue
		}
		got, err := src.Digest(ctx, r, r.Digest)
		if err != nil {
			return fmt.Errorf("verifying content: %w", err)
		}
		if got.Value != r.Digest.Value {
			return fmt.Errorf("verifying %s: content digest %s differs from the signed %s: %w", src.Name(r), got, r.Digest, component.ErrDigestChanged)
		}
	}
	return nil
}

func printDigests(t *tableWriter, d *component.Descriptor) {
	for i, r := range d.Resources {
		if r.Digest != nil {
			t.row(fmt.Sprintf("  resource %d: %s: digest %s", i, r.Name, r.Digest))
		}
	}
}

// filteredFrom returns the signed digest a platform-filtered copy records.
func filteredFrom(r *component.Resource) (string, bool) {
	for _, l := range r.Labels {
		var v string
		if l.Name == transfer.LabelFilteredFrom && json.Unmarshal(l.Value, &v) == nil {
			return v, true
		}
	}
	return "", false
}
