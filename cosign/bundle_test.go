package cosign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/gitops"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
)

// The image cosign 3.1.3 signed for testdata/cosign3-*: the GitOps artifact
// ferry makes of one ConfigMap (deterministic, so rebuilt here), signed
// with `cosign sign --key cosign3.key --signing-config (no tlog)`, which
// pushed the referrer testdata/cosign3-referrer.json with the bundle
// testdata/cosign3-bundle.json into a registry without the referrers API
// (so under the tag sha256-<hex> as an index).
const cosign3Image = "sha256:28d0678daf56df70222de1cf9bbc5f00ef1fe5364334c72671ecc051077a62f1"

func cosign3Files(t *testing.T) (pub any, referrer, bundle []byte) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pub, err := LoadPublicKey(read("cosign3.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return pub, read("cosign3-referrer.json"), read("cosign3-bundle.json")
}

// TestCosign3Bundle: the signature cosign 3 made verifies with its key and
// with no other, for its image and no other.
func TestCosign3Bundle(t *testing.T) {
	pub, _, b := cosign3Files(t)
	img, _ := v1.NewHash(cosign3Image)
	verify := func(key any) func(msg, sig []byte) (int, bool) {
		return func(msg, sig []byte) (int, bool) { return 0, verifySignature(key, msg, sig) }
	}
	payload, _, _, err := verifyBundle(b, img, verify(pub))
	if err != nil {
		t.Fatalf("cosign 3's signature: %v", err)
	}
	if !bytes.Contains(payload, []byte(PredicateTypeSign)) {
		t.Errorf("payload %s", payload)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, _, _, err := verifyBundle(b, img, verify(&other.PublicKey)); err == nil {
		t.Error("another key verified cosign 3's signature")
	}
	if _, _, _, err := verifyBundle(b, oci.Digest([]byte("another image")), verify(pub)); err == nil {
		t.Error("the signature verified for another image")
	}
}

// TestCosign3BundleInRegistry: Verify finds cosign 3's signature where
// cosign put it (the referrers tag schema of a registry without the
// referrers API), for the same image rebuilt by gitops.
func TestCosign3BundleInRegistry(t *testing.T) {
	ctx := t.Context()
	pub, referrer, bundle := cosign3Files(t)
	reg := registrytest.New(t)
	s := newStore(t)
	repo := reg.Host + "/v3test/x"
	a, err := gitops.Build(fstest.MapFS{"cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")}}, gitops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := gitops.Push(ctx, s, mustRef(t, repo+":1"), a)
	if err != nil || img.Digest.String() != cosign3Image {
		t.Fatalf("rebuilt image %v (%v), want %s", img.Digest, err, cosign3Image)
	}
	if _, err := Verify(ctx, s, repo, img, pub); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("before the signature is pushed: %v, want ErrUnsigned", err)
	}
	push := func(mt types.MediaType, b []byte) v1.Descriptor {
		d := v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: oci.Digest(b)}
		if err := oci.PushBytes(ctx, s, repo, d, b); err != nil {
			t.Fatal(err)
		}
		return d
	}
	push(ArtifactTypeBundle, bundle)
	push("application/vnd.oci.empty.v1+json", []byte("{}"))
	rd := push(types.OCIManifestSchema1, referrer)
	rd.ArtifactType = ArtifactTypeBundle
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{rd}})
	id := push(types.OCIImageIndex, idx)
	h, _ := v1.NewHash(cosign3Image)
	if err := s.Tag(ctx, mustRef(t, repo+":"+h.Algorithm+"-"+h.Hex), id); err != nil {
		t.Fatal(err)
	}
	sigs, err := Verify(ctx, s, repo, img, pub)
	if err != nil || len(sigs) != 1 || sigs[0].Digest != rd.Digest || sigs[0].Layer != oci.Digest(bundle) {
		t.Fatalf("cosign 3's signature in the registry: %v, %+v", err, sigs)
	}
	// A store without the referrers API (a CTF, a bundle) is read by the
	// tag schema alone.
	if sigs, err := Verify(ctx, readerOnly{s}, repo, img, pub); err != nil || len(sigs) != 1 {
		t.Errorf("through a store without referrers: %v, %+v", err, sigs)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := Verify(ctx, s, repo, img, &other.PublicKey); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key: %v, want ErrBadSignature", err)
	}
}
