package release

import (
	"crypto"
	"fmt"
	"os"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// SignatureChecks reads the checks of Options.Verify: the OCM signature
// names[i] must verify with the RSA public key (or certificate) in the PEM
// file keyFiles[i]. A file that cannot be read or parsed is a *UsageError.
func SignatureChecks(names, keyFiles []string) ([]ocmtransfer.SignatureCheck, error) {
	if len(names) != len(keyFiles) {
		return nil, &UsageError{fmt.Errorf("%d --verify-signature and %d --public-key: give each signature name its public key, in the same order",
			len(names), len(keyFiles))}
	}
	var out []ocmtransfer.SignatureCheck
	for i, name := range names {
		b, err := readFlagFile("--public-key", keyFiles[i])
		if err != nil {
			return nil, err
		}
		pub, err := component.ParsePublicKey(b)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("--public-key %s: %w", keyFiles[i], err)}
		}
		out = append(out, ocmtransfer.SignatureCheck{Name: name, Key: pub, KeyFile: keyFiles[i]})
	}
	return out, nil
}

// ImageVerifierFromFiles returns the ImageVerifier of the cosign public
// keys in the PEM files (any of them will do), or nil without files. A file
// that cannot be read or parsed is a *UsageError.
func ImageVerifierFromFiles(files []string) (transfer.ImageVerifier, error) {
	if len(files) == 0 {
		return nil, nil
	}
	keys, err := readKeys("--verify-images-key", files)
	if err != nil {
		return nil, err
	}
	return ImageVerifier(keys...), nil
}

// PublicKeys reads public keys (PEM: ECDSA, RSA or Ed25519, as cosign takes
// them) from files. A file that cannot be read or parsed is a *UsageError.
func PublicKeys(files []string) ([]crypto.PublicKey, error) { return readKeys("--public-key", files) }

// readKeys reads the cosign public keys of files, naming flag in errors.
func readKeys(flag string, files []string) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for _, file := range files {
		b, err := readFlagFile(flag, file)
		if err != nil {
			return nil, err
		}
		pub, err := cosign.LoadPublicKey(b)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("%s %s: %w", flag, file, err)}
		}
		keys = append(keys, pub)
	}
	return keys, nil
}

// readFlagFile reads the file the command-line flag names; a file that
// cannot be read is a *UsageError naming the flag.
func readFlagFile(flag, file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, &UsageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return b, nil
}
