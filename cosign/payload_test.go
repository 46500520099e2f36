package cosign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const testDigest = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"

// realPayload is the payload `cosign sign --key` wrote for
// registry-testing.svc.lan/busybox@testDigest, and realSignatures are two
// signatures cosign made over it with two keys, as published in the tests
// of kubewarden's policy-evaluator ("obtained by looking at the signature
// produced by `cosign sign`") and of sigstore/sigstore-rs
// (src/cosign/signature_layers.rs).
const realPayload = `{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}`

var realSignatures = []struct{ pub, sig string }{
	{`-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELKhD7F5OKy77Z582Y6h0u1J3GNA+
kvUsh4eKpd1lwkDAzfFDs7yXEExsEkPPuiQJBelDT68n7PDIWB/QEY7mrA==
-----END PUBLIC KEY-----
`, "MEYCIQDWWxPQa3XFUsPbyTY+n+bZu/6Pwhg5WwyYDQtEfQho9wIhAPkKW7eub8b7BX+YbbRac8TwwIrK5KxvdtQ6NuoD+ivW"},
	{`-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----
`, "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8="},
}

func TestPayloadGolden(t *testing.T) {
	// The same bytes cosign wrote, so the field order, "optional":null and
	// the absence of whitespace are cosign's.
	got, err := newPayload("registry-testing.svc.lan/busybox", v1.Hash{Algorithm: "sha256", Hex: strings.TrimPrefix(testDigest, "sha256:")})
	if err != nil || string(got) != realPayload {
		t.Fatalf("newPayload =\n%s, %v\nwant\n%s", got, err, realPayload)
	}
}

func TestDockerReference(t *testing.T) {
	for repo, want := range map[string]string{
		"ghcr.io/stefanprodan/podinfo":  "ghcr.io/stefanprodan/podinfo",
		"127.0.0.1:5000/air/podinfo":    "127.0.0.1:5000/air/podinfo",
		"docker.io/busybox":             "index.docker.io/library/busybox",
		"docker.io/library/busybox":     "index.docker.io/library/busybox",
		"index.docker.io/fluxcd/flux":   "index.docker.io/fluxcd/flux",
		"localhost:5000/a":              "localhost:5000/a",
		"stefanprodan/podinfo":          "stefanprodan/podinfo", // inside a CTF
		"lab.example:443/deep/path/app": "lab.example:443/deep/path/app",
	} {
		if got, err := dockerReference(repo); err != nil || got != want {
			t.Errorf("dockerReference(%q) = %q, %v; want %q", repo, got, err, want)
		}
	}
	for _, bad := range []string{"", "ghcr.io/a/b:1.0", "ghcr.io/a/b@" + testDigest, "Upper/Case"} {
		if got, err := dockerReference(bad); err == nil {
			t.Errorf("dockerReference(%q) = %q, want an error", bad, got)
		}
	}
}

func TestSignatureTag(t *testing.T) {
	h, _ := v1.NewHash(testDigest)
	if got := SignatureTag(h); got != "sha256-f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b.sig" {
		t.Errorf("SignatureTag = %q", got)
	}
}

func TestCheckClaims(t *testing.T) {
	h, _ := v1.NewHash(testDigest)
	if ref, err := checkClaims([]byte(realPayload), h); err != nil || ref != "registry-testing.svc.lan/busybox" {
		t.Errorf("real payload: %q, %v", ref, err)
	}
	other, _ := v1.NewHash("sha256:" + strings.Repeat("0", 64))
	if _, err := checkClaims([]byte(realPayload), other); err == nil {
		t.Error("a payload for another digest passed")
	}
	for name, p := range map[string]string{
		"type":     strings.Replace(realPayload, "cosign container image signature", "atomic container signature", 1),
		"no type":  strings.Replace(realPayload, `,"type":"cosign container image signature"`, "", 1),
		"no image": strings.Replace(realPayload, `"docker-manifest-digest"`, `"digest"`, 1),
		"not JSON": realPayload[:50],
	} {
		if _, err := checkClaims([]byte(p), h); err == nil {
			t.Errorf("%s: passed", name)
		}
	}
	// Annotations in optional, and another docker-reference (the image was
	// copied), are accepted as cosign accepts them.
	moved := strings.Replace(realPayload, `"optional":null`, `"optional":{"sig":"original"}`, 1)
	moved = strings.Replace(moved, "registry-testing.svc.lan/busybox", "lab.local:5000/air/busybox", 1)
	if ref, err := checkClaims([]byte(moved), h); err != nil || ref != "lab.local:5000/air/busybox" {
		t.Errorf("copied image: %q, %v", ref, err)
	}
}

// TestRealSignatures checks verifySignature against signatures cosign made.
func TestRealSignatures(t *testing.T) {
	for i, v := range realSignatures {
		pub, err := LoadPublicKey([]byte(v.pub))
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := base64.StdEncoding.DecodeString(v.sig)
		if !verifySignature(pub, []byte(realPayload), sig) {
			t.Errorf("real signature %d does not verify", i)
		}
		if verifySignature(pub, []byte(strings.Replace(realPayload, "busybox", "busyb0x", 1)), sig) {
			t.Errorf("real signature %d verifies another payload", i)
		}
		other, _ := LoadPublicKey([]byte(realSignatures[1-i].pub))
		if verifySignature(other, []byte(realPayload), sig) {
			t.Errorf("real signature %d verifies with the other key", i)
		}
	}
}

// TestSchemes pins what each key type signs, and what verifySignature
// accepts besides (the schemes newer cosign releases make).
func TestSchemes(t *testing.T) {
	ks := keys(t)
	payload := []byte(realPayload)
	for name, k := range ks {
		sig, err := signPayload(k, payload)
		if err != nil {
			t.Fatal(err)
		}
		if !verifySignature(k.Public(), payload, sig) {
			t.Errorf("%s: own signature does not verify", name)
		}
		if verifySignature(k.Public(), payload[1:], sig) {
			t.Errorf("%s: signature verifies another payload", name)
		}
		switch pub := k.Public().(type) {
		case *ecdsa.PublicKey: // over SHA-256, whatever the curve
			h := sha256.Sum256(payload)
			if !ecdsa.VerifyASN1(pub, h[:], sig) {
				t.Errorf("%s: not ECDSA over SHA-256", name)
			}
		case ed25519.PublicKey: // pure Ed25519
			if !ed25519.Verify(pub, payload, sig) {
				t.Errorf("%s: not pure Ed25519", name)
			}
		}
	}
	// P-384 over SHA-384 (sigstore's default for the curve).
	p384 := ks["p384"].(*ecdsa.PrivateKey)
	h384 := sha512.Sum384(payload)
	sig, _ := ecdsa.SignASN1(rand.Reader, p384, h384[:])
	if !verifySignature(&p384.PublicKey, payload, sig) {
		t.Error("P-384 over SHA-384 refused")
	}
	// Ed25519ph, what cosign's LoadPrivateKey signs with by default
	// (options.WithED25519ph) for Ed25519 keys.
	ed := ks["ed25519"].(ed25519.PrivateKey)
	h512 := sha512.Sum512(payload)
	ph, err := ed.Sign(rand.Reader, h512[:], &ed25519.Options{Hash: crypto.SHA512})
	if err != nil {
		t.Fatal(err)
	}
	if !verifySignature(ed.Public(), payload, ph) {
		t.Error("Ed25519ph refused")
	}
	if verifySignature(ed.Public(), payload[1:], ph) {
		t.Error("Ed25519ph verifies another payload")
	}
}
