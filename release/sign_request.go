package release

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/repository"
)

// SignRequest is a component signature as a user names it: the
// signature's name, the PEM key file, and for signing the algorithm, hash
// and normalisation by name.
type SignRequest struct {
	Signature, KeyFile             string
	Algorithm, Hash, Normalisation string
}

// Options reads the algorithm, hash and normalisation; a name that is not
// one of them is a *UsageError.
func (r SignRequest) Options() (component.SignOptions, error) {
	h, err := component.ParseHash(r.Hash)
	if err != nil {
		return component.SignOptions{}, &UsageError{fmt.Errorf("--hash: %w", err)}
	}
	n, err := component.ParseNormalisation(r.Normalisation)
	if err != nil {
		return component.SignOptions{}, &UsageError{fmt.Errorf("--normalisation %w", err)}
	}
	return component.SignOptions{Algorithm: r.Algorithm, Hash: h, Normalisation: n}, nil
}

// SignVersion signs the component version ref names (it must name its
// version) as r asks (see Sign), in the repository opened with o for
// writing, and writes it back; nothing is written when signing fails.
func SignVersion(ctx context.Context, ref component.Ref, r SignRequest, o repository.Options) (*Signed, error) {
	opts, err := r.Options()
	if err != nil {
		return nil, err
	}
	key, err := ReadPrivateKey(r.KeyFile)
	if err != nil {
		return nil, err
	}
	o.Write = true
	repo, err := repository.OpenRepo(ctx, ref.Repo, o)
	if err != nil {
		return nil, err
	}
	d, err := Sign(ctx, repo, ref.Component, ref.Version, r.Signature, key, repo.Registry(), opts)
	if err != nil {
		repo.Abort()
		return nil, err
	}
	return &Signed{d, r.Signature, "signed %s:%s as %q (digest %s)"}, repo.Close()
}

// VerifyVersion checks the signature r names of the component version ref
// names, with r's public key, and every resource digest (see Verify);
// localOnly checks only the content stored with the version, not images in
// other registries. A failure comes with a hint (WithHint).
func VerifyVersion(ctx context.Context, ref component.Ref, r SignRequest, localOnly bool, o repository.Options) (*Signed, error) {
	pub, err := ReadPublicKey(r.KeyFile)
	if err != nil {
		return nil, err
	}
	repo, err := repository.OpenRepo(ctx, ref.Repo, o)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	var images oci.Reader
	if !localOnly {
		images = repo.Registry()
	}
	d, err := Verify(ctx, repo, ref.Component, ref.Version, r.Signature, pub, images)
	if err != nil {
		return nil, verifyVersionHint(err, r, localOnly)
	}
	what := "every resource digest"
	if localOnly {
		what = "the digests of the resources stored with it"
	}
	return &Signed{d, r.Signature, "verified %s:%s: signature %q and " + what + " (digest %s)"}, nil
}

// verifyVersionHint says what to do after a failed VerifyVersion.
func verifyVersionHint(err error, r SignRequest, localOnly bool) error {
	var ce *ContentError
	switch {
	case errors.Is(err, component.ErrNoSignature):
		return WithHint(err, "sign it with 'ferry component sign --signature %s', or name one of its signatures", r.Signature)
	case errors.Is(err, component.ErrSignatureInvalid):
		return VerifyHint(fmt.Errorf("%w (public key %s)", err, r.KeyFile))
	case errors.As(err, &ce) && !localOnly && !errors.Is(err, component.ErrDigestChanged):
		return WithHint(err, "the signature is valid; to check only the content stored with the version, pass --local-only")
	}
	return err
}

// Signed is a component version SignVersion signed or VerifyVersion
// verified. It prints as the signature (JSON, YAML) or, for people, as
// its resource digests and a line about the signature.
type Signed struct {
	Descriptor *component.Descriptor
	Name       string // the signature's
	line       string // format of the line: name, version, signature, digest
}

// Signature is the signature signed or verified.
func (s *Signed) Signature() component.Signature {
	return s.Descriptor.Signatures[s.Descriptor.SignatureIndex(s.Name)]
}

// WriteTable writes the resource digests and the line about the signature.
func (s *Signed) WriteTable(w io.Writer) error {
	d := s.Descriptor
	for i, r := range d.Resources {
		if r.Digest != nil {
			fmt.Fprintf(w, "  resource %d: %s: digest %s\n", i, r.Name, r.Digest)
		}
	}
	_, err := fmt.Fprintf(w, s.line+"\n", d.Name, d.Version, s.Name, s.Signature().Digest)
	return err
}
