package component

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func acmeKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PublicKey, *rsa.PublicKey) {
	t.Helper()
	priv, err := ParsePrivateKey(readFile(t, "signing/acme.priv"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(readFile(t, "signing/acme.pub"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := ParsePublicKey(readFile(t, "signing/other.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("acme.priv and acme.pub do not match")
	}
	return priv, pub, other
}

// Descriptors signed by `ocm sign` verify with acme.pub, fail with the
// wrong key, and an unsigned version has no signature.
func TestVerifyOCMSigned(t *testing.T) {
	_, pub, other := acmeKeys(t)
	sources := map[string][]byte{
		"podinfo-6.3.5.signed.v2.yaml": readFile(t, "descriptors/podinfo-6.3.5.signed.v2.yaml"),
		"app-1.0.0.signed.v2.yaml":     readFile(t, "descriptors/app-1.0.0.signed.v2.yaml"),
		"ctf-signed podinfo:6.3.5":     ctfDescriptor(t, "testdata/ctf-signed", "example.com/podinfo", "6.3.5"),
		"ctf-signed app:1.0.0":         ctfDescriptor(t, "testdata/ctf-signed", "example.com/app", "1.0.0"),
	}
	for name, data := range sources {
		t.Run(name, func(t *testing.T) {
			d, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(d, "acme", pub); err != nil {
				t.Errorf("Verify with acme.pub: %v", err)
			}
			if err := Verify(d, "acme", other); !errors.Is(err, ErrSignatureInvalid) {
				t.Errorf("Verify with other.pub: %v, want ErrSignatureInvalid", err)
			}
			err = Verify(d, "nobody", pub)
			if !errors.Is(err, ErrNoSignature) || !strings.Contains(err.Error(), `"acme"`) {
				t.Errorf("Verify of a missing name: %v, want ErrNoSignature naming acme", err)
			}
			// any change to a signed field is detected before the key is used
			d.Resources[0].Digest.Value = strings.Repeat("0", 64)
			if err := Verify(d, "acme", pub); !errors.Is(err, ErrDigestChanged) {
				t.Errorf("Verify after a change: %v, want ErrDigestChanged", err)
			}
		})
	}
	unsigned, err := Decode(ctfDescriptor(t, "testdata/ctf-signed", "example.com/podinfo", "6.3.6"))
	if err != nil {
		t.Fatal(err)
	}
	err = Verify(unsigned, "acme", pub)
	if !errors.Is(err, ErrNoSignature) || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("unsigned: %v, want ErrNoSignature saying it is not signed", err)
	}
}

// The gardener-era compat fixture: PKCS#1 public key, legacy "sha256" hash
// name, jsonNormalisation/v1 without "extraIdentity": null.
func TestVerifyCompatRSA(t *testing.T) {
	dir := "signing/compat-rsa-jsonNormalisation-v1/"
	d := decodeFile(t, dir+"component-archive/component-descriptor.yaml")
	pub, err := ParsePublicKey(readFile(t, dir+"rsa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(d, "test", pub); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// the blob digest in the resource is genericBlobDigest/v1 of the blob
	blob := readFile(t, dir+"component-archive/blobs/sha256.c893900c1106f13d55648a425f502dd6518e40eaa3ac7d24023d4c73d55dc12e")
	dg, err := GenericBlobDigest(bytes.NewReader(blob), crypto.SHA256)
	if err != nil || dg.Value != d.Resources[0].Digest.Value || dg.NormalisationAlgorithm != GenericBlobDigestV1 {
		t.Errorf("GenericBlobDigest = %v, %v", dg, err)
	}
	// current OCM's v1 form differs (INDEX.md): cceaa573…
	cur, _ := DescriptorDigest(d, JSONNormalisationV1, crypto.SHA256)
	if cur.Value != "cceaa5732057ec335dd6c104db3d99c4d47e7635af7734ddb779912c414c6be8" {
		t.Errorf("current v1 digest %s", cur.Value)
	}
}

// Sign with acme.priv over podinfo 6.3.5 gives the digest ocm computed and,
// PKCS#1 v1.5 being deterministic, the very signature ocm wrote.
func TestSignMatchesOCM(t *testing.T) {
	priv, pub, _ := acmeKeys(t)
	d := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	if err := Sign(d, "acme", priv, SignOptions{}); err != nil {
		t.Fatal(err)
	}
	want := decodeFile(t, "descriptors/podinfo-6.3.5.signed.v2.yaml")
	if got := d.Signatures[0]; got != want.Signatures[0] {
		t.Errorf("signature\n got %+v\nwant %+v", got, want.Signatures[0])
	}
	if err := Verify(d, "acme", pub); err != nil {
		t.Errorf("Verify: %v", err)
	}
	got, _ := Encode(d, "")
	if wantBytes := stripDocStart(readFile(t, "descriptors/podinfo-6.3.5.signed.v2.yaml")); !bytes.Equal(got, wantBytes) {
		t.Errorf("signed descriptor differs from ocm's:\n%s", got)
	}
}

// app 1.0.0 references podinfo 6.3.5 without a digest: Sign needs it and
// gets it from the callback, as `ocm sign --recursive` computed it.
func TestSignReferenceDigest(t *testing.T) {
	priv, _, _ := acmeKeys(t)
	app := decodeFile(t, "descriptors/app-1.0.0.v2.yaml")
	err := Sign(app, "acme", priv, SignOptions{})
	var missing *MissingDigestError
	if !errors.As(err, &missing) || missing.Kind != "reference" || missing.Identity["name"] != "podinfo" || !errors.Is(err, ErrMissingDigest) {
		t.Fatalf("Sign without reference digest: %v", err)
	}
	if len(app.Signatures) != 0 || app.References[0].Digest != nil {
		t.Fatal("a failed Sign changed the descriptor")
	}
	podinfo := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	opts := SignOptions{ReferenceDigest: func(r Reference) (*DigestSpec, error) {
		if r.ComponentName != podinfo.Name || r.Version != podinfo.Version {
			t.Errorf("asked for %s:%s", r.ComponentName, r.Version)
		}
		dg, err := DescriptorDigest(podinfo, JSONNormalisationV3, crypto.SHA256)
		return &dg, err
	}}
	if err := Sign(app, "acme", priv, opts); err != nil {
		t.Fatal(err)
	}
	want := decodeFile(t, "descriptors/app-1.0.0.signed.v2.yaml")
	if app.Signatures[0] != want.Signatures[0] {
		t.Errorf("signature\n got %+v\nwant %+v", app.Signatures[0], want.Signatures[0])
	}
}

func TestSignResourceDigests(t *testing.T) {
	priv, pub, _ := acmeKeys(t)
	d := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	d.Resources[2].Digest = nil
	err := Sign(d, "acme", priv, SignOptions{})
	var missing *MissingDigestError
	if !errors.As(err, &missing) || missing.Kind != "resource" || missing.Index != 2 || missing.Identity["name"] != "image" {
		t.Fatalf("Sign: %v, want MissingDigestError for resource image", err)
	}
	calls := 0
	opts := SignOptions{ResourceDigest: func(r Resource) (*DigestSpec, error) {
		calls++
		dg, err := OCIArtifactDigest("sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774")
		return &dg, err
	}}
	if err := Sign(d, "acme", priv, opts); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("ResourceDigest called %d times, want 1", calls)
	}
	if d.Signatures[0].Digest.Value != "2917b26d0a0995811c633683043a225366957396e9eaf8e31749bf0c9416b1de" {
		t.Errorf("digest %s", d.Signatures[0].Digest.Value)
	}
	// Recompute finds a stored digest that differs
	opts.Recompute = true
	if err := Sign(d, "acme", priv, opts); !errors.Is(err, ErrDigestChanged) {
		t.Errorf("Recompute: %v, want ErrDigestChanged", err)
	}
	if err := Verify(d, "acme", pub); err != nil {
		t.Errorf("Verify after failed re-sign: %v", err)
	}
}

func TestSignAlgorithms(t *testing.T) {
	priv, pub, _ := acmeKeys(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	priv8, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPKIX, err := ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))
	if err != nil {
		t.Fatal(err)
	}
	cert := selfSigned(t, priv)
	pubCert, err := ParsePublicKey(cert)
	if err != nil {
		t.Fatal(err)
	}
	for _, algo := range []string{AlgorithmRSAPKCS1v15, AlgorithmRSAPSS} {
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
			for _, norm := range []string{JSONNormalisationV1, JSONNormalisationV2, JSONNormalisationV3} {
				d := decodeFile(t, "descriptors/podinfo-6.3.5.v3alpha1.yaml")
				if err := Sign(d, "s", priv8, SignOptions{Algorithm: algo, Hash: h, Normalisation: norm}); err != nil {
					t.Fatalf("%s %v %s: %v", algo, h, norm, err)
				}
				s := d.Signatures[0]
				wantMT := map[string]string{AlgorithmRSAPKCS1v15: MediaTypeRSASignature, AlgorithmRSAPSS: MediaTypeRSAPSSSignature}[algo]
				if s.Signature.Algorithm != algo || s.Signature.MediaType != wantMT || s.Digest.HashAlgorithm != h.String() || s.Digest.NormalisationAlgorithm != norm {
					t.Errorf("entry %+v", s)
				}
				for _, k := range []*rsa.PublicKey{pub, pubPKIX, pubCert} {
					if err := Verify(d, "s", k); err != nil {
						t.Errorf("%s %v %s: Verify: %v", algo, h, norm, err)
					}
				}
				// the signature survives encoding and decoding
				enc, _ := Encode(d, "")
				d2, err := Decode(enc)
				if err != nil {
					t.Fatal(err)
				}
				if err := Verify(d2, "s", pub); err != nil {
					t.Errorf("%s %v %s: Verify after round trip: %v", algo, h, norm, err)
				}
			}
		}
	}
}

// Re-signing with the same name replaces the entry; another name is added.
func TestSignReplaces(t *testing.T) {
	priv, pub, _ := acmeKeys(t)
	d := decodeFile(t, "descriptors/podinfo-6.3.5.signed.v2.yaml")
	if err := Sign(d, "acme", priv, SignOptions{Algorithm: AlgorithmRSAPSS}); err != nil {
		t.Fatal(err)
	}
	if err := Sign(d, "second", priv, SignOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(d.Signatures) != 2 || d.Signatures[0].Signature.Algorithm != AlgorithmRSAPSS || d.Signatures[1].Name != "second" {
		t.Fatalf("signatures %+v", d.Signatures)
	}
	for _, n := range []string{"acme", "second"} {
		if err := Verify(d, n, pub); err != nil {
			t.Error(err)
		}
	}
	d.Signatures[1].Signature.Value = "zz"
	if err := Verify(d, "second", pub); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("bad hex: %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	priv, _, _ := acmeKeys(t)
	d := decodeFile(t, "descriptors/podinfo-6.3.5.v2.yaml")
	if err := Sign(d, "x", priv, SignOptions{Algorithm: "sigstore"}); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("sigstore: %v", err)
	}
	if err := Sign(d, "x", priv, SignOptions{Hash: crypto.MD5}); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("md5: %v", err)
	}
	if err := Sign(d, "x", priv, SignOptions{Normalisation: "jsonNormalisation/v9"}); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("normalisation: %v", err)
	}
	if len(d.Signatures) != 0 {
		t.Error("failed Sign left a signature")
	}
	for _, bad := range []string{"", "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"} {
		if _, err := ParsePublicKey([]byte(bad)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParsePublicKey(%q): %v", bad, err)
		}
		if _, err := ParsePrivateKey([]byte(bad)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParsePrivateKey(%q): %v", bad, err)
		}
	}
}

func selfSigned(t *testing.T, priv *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "acme"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(0, 0).Add(100 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
