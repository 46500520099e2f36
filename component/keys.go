package component

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrInvalidKey: a PEM block is missing, of an unknown type, or does not
// hold an RSA key.
var ErrInvalidKey = errors.New("invalid key")

// ParsePublicKey reads the first PEM block of pemBytes: an RSA public key
// in PKCS#1 ("RSA PUBLIC KEY", what `ocm create rsakeypair` writes) or
// PKIX ("PUBLIC KEY") form, or a certificate ("CERTIFICATE"), whose key is
// returned. The chain of a certificate is not verified here.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("reading public key: %w: no PEM block", ErrInvalidKey)
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("reading public key: %w: PEM block %q", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w: %w", ErrInvalidKey, err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("reading public key: %w: %T is not an RSA key", ErrInvalidKey, key)
	}
	return pub, nil
}

// ParsePrivateKey reads the first PEM block of pemBytes: an RSA private
// key in PKCS#1 ("RSA PRIVATE KEY", what `ocm create rsakeypair` writes) or
// PKCS#8 ("PRIVATE KEY") form. Encrypted keys are not supported.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("reading private key: %w: no PEM block", ErrInvalidKey)
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("reading private key: %w: PEM block %q", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w: %w", ErrInvalidKey, err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("reading private key: %w: %T is not an RSA key", ErrInvalidKey, key)
	}
	return priv, nil
}

// rsaPublic returns the RSA key behind pub.
func rsaPublic(pub crypto.PublicKey) (*rsa.PublicKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k, nil
	case rsa.PublicKey:
		return &k, nil
	case *x509.Certificate:
		return rsaPublic(k.PublicKey)
	case *rsa.PrivateKey:
		return &k.PublicKey, nil
	}
	return nil, fmt.Errorf("%w: %T is not an RSA public key", ErrInvalidKey, pub)
}
