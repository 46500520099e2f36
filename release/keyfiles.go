package release

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/cosign"
)

// LoadSignKey loads the private key a --sign-key names (a cosign.key,
// decrypted with cosign.Password, or PEM PKCS#8, EC or RSA), or returns nil
// for "". A file that cannot be read is a *UsageError; a wrong password
// comes with a hint (WithHint).
func LoadSignKey(file string) (crypto.Signer, error) {
	if file == "" {
		return nil, nil
	}
	b, err := readFlagFile("--sign-key", file)
	if err != nil {
		return nil, err
	}
	key, err := cosign.LoadPrivateKey(b, cosign.Password)
	if err != nil {
		err = fmt.Errorf("--sign-key %s: %w", file, err)
		if errors.Is(err, cosign.ErrWrongPassword) {
			return nil, WithHint(err, "set COSIGN_PASSWORD to the key's password")
		}
		return nil, err
	}
	return key, nil
}

// ReadPrivateKey reads the RSA private key of a component signature from
// the PEM file a --private-key names; a file that cannot be read is a
// *UsageError.
func ReadPrivateKey(file string) (*rsa.PrivateKey, error) {
	b, err := readFlagFile("--private-key", file)
	if err != nil {
		return nil, err
	}
	key, err := component.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading private key %s: %w", file, err)
	}
	return key, nil
}

// ReadPublicKey reads the RSA public key (or certificate) of a component
// signature from the PEM file a --public-key names; a file that cannot be
// read is a *UsageError.
func ReadPublicKey(file string) (*rsa.PublicKey, error) {
	b, err := readFlagFile("--public-key", file)
	if err != nil {
		return nil, err
	}
	pub, err := component.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading public key %s: %w", file, err)
	}
	return pub, nil
}

// ReadPlanFile reads the plan file a --plan names, checked against the
// cosign public keys in keyFiles when there are any. A plan that does not
// read or verify comes with a hint (WithHint).
func ReadPlanFile(file string, keyFiles []string) (*PlanFile, error) {
	b, err := readFlagFile("--plan", file)
	if err != nil {
		return nil, err
	}
	keys, err := PublicKeys(keyFiles)
	if err != nil {
		return nil, err
	}
	pf, err := ReadPlan(b, keys...)
	if err != nil {
		return nil, WithHint(fmt.Errorf("%s: %w", file, err), "run only the plan as it was reviewed: make it again with --dry-run and have it signed, or check --public-key")
	}
	return pf, nil
}

// ParsePlatforms parses platforms as --platform gives them
// (os/arch[/variant]); a malformed one is a *UsageError.
func ParsePlatforms(ss []string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, s := range ss {
		p, err := v1.ParsePlatform(s)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, &UsageError{fmt.Errorf("--platform %q: want os/arch[/variant], e.g. linux/amd64", s)}
		}
		out = append(out, *p)
	}
	return out, nil
}

// ReadGates reads the supply-chain gates and the platforms as users name
// them into Options: the OCM signatures with their public key files, in
// the same order (SignatureChecks), the cosign key files images must be
// signed with (ImageVerifierFromFiles) and os/arch[/variant] platforms
// (ParsePlatforms). Errors are *UsageError.
func ReadGates(signatures, publicKeys, imageKeys, platforms []string) (Options, error) {
	var o Options
	var err error
	if o.Verify, err = SignatureChecks(signatures, publicKeys); err != nil {
		return o, err
	}
	if o.VerifyImage, err = ImageVerifierFromFiles(imageKeys); err != nil {
		return o, err
	}
	o.Platforms, err = ParsePlatforms(platforms)
	return o, err
}
