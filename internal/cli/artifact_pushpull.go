package cli

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/internal/human"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/release"
)

// gitopsFlags are the flags that shape a GitOps artifact.
type gitopsFlags struct {
	format   string
	source   string
	revision string
	created  string
	signKey  string
}

func (f *gitopsFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "oci", "artifact media types: oci (Flux, Argo CD and Config Sync) or flux (Flux's own)")
	fl.StringVar(&f.source, "source", "", "org.opencontainers.image.source annotation (where the manifests come from)")
	fl.StringVar(&f.revision, "revision", "", "org.opencontainers.image.revision annotation")
	fl.StringVar(&f.created, "created", "", "org.opencontainers.image.created (RFC 3339); fixed to the epoch by default, so the same files give the same digest")
	fl.StringVar(&f.signKey, "sign-key", "", "sign the pushed artifact with the private key in `FILE` as cosign does (cosign.key with $COSIGN_PASSWORD, or PEM PKCS#8/EC/RSA), for 'cosign verify --key' and Flux's verify")
}

func (f *gitopsFlags) options() (gitops.Options, error) {
	o := gitops.Options{Source: f.source, Revision: f.revision}
	switch f.format {
	case "oci", "":
	case "flux":
		o.Format = gitops.FormatFlux
	default:
		return o, usageErr(fmt.Errorf("--format %q: want oci or flux", f.format))
	}
	if f.created != "" {
		t, err := time.Parse(time.RFC3339, f.created)
		if err != nil {
			return o, usageErr(fmt.Errorf("--created %q: want RFC 3339", f.created))
		}
		o.Created = t
	}
	return o, nil
}

// parseOCIURL parses oci://REPO:TAG (the scheme is optional; http://
// asks for plain HTTP).
func (g *globals) parseOCIURL(s string, needTag bool) (oci.Ref, error) {
	r, err := parseImageRef(s)
	if err != nil {
		return oci.Ref{}, err
	}
	if needTag && r.Tag == "" {
		return oci.Ref{}, usageErr(fmt.Errorf("%s: name a tag (oci://REPO:TAG)", s))
	}
	return r.Ref, g.checkPlainHTTP(r)
}

func newArtifactPushCmd(g *globals) *cobra.Command {
	var f gitopsFlags
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
			return g.runArtifactPush(cmd.Context(), args[0], args[1], f)
		},
	}
	f.add(cmd)
	return cmd
}

// signer loads the --sign-key (see loadSignKey).
func (f *gitopsFlags) signer() (crypto.Signer, error) { return loadSignKey(f.signKey) }

// loadSignKey loads a --sign-key, or returns nil without one. A cosign key
// is decrypted with $COSIGN_PASSWORD, as cosign does, or a password typed
// on the terminal.
func loadSignKey(file string) (crypto.Signer, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--sign-key: %w", err))
	}
	key, err := cosign.LoadPrivateKey(b, cosignPassword)
	if err != nil {
		err = fmt.Errorf("--sign-key %s: %w", file, err)
		if errors.Is(err, cosign.ErrWrongPassword) {
			return nil, withHint(err, "set COSIGN_PASSWORD to the key's password")
		}
		return nil, err
	}
	return key, nil
}

// cosignPassword is the password of an encrypted cosign key.
func cosignPassword() ([]byte, error) {
	if p, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(p), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, errors.New("the key is encrypted: set COSIGN_PASSWORD")
	}
	fmt.Fprint(os.Stderr, "Enter password for private key: ")
	p, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return p, err
}

// pushGitOps publishes files as a GitOps artifact at ref through the
// run's registry client.
func (g *globals) pushGitOps(ctx context.Context, files fs.FS, ref oci.Ref, opts gitops.Options, signer crypto.Signer) (*release.Published, error) {
	store, err := g.remoteStore()
	if err != nil {
		return nil, err
	}
	return release.Publish(ctx, store, files, ref, opts, signer)
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
			return g.runArtifactPull(cmd.Context(), args[0], out)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "O", "", "directory to unpack into (created if missing)")
	return cmd
}

func (g *globals) runArtifactPush(ctx context.Context, dir, refArg string, f gitopsFlags) error {
	ref, err := g.parseOCIURL(refArg, true)
	if err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageErr(fmt.Errorf("%s: not a directory", dir))
	}
	signer, err := f.signer()
	if err != nil {
		return err
	}
	p, err := g.pushGitOps(ctx, os.DirFS(dir), ref, opts, signer)
	if err != nil {
		return err
	}
	return g.print(p, func(t *tableWriter) {
		t.row(p.Reference)
		if p.Signature != nil {
			t.row("signed " + p.Signature.Reference)
		}
	})
}

func (g *globals) runArtifactPull(ctx context.Context, refArg, out string) error {
	ref, err := g.parseOCIURL(refArg, false)
	if err != nil {
		return err
	}
	if out == "" {
		return usageErr(fmt.Errorf("name the directory to unpack into with -O DIR"))
	}
	store, err := g.remoteStore()
	if err != nil {
		return err
	}
	p, err := gitops.Pull(ctx, store, ref, out, gitops.PullOptions{})
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	names := p.Files.Names()
	return g.print(struct {
		Reference string   `json:"reference"`
		Digest    v1.Hash  `json:"digest"`
		Files     []string `json:"files"`
	}{ref.String(), p.Descriptor.Digest, names}, func(t *tableWriter) {
		for _, n := range names {
			t.row(n)
		}
		pinned := ref // the digest once, whether ref named it or not
		pinned.Digest = p.Descriptor.Digest
		t.row(fmt.Sprintf("pulled %s into %s: %s", pinned, out, human.Count(len(names), "file")))
	})
}
