package cosign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// Keys are made once per test binary: RSA generation is slow.
var (
	keysOnce sync.Once
	testKeys map[string]crypto.Signer
)

// keys returns one private key of each kind ferry supports, by name.
func keys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		testKeys = map[string]crypto.Signer{}
		for name, curve := range map[string]elliptic.Curve{"p256": elliptic.P256(), "p256b": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()} {
			k, err := ecdsa.GenerateKey(curve, rand.Reader)
			if err != nil {
				panic(err)
			}
			testKeys[name] = k
		}
		r, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKeys["rsa"] = r
		_, e, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		testKeys["ed25519"] = e
	})
	return testKeys
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func publicPEM(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PUBLIC KEY", der)
}

func TestLoadPublicKey(t *testing.T) {
	ks := keys(t)
	for _, name := range []string{"p256", "p384", "p521", "rsa", "ed25519"} {
		pub := ks[name].Public()
		got, err := LoadPublicKey(append([]byte("cosign.pub\n"), publicPEM(t, pub)...))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			t.Errorf("%s: loaded another key", name)
		}
	}

	// PKCS #1 RSA public key, and the key of a certificate.
	r := ks["rsa"].(*rsa.PrivateKey)
	if got, err := LoadPublicKey(pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&r.PublicKey))); err != nil || !r.PublicKey.Equal(got) {
		t.Errorf("RSA PUBLIC KEY = %v, %v", got, err)
	}
	e := ks["p256"].(*ecdsa.PrivateKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &e.PublicKey, e)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := LoadPublicKey(pemOf("CERTIFICATE", der)); err != nil || !e.PublicKey.Equal(got) {
		t.Errorf("CERTIFICATE = %v, %v", got, err)
	}
}

func TestLoadPublicKeyRefuses(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := x509.MarshalPKCS8PrivateKey(keys(t)["p256"])
	for name, b := range map[string][]byte{
		"empty":       nil,
		"not PEM":     []byte("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
		"private key": pemOf("PRIVATE KEY", priv),
		"garbage DER": pemOf("PUBLIC KEY", []byte("nope")),
		"RSA 1024":    publicPEM(t, &small.PublicKey),
		"P-224":       publicPEM(t, &p224.PublicKey),
	} {
		if k, err := LoadPublicKey(b); err == nil {
			t.Errorf("%s: loaded %T", name, k)
		}
	}
}

// sealForTest encrypts plaintext as go-securesystemslib's encrypted.Encrypt
// does for cosign (scrypt N=32768 r=8 p=1, 32-byte salt, NaCl secretbox
// with a 24-byte nonce, JSON with base64 byte strings), written here
// independently of decryptKey.
func sealForTest(t testing.TB, plaintext, password []byte, n int) []byte {
	t.Helper()
	salt := make([]byte, 32)
	var nonce [24]byte
	rand.Read(salt)
	rand.Read(nonce[:])
	k, err := scrypt.Key(password, salt, n, 8, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	var key [32]byte
	copy(key[:], k)
	type params struct {
		N int `json:"N"`
		R int `json:"r"`
		P int `json:"p"`
	}
	type kdf struct {
		Name   string `json:"name"`
		Params params `json:"params"`
		Salt   []byte `json:"salt"`
	}
	type cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	}
	b, err := json.Marshal(struct {
		KDF        kdf    `json:"kdf"`
		Cipher     cipher `json:"cipher"`
		Ciphertext []byte `json:"ciphertext"`
	}{
		KDF:        kdf{Name: "scrypt", Params: params{N: n, R: 8, P: 1}, Salt: salt},
		Cipher:     cipher{Name: "nacl/secretbox", Nonce: nonce[:]},
		Ciphertext: secretbox.Seal(nil, plaintext, &nonce, &key),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func password(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

func TestLoadPrivateKey(t *testing.T) {
	ks := keys(t)
	ec := ks["p256"].(*ecdsa.PrivateKey)
	r := ks["rsa"].(*rsa.PrivateKey)
	ecSEC1, _ := x509.MarshalECPrivateKey(ec)
	for _, name := range []string{"p256", "p384", "rsa", "ed25519"} {
		der, err := x509.MarshalPKCS8PrivateKey(ks[name])
		if err != nil {
			t.Fatal(err)
		}
		got, err := LoadPrivateKey(pemOf("PRIVATE KEY", der), nil)
		if err != nil || !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(ks[name].Public()) {
			t.Errorf("PKCS #8 %s = %v, %v", name, got, err)
		}
	}
	if got, err := LoadPrivateKey(pemOf("EC PRIVATE KEY", ecSEC1), nil); err != nil || !ec.Equal(got) {
		t.Errorf("EC PRIVATE KEY = %v, %v", got, err)
	}
	if got, err := LoadPrivateKey(pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r)), nil); err != nil || !r.Equal(got) {
		t.Errorf("RSA PRIVATE KEY = %v, %v", got, err)
	}
	asked := 0
	if _, err := LoadPrivateKey(pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r)), func() ([]byte, error) {
		asked++
		return nil, nil
	}); err != nil || asked != 0 {
		t.Errorf("an unencrypted key asked for a password %d times (%v)", asked, err)
	}
}

func TestLoadEncryptedCosignKey(t *testing.T) {
	ec := keys(t)["p256"].(*ecdsa.PrivateKey)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	body := sealForTest(t, der, []byte("s3cret"), 32768)
	for _, typ := range []string{"ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"} {
		key := pemOf(typ, body)
		got, err := LoadPrivateKey(key, password("s3cret"))
		if err != nil || !ec.Equal(got) {
			t.Fatalf("%s = %v, %v", typ, got, err)
		}
		if _, err := LoadPrivateKey(key, password("wrong")); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("%s with a wrong password: %v, want ErrWrongPassword", typ, err)
		}
		if _, err := LoadPrivateKey(key, nil); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("%s without a password: %v, want ErrWrongPassword", typ, err)
		}
		boom := errors.New("no terminal")
		if _, err := LoadPrivateKey(key, func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Errorf("%s with a failing password func: %v", typ, err)
		}
	}
	// The empty password, which cosign allows.
	empty := pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", sealForTest(t, der, nil, 32768))
	if got, err := LoadPrivateKey(empty, nil); err != nil || !ec.Equal(got) {
		t.Errorf("empty password = %v, %v", got, err)
	}
	// Parameters outside go-securesystemslib's three are refused before
	// any work (a tampered file must not make scrypt run for hours).
	odd := pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", sealForTest(t, der, []byte("s3cret"), 1024))
	if _, err := LoadPrivateKey(odd, password("s3cret")); err == nil || !strings.Contains(err.Error(), "scrypt parameters") {
		t.Errorf("N=1024: %v, want refused", err)
	}
}

// TestDecryptVectors opens the ciphertexts go-securesystemslib's own tests
// pin (encrypted/encrypted_test.go), passphrase "supersecret": one per
// scrypt strength it decrypts, whose plaintext is "reallyimportant" as
// JSON (its Marshal wraps the bytes in a base64 JSON string), and the raw
// "reallyimportant" of its Decrypt test.
func TestDecryptVectors(t *testing.T) {
	vectors := map[string]string{
		"legacy":   `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"WO3mVvyTwJ9vwT5/Tk5OW5WPIBUofMjcpEfrLnfY4uA="},"cipher":{"name":"nacl/secretbox","nonce":"tCy7HcTFr4uxv4Nrg/DWmncuZ148U1MX"},"ciphertext":"08n43p5G5yviPEZpO7tPPF4aZQkWiWjkv4taFdhDBA0tamKH4nw="}`,
		"standard": `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"FhzPOt9/bJG4PTq6lQ6ecG6GzaOuOy/ynG5+yRiFlNs="},"cipher":{"name":"nacl/secretbox","nonce":"aw1ng1jHaDz/tQ7V2gR9O2+IGQ8xJEuE"},"ciphertext":"HycvuLZL4sYH0BrYTh4E/H20VtAW6u5zL5Pr+IBjYLYnCPzDkq8="}`,
		"owasp":    `{"kdf":{"name":"scrypt","params":{"N":131072,"r":8,"p":1},"salt":"m38E3kouJTtiheLQN22NQ8DTito5hrjpUIskqcd375k="},"cipher":{"name":"nacl/secretbox","nonce":"Y6PM13yA+o44pE/W1ZBwczeGnTV/m9Zc"},"ciphertext":"6H8sqj1K6B6yDjtH5AQ6lbFigg/C2yDDJc4rYJ79w9aVPImFIPI="}`,
		"decrypt":  `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}`,
	}
	for name, v := range vectors {
		want := `"cmVhbGx5aW1wb3J0YW50"` // base64 of "reallyimportant", quoted
		if name == "decrypt" {
			want = "reallyimportant"
		}
		got, err := decryptKey([]byte(v), []byte("supersecret"))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if _, err := decryptKey([]byte(vectors["legacy"]), []byte("supersecreT")); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong passphrase: %v", err)
	}
	unsupported := `{"kdf":{"name":"scrypt","params":{"N":99,"r":99,"p":99},"salt":"cZFcQJdwPhPyhU1R4qkl0qVOIjZd4V/7LYYAavq166k="},"cipher":{"name":"nacl/secretbox","nonce":"7vhRS7j0hEPBWV05skAdgLj81AkGeE7U"},"ciphertext":"6WYU/YSXVbYzl/NzaeAzmjLyfFhOOjLc0d8/GFV0aBFdJvyCcXc="}`
	if _, err := decryptKey([]byte(unsupported), []byte("supersecret")); err == nil {
		t.Error("N=99 r=99 p=99 decrypted")
	}
	for name, v := range map[string]string{
		"kdf":    strings.Replace(vectors["legacy"], `"scrypt"`, `"pbkdf2"`, 1),
		"cipher": strings.Replace(vectors["legacy"], `"nacl/secretbox"`, `"aes-gcm"`, 1),
		"nonce":  strings.Replace(vectors["legacy"], `tCy7HcTFr4uxv4Nrg/DWmncuZ148U1MX`, `tCy7HcTF`, 1),
		"json":   vectors["legacy"][:40],
	} {
		if _, err := decryptKey([]byte(v), []byte("supersecret")); err == nil || errors.Is(err, ErrWrongPassword) {
			t.Errorf("bad %s: %v, want a format error", name, err)
		}
	}
}

func TestKeyID(t *testing.T) {
	pub := keys(t)["ed25519"].Public()
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	got, err := KeyID(pub)
	if err != nil || got != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("KeyID = %q, %v", got, err)
	}
	if other, _ := KeyID(keys(t)["p256"].Public()); other == got {
		t.Error("two keys, one ID")
	}
}
