package cosign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM block types of the keys LoadPublicKey and LoadPrivateKey read.
const (
	// PEMSigstorePrivateKey is the password-encrypted private key that
	// `cosign generate-key-pair` writes (cosign.key).
	PEMSigstorePrivateKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// PEMCosignPrivateKey is the same format under the name older cosign
	// releases used.
	PEMCosignPrivateKey = "ENCRYPTED COSIGN PRIVATE KEY"
)

// ErrWrongPassword: an encrypted cosign private key did not decrypt with
// the password given (or the file is damaged; the cipher cannot tell).
var ErrWrongPassword = errors.New("wrong password for cosign private key")

// rsaMinBits is the smallest RSA key sigstore accepts (goodkey).
const rsaMinBits = 2048

// LoadPublicKey parses the first PEM block of pemBytes: a PKIX "PUBLIC KEY"
// (cosign.pub), a PKCS #1 "RSA PUBLIC KEY", or a "CERTIFICATE", whose key is
// taken as it is (the certificate itself is not checked: key-based
// verification, as with `cosign verify --key cert.pem`). The key must be
// ECDSA on P-256, P-384 or P-521, RSA of at least 2048 bits, or Ed25519.
func LoadPublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("loading public key: no PEM block found")
	}
	var (
		pub crypto.PublicKey
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("loading public key: PEM block %q is not a public key or certificate", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("loading public key: parsing %s: %w", block.Type, err)
	}
	if err := checkKey(pub); err != nil {
		return nil, fmt.Errorf("loading public key: %w", err)
	}
	return pub, nil
}

// LoadPrivateKey parses the first PEM block of pemBytes as a private key:
// cosign's encrypted "ENCRYPTED SIGSTORE PRIVATE KEY" (or the older
// "ENCRYPTED COSIGN PRIVATE KEY"), or an unencrypted PKCS #8 "PRIVATE KEY",
// SEC 1 "EC PRIVATE KEY" or PKCS #1 "RSA PRIVATE KEY". password is called
// only for an encrypted key; nil means the empty password, as cosign takes
// it. A password that does not decrypt the key gives an error wrapping
// ErrWrongPassword. Key types are those LoadPublicKey accepts.
func LoadPrivateKey(pemBytes []byte, password func() ([]byte, error)) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("loading private key: no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case PEMSigstorePrivateKey, PEMCosignPrivateKey:
		var pass []byte
		if password != nil {
			if pass, err = password(); err != nil {
				return nil, fmt.Errorf("loading private key: reading password: %w", err)
			}
		}
		der, err := decryptKey(block.Bytes, pass)
		if err != nil {
			return nil, fmt.Errorf("loading private key: %w", err)
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("loading private key: parsing decrypted PKCS #8 key: %w", err)
		}
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("loading private key: password-encrypted PKCS #8 keys are not supported; " +
			"use a cosign key (cosign generate-key-pair, or cosign import-key-pair) or an unencrypted one")
	default:
		return nil, fmt.Errorf("loading private key: PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("loading private key: parsing %s: %w", block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("loading private key: %T cannot sign", key)
	}
	if err := checkKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("loading private key: %w", err)
	}
	return signer, nil
}

// KeyID names a public key in reports and bills of materials:
// "sha256:" and the hex SHA-256 of its PKIX (DER) encoding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// checkKey accepts the key types and sizes sigstore does.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("ECDSA curve %s is not supported (P-256, P-384, P-521 are)", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k.N.BitLen() < rsaMinBits {
			return fmt.Errorf("RSA key of %d bits is too small (at least %d)", k.N.BitLen(), rsaMinBits)
		}
		return nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("an Ed25519 key of %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		return nil
	}
	return fmt.Errorf("key type %T is not supported (ECDSA, RSA and Ed25519 are)", pub)
}

// sealedKey is the body of cosign's encrypted private key PEM block: the
// JSON that go-securesystemslib's encrypted.Encrypt writes. Byte slices are
// base64 in JSON, as encoding/json writes them.
type sealedKey struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// scryptCosts are the scrypt parameters go-securesystemslib decrypts with
// (its Legacy, Standard and OWASP strengths; cosign writes Legacy). Others
// are refused, so that a tampered file cannot make the KDF take forever.
var scryptCosts = [][3]int{{32768, 8, 1}, {65536, 8, 1}, {131072, 8, 1}}

// decryptKey opens the JSON body of a cosign encrypted private key with
// password: scrypt derives a 32-byte key from the password and salt, and
// NaCl secretbox (XSalsa20-Poly1305) opens the ciphertext with it.
func decryptKey(body, password []byte) ([]byte, error) {
	var s sealedKey
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("decoding encrypted cosign key: %w", err)
	}
	if s.KDF.Name != "scrypt" {
		return nil, fmt.Errorf("encrypted cosign key: unknown kdf %q (scrypt is supported)", s.KDF.Name)
	}
	if s.Cipher.Name != "nacl/secretbox" {
		return nil, fmt.Errorf("encrypted cosign key: unknown cipher %q (nacl/secretbox is supported)", s.Cipher.Name)
	}
	p := [3]int{s.KDF.Params.N, s.KDF.Params.R, s.KDF.Params.P}
	known := false
	for _, c := range scryptCosts {
		known = known || c == p
	}
	if !known {
		return nil, fmt.Errorf("encrypted cosign key: unsupported scrypt parameters N=%d r=%d p=%d", p[0], p[1], p[2])
	}
	var nonce [24]byte
	if len(s.Cipher.Nonce) != len(nonce) {
		return nil, fmt.Errorf("encrypted cosign key: nonce of %d bytes, want %d", len(s.Cipher.Nonce), len(nonce))
	}
	copy(nonce[:], s.Cipher.Nonce)
	k, err := scrypt.Key(password, s.KDF.Salt, p[0], p[1], p[2], 32)
	if err != nil {
		return nil, fmt.Errorf("encrypted cosign key: deriving key: %w", err)
	}
	var key [32]byte
	copy(key[:], k)
	plain, ok := secretbox.Open(nil, s.Ciphertext, &nonce, &key)
	if !ok {
		return nil, ErrWrongPassword
	}
	return plain, nil
}
