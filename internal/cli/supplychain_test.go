package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/cosign"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// writeKeys writes the PEM private and public halves of key into dir and
// returns their paths.
func writeKeys(t *testing.T, dir, name string, key any, pub any) (string, string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	priv, pubFile := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
	return priv, pubFile
}

// TestSupplyChainBundle is the inner side's question, "is this what the
// release owner published?", answered on both sides of the gap: the owner
// signs the component version (OCM, RSA) and the images (cosign, ECDSA);
// bundle create refuses to carry anything unproven and records a bill of
// materials; the signatures travel in the bundle, so import checks them
// again with the same keys, offline.
func TestSupplyChainBundle(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ocmKey, ocmPub := writeKeys(t, dir, "release", rsaKey, &rsaKey.PublicKey)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, cosignPub := writeKeys(t, dir, "cosign", ecKey, &ecKey.PublicKey)

	p635, p636 := podinfoSample(t)
	reg, repo := seedRelease(t, testimage.Set{p635, p636},
		testRelease{name: "example.com/podinfo", version: "6.3.5", images: []testimage.Named{p635}, text: "signed"},
		testRelease{name: "example.com/podinfo", version: "6.3.6", images: []testimage.Named{p636}, text: "images unsigned"})
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Resolve(ctx, oci.Ref{Registry: reg.Host, Repository: p635.Name, Tag: p635.Tag})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cosign.Sign(ctx, s, reg.Host+"/"+p635.Name, img, ecKey); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"6.3.5", "6.3.6"} {
		mustRun(t, "component", "sign", repo+"//example.com/podinfo:"+v, "--signature", "release", "--private-key", ocmKey)
	}
	gates := []string{"--verify-signature", "release", "--public-key", ocmPub, "--verify-images-key", cosignPub}

	// 6.3.6's image is not signed: refused, named, and no bundle is left.
	refused := filepath.Join(dir, "refused.tar")
	code, _, stderr := run(t, append([]string{"bundle", "create", repo + "//example.com/podinfo:6.3.6", "-o", refused}, gates...)...)
	if code != 1 || !strings.Contains(stderr, p636.Name) || !strings.Contains(stderr, "hint:") {
		t.Errorf("an unsigned image: exit %d, want 1 naming %s with a hint\n%s", code, p636.Name, stderr)
	}
	if m, _ := filepath.Glob(refused + "*"); len(m) != 0 {
		t.Errorf("a refused create left %v", m)
	}

	file := filepath.Join(dir, "podinfo.tar")
	mustRun(t, append([]string{"bundle", "create", repo + "//example.com/podinfo:6.3.5", "-o", file}, gates...)...)
	var in struct {
		BOM struct {
			Components []struct {
				Name, Version, VerifiedBy string
				Signatures                []struct {
					Kind, Name string
					Verified   bool
				}
				Resources []struct {
					Name    string
					Checked bool
				}
			}
			Images []struct {
				Target, Digest string
				Signatures     []struct {
					Kind     string
					Verified bool
					Key      string
				}
			}
		}
	}
	out := mustRun(t, "bundle", "inspect", file, "-o", "json")
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b := in.BOM
	if len(b.Components) != 1 || b.Components[0].VerifiedBy != "signature" || len(b.Components[0].Signatures) != 1 || !b.Components[0].Signatures[0].Verified {
		t.Errorf("the bill of materials does not show the verified version: %+v", b.Components)
	}
	for _, r := range b.Components[0].Resources {
		if !r.Checked {
			t.Errorf("resource %s: not checked against its digest", r.Name)
		}
	}
	if len(b.Images) != 1 || b.Images[0].Digest != img.Digest.String() || len(b.Images[0].Signatures) != 1 ||
		!b.Images[0].Signatures[0].Verified || b.Images[0].Signatures[0].Kind != "cosign" {
		t.Errorf("the bill of materials does not show the verified image: %+v", b.Images)
	}
	table := mustRun(t, "bundle", "inspect", file)
	if !strings.Contains(table, "verified with key sha256:") {
		t.Errorf("inspect does not show the verification:\n%s", table)
	}

	// Inside: the same gates, offline, against the signatures in the bundle.
	inside := registrytest.New(t)
	mustRun(t, append([]string{"bundle", "import", file, inside.Host + "/air"}, gates...)...)
	// What landed verifies with cosign's rules at its new place.
	moved, err := s.Resolve(ctx, oci.Ref{Registry: inside.Host, Repository: "air/" + p635.Name, Tag: p635.Tag})
	if err != nil || moved.Digest != img.Digest {
		t.Fatalf("the image landed as %v (%v), want %s", moved.Digest, err, img.Digest)
	}
	if _, err := cosign.Verify(ctx, s, inside.Host+"/air/"+p635.Name, moved, &ecKey.PublicKey); err != nil {
		t.Errorf("the imported image's signature: %v", err)
	}
}

// TestArtifactPushSignKey: --sign-key attaches a cosign signature to the
// pushed GitOps artifact (under sha256-<hex>.sig, where cosign and Flux look)
// that verifies with the public key; localize refuses --sign-key without
// --push.
func TestArtifactPushSignKey(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, pub := writeKeys(t, dir, "cosign", ecKey, &ecKey.PublicKey)
	manifests := filepath.Join(dir, "manifests")
	os.MkdirAll(manifests, 0o755)
	os.WriteFile(filepath.Join(manifests, "deployment.yaml"), []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n"), 0o644)

	reg := registrytest.New(t)
	out := mustRun(t, "artifact", "push", manifests, "oci://"+reg.Host+"/deploy/app:1.0", "--sign-key", key, "-o", "json")
	var p struct {
		Digest    string
		Signature struct{ Reference, Key string }
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	hex := strings.TrimPrefix(p.Digest, "sha256:")
	if !strings.HasPrefix(p.Signature.Reference, reg.Host+"/deploy/app:sha256-"+hex+".sig@sha256:") {
		t.Errorf("signature at %q, want the tag sha256-%s.sig", p.Signature.Reference, hex)
	}
	s, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Resolve(ctx, oci.Ref{Registry: reg.Host, Repository: "deploy/app", Tag: "1.0"})
	if err != nil || d.Digest.String() != p.Digest {
		t.Fatalf("the artifact is %v (%v), push said %s", d.Digest, err, p.Digest)
	}
	sigs, err := cosign.Verify(ctx, s, reg.Host+"/deploy/app", d, &ecKey.PublicKey)
	if err != nil || len(sigs) != 1 || sigs[0].KeyID != p.Signature.Key {
		t.Fatalf("verifying the pushed artifact: %v, %+v", err, sigs)
	}

	// artifact copy checks it too, and the signature travels with it.
	mustRun(t, "artifact", "copy", reg.Host+"/deploy/app:1.0", reg.Host+"/copy/app:1.0", "--verify-images-key", pub)
	if _, err := cosign.Verify(ctx, s, reg.Host+"/copy/app", d, &ecKey.PublicKey); err != nil {
		t.Errorf("the copy's signature: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, otherPub := writeKeys(t, dir, "other", other, &other.PublicKey)
	if code, _, stderr := run(t, "artifact", "copy", reg.Host+"/deploy/app:1.0", reg.Host+"/refused/app:1.0", "--verify-images-key", otherPub); code != 1 || !strings.Contains(stderr, "hint:") {
		t.Errorf("artifact copy with another key: exit %d, want 1 with a hint\n%s", code, stderr)
	}

	if code, _, stderr := run(t, "localize", reg.Host+"/x//example.com/a:1", "--resource", "m", "-O", dir, "--sign-key", key); code != 2 {
		t.Errorf("localize --sign-key without --push: exit %d, want 2\n%s", code, stderr)
	}
}
