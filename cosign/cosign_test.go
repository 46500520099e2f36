package cosign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/internal/testimage"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

func newStore(t testing.TB) *remote.Store {
	t.Helper()
	s, err := remote.New(remote.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pushSample pushes the i-th image of testimage.Sample to repo.
func pushSample(t testing.TB, s oci.Store, repo string, i int) v1.Descriptor {
	t.Helper()
	n := testimage.Sample()[i]
	d, err := testimage.Push(t.Context(), s, repo, n.Tag, n.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustRef(t testing.TB, s string) oci.Ref {
	t.Helper()
	r, err := oci.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fakeDigest(s string) v1.Hash { return oci.Digest([]byte(s)) }

// get reads a path of the registry's API over plain HTTP, without ferry's
// stores, for the independent checks.
func get(t testing.TB, reg *registrytest.Registry, path, accept string) ([]byte, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, reg.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := reg.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s %v", path, resp.StatusCode, b, err)
	}
	return b, resp.Header.Get("Content-Type")
}

// cosignCheck re-implements cosign's key-based check (cosign verify --key
// --insecure-ignore-tlog) step by step, with plain HTTP and the standard
// library only, so that the format Sign writes is pinned independently of
// this package: the manifest at the .sig tag, each layer, the base64
// annotation, the payload hashed and checked with the key as sigstore's
// LoadVerifier(key, SHA256) does, and the payload decoded with cosign's
// field names. It also checks the config as go-containerregistry's
// mutate.Append leaves it. It returns how many layers verify with pub, and
// fails on anything cosign would not read.
func cosignCheck(t testing.TB, reg *registrytest.Registry, path string, image v1.Hash, pub crypto.PublicKey) int {
	t.Helper()
	tag := image.Algorithm + "-" + image.Hex + ".sig"
	raw, ct := get(t, reg, "/v2/"+path+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json")
	if ct != "application/vnd.oci.image.manifest.v1+json" {
		t.Fatalf("signature manifest served as %q", ct)
	}
	var m struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType   string            `json:"mediaType"`
			Size        int64             `json:"size"`
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" ||
		m.Config.MediaType != "application/vnd.oci.image.config.v1+json" || len(m.Layers) == 0 {
		t.Fatalf("signature manifest %s", raw)
	}
	cfgRaw, _ := get(t, reg, "/v2/"+path+"/blobs/"+m.Config.Digest, "")
	var cfg struct {
		Architecture *string `json:"architecture"`
		OS           *string `json:"os"`
		Created      string  `json:"created"`
		RootFS       struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []map[string]any `json:"history"`
		Config  map[string]any   `json:"config"`
	}
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture == nil || cfg.OS == nil || cfg.Config == nil || cfg.RootFS.Type != "layers" ||
		len(cfg.RootFS.DiffIDs) != len(m.Layers) || len(cfg.History) != len(m.Layers) {
		t.Fatalf("signature config %s", cfgRaw)
	}
	if _, err := time.Parse(time.RFC3339, cfg.Created); err != nil {
		t.Fatalf("config created %q: %v", cfg.Created, err)
	}

	verified := 0
	for i, l := range m.Layers {
		if l.MediaType != "application/vnd.dev.cosign.simplesigning.v1+json" || cfg.RootFS.DiffIDs[i] != l.Digest {
			t.Fatalf("layer %d: %+v (diff ID %s)", i, l, cfg.RootFS.DiffIDs[i])
		}
		payload, _ := get(t, reg, "/v2/"+path+"/blobs/"+l.Digest, "")
		sum := sha256.Sum256(payload)
		if "sha256:"+hex.EncodeToString(sum[:]) != l.Digest || int64(len(payload)) != l.Size {
			t.Fatalf("layer %d: payload is not its digest", i)
		}
		sig, err := base64.StdEncoding.DecodeString(l.Annotations["dev.cosignproject.cosign/signature"])
		if err != nil || len(sig) == 0 {
			t.Fatalf("layer %d: signature annotation: %v", i, err)
		}
		var ok bool
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			ok = ecdsa.VerifyASN1(k, sum[:], sig)
		case *rsa.PublicKey:
			ok = rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
		case ed25519.PublicKey:
			ok = ed25519.Verify(k, payload, sig)
		default:
			t.Fatalf("key %T", pub)
		}
		if !ok {
			continue
		}
		var p struct {
			Critical struct {
				Identity struct {
					DockerReference string `json:"docker-reference"`
				} `json:"identity"`
				Image struct {
					DockerManifestDigest string `json:"docker-manifest-digest"`
				} `json:"image"`
				Type string `json:"type"`
			} `json:"critical"`
			Optional map[string]any `json:"optional"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Critical.Image.DockerManifestDigest != image.String() || p.Critical.Type != "cosign container image signature" ||
			p.Critical.Identity.DockerReference != reg.Host+"/"+path || !bytes.Contains(payload, []byte(`"optional":null`)) {
			t.Fatalf("layer %d payload %s", i, payload)
		}
		verified++
	}
	return verified
}

func TestSignVerify(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ks := keys(t)
	for _, name := range []string{"p256", "p384", "p521", "rsa", "ed25519"} {
		t.Run(name, func(t *testing.T) {
			path := "sign/" + name
			repo := reg.Host + "/" + path
			img := pushSample(t, s, repo, 0)
			signed, err := Sign(t.Context(), s, repo, img, ks[name])
			if err != nil {
				t.Fatal(err)
			}
			if signed.Tag != SignatureTag(img.Digest) || signed.DockerReference != repo {
				t.Errorf("Sign = %+v", signed)
			}
			at, err := s.Resolve(t.Context(), mustRef(t, repo+":"+signed.Tag))
			if err != nil || at.Digest != signed.Digest {
				t.Fatalf("signature tag holds %v (%v), Sign said %s", at.Digest, err, signed.Digest)
			}
			got, err := Verify(t.Context(), s, repo, img, ks[name].Public())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Digest != signed.Digest || got[0].Signature != signed.Signature ||
				got[0].KeyID != signed.KeyID || !bytes.Equal(got[0].Payload, signed.Payload) || got[0].Layer != signed.Layer {
				t.Errorf("Verify = %+v\nSign = %+v", got, signed)
			}
			if n := cosignCheck(t, reg, path, img.Digest, ks[name].Public()); n != 1 {
				t.Errorf("cosign's check verified %d layers, want 1", n)
			}
		})
	}
}

// layerSpec is one signature layer written by hand.
type layerSpec struct {
	payload []byte
	ann     map[string]string
	size    int64 // the size the descriptor claims; len(payload) when 0
}

// pushSignatures writes a signature image for image in repo by hand, as
// cosign lays it out, and tags it; it returns the manifest's descriptor.
func pushSignatures(t testing.TB, s oci.Store, repo string, image v1.Hash, layers ...layerSpec) v1.Descriptor {
	t.Helper()
	ctx := t.Context()
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	var diffIDs []string
	for _, l := range layers {
		d := oci.DescriptorOf(MediaTypeSimpleSigning, l.payload)
		if err := oci.PushBytes(ctx, s, repo, d, l.payload); err != nil {
			t.Fatal(err)
		}
		if l.size != 0 {
			d.Size = l.size
		}
		d.Annotations = l.ann
		m.Layers = append(m.Layers, d)
		diffIDs = append(diffIDs, d.Digest.String())
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "", "os": "", "config": map[string]any{},
		"created": "2024-01-01T00:00:00Z", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	m.Config = oci.DescriptorOf(types.OCIConfigJSON, cfg)
	if err := oci.PushBytes(ctx, s, repo, m.Config, cfg); err != nil {
		t.Fatal(err)
	}
	mb, _ := json.Marshal(m)
	md := oci.DescriptorOf(types.OCIManifestSchema1, mb)
	if err := s.Push(ctx, repo, md, bytes.NewReader(mb)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, mustRef(t, repo+":"+SignatureTag(image)), md); err != nil {
		t.Fatal(err)
	}
	return md
}

func sigAnn(sig []byte) map[string]string {
	return map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}
}

func TestVerifyRefuses(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	ks := keys(t)
	key := ks["p256"]
	repo := reg.Host + "/refuse/app"
	a := pushSample(t, s, repo, 0)
	b := pushSample(t, s, repo, 2)
	signedA, err := Sign(ctx, s, repo, a, key)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("other key", func(t *testing.T) {
		_, err := Verify(ctx, s, repo, a, ks["p256b"].Public(), ks["ed25519"].Public())
		if !errors.Is(err, ErrBadSignature) || errors.Is(err, ErrUnsigned) {
			t.Fatalf("Verify with other keys: %v", err)
		}
		if !strings.Contains(err.Error(), repo+"@"+a.Digest.String()) {
			t.Errorf("error does not name the image: %v", err)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		_, err := Verify(ctx, s, repo, b, key.Public())
		if !errors.Is(err, ErrUnsigned) || errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify of an unsigned image: %v", err)
		}
		if !strings.Contains(err.Error(), repo+"@"+b.Digest.String()) || !strings.Contains(err.Error(), "cosign sign --key") {
			t.Errorf("error does not name the image or say what to do: %v", err)
		}
	})
	t.Run("payload for another digest", func(t *testing.T) {
		// A's good signature, placed at B's signature tag.
		d, err := s.Resolve(ctx, mustRef(t, repo+":"+signedA.Tag))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Tag(ctx, mustRef(t, repo+":"+SignatureTag(b.Digest)), d); err != nil {
			t.Fatal(err)
		}
		_, err = Verify(ctx, s, repo, b, key.Public())
		if !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "not this image") {
			t.Fatalf("Verify of B with A's signature: %v", err)
		}
	})

	// Hand-made signature images for images that need not exist: Verify
	// reads only the signatures.
	good, err := newPayload(repo, fakeDigest("c"))
	if err != nil {
		t.Fatal(err)
	}
	goodSig, err := signPayload(key, good)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(good, []byte("refuse/app"), []byte("refuse/ap2"), 1)
	for _, c := range []struct {
		name  string
		layer layerSpec
		why   string
	}{
		{"tampered payload", layerSpec{payload: tampered, ann: sigAnn(goodSig)}, "does not verify"},
		{"no annotation", layerSpec{payload: good}, "no dev.cosignproject.cosign/signature annotation"},
		{"bad base64", layerSpec{payload: good, ann: map[string]string{AnnotationSignature: "not base64!"}}, "decoding signature"},
		{"truncated signature", layerSpec{payload: good, ann: sigAnn(goodSig[:len(goodSig)-2])}, "does not verify"},
		{"oversized payload", layerSpec{payload: good, ann: sigAnn(goodSig), size: MaxPayloadBytes + 1}, "exceeds"},
		{"wrong size", layerSpec{payload: good, ann: sigAnn(goodSig), size: int64(len(good)) - 1}, "reading payload"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: fakeDigest("c")}
			pushSignatures(t, s, repo, img.Digest, c.layer)
			_, err := Verify(ctx, s, repo, img, key.Public())
			if !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("Verify: %v, want ErrBadSignature saying %q", err, c.why)
			}
			// The same image with the good layer added verifies: one bad
			// signature does not spoil the others.
			pushSignatures(t, s, repo, img.Digest, c.layer, layerSpec{payload: good, ann: sigAnn(goodSig)})
			if got, err := Verify(ctx, s, repo, img, key.Public()); err != nil || len(got) != 1 {
				t.Fatalf("Verify with a good layer beside: %v, %v", got, err)
			}
		})
	}

	t.Run("arguments", func(t *testing.T) {
		if _, err := Verify(ctx, s, repo, a); err == nil {
			t.Error("Verify without keys passed")
		}
		if _, err := Verify(ctx, s, repo, v1.Descriptor{}, key.Public()); err == nil {
			t.Error("Verify without a digest passed")
		}
		if _, err := Verify(ctx, s, repo, a, "not a key"); err == nil {
			t.Error("Verify with a string for a key passed")
		}
	})
}

func TestTwoKeysAndAppend(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	ks := keys(t)
	path := "append/app"
	repo := reg.Host + "/" + path
	img := pushSample(t, s, repo, 0)

	first, err := Sign(ctx, s, repo, img, ks["p256b"])
	if err != nil {
		t.Fatal(err)
	}
	// Signing again with the same key finds its signature (cosign's
	// duplicate detection, even though ECDSA signatures differ each time)
	// and writes nothing.
	reg.ResetRequests()
	again, err := Sign(ctx, s, repo, img, ks["p256b"])
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != first.Digest || again.Signature != first.Signature {
		t.Errorf("signing twice with one key: %+v, then %+v", first, again)
	}
	for _, r := range reg.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			t.Errorf("signing a signed image again sent %s %s", r.Method, r.Path)
		}
	}

	reg.ResetRequests()
	second, err := Sign(ctx, s, repo, img, ks["p256"])
	if err != nil {
		t.Fatal(err)
	}
	if second.Digest == first.Digest {
		t.Fatal("a second key did not change the signature manifest")
	}
	// Blobs before the manifest, the manifest (by digest) before the tag.
	var order []string
	for _, r := range reg.Requests() {
		switch {
		case r.Method == http.MethodPut && strings.Contains(r.Path, "/blobs/uploads/"):
			order = append(order, "blob")
		case r.Method == http.MethodPut && strings.HasSuffix(r.Path, "/manifests/"+second.Digest.String()):
			order = append(order, "manifest")
		case r.Method == http.MethodPut && strings.HasSuffix(r.Path, "/manifests/"+second.Tag):
			order = append(order, "tag")
		}
	}
	if i := slices.Index(order, "manifest"); i < 1 || order[len(order)-1] != "tag" || slices.Contains(order[i+1:], "blob") {
		t.Errorf("write order %v, want blobs, manifest, tag", order)
	}

	// Both layers are there, the first kept as it was.
	b, err := oci.FetchBytes(ctx, s, repo, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: second.Digest, Size: -1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 2 || m.Layers[0].Annotations[AnnotationSignature] != first.Signature ||
		m.Layers[1].Annotations[AnnotationSignature] != second.Signature || m.Layers[0].Digest != m.Layers[1].Digest {
		t.Fatalf("manifest after two signers: %s", b)
	}
	if n := cosignCheck(t, reg, path, img.Digest, ks["p256"].Public()); n != 1 {
		t.Errorf("cosign's check: %d layers verify with the second key", n)
	}
	if n := cosignCheck(t, reg, path, img.Digest, ks["p256b"].Public()); n != 1 {
		t.Errorf("cosign's check: %d layers verify with the first key", n)
	}

	got, err := Verify(ctx, s, repo, img, ks["p256"].Public())
	if err != nil || len(got) != 1 || got[0].KeyID != second.KeyID || got[0].Signature != second.Signature {
		t.Errorf("Verify with the second key = %+v, %v", got, err)
	}
	got, err = Verify(ctx, s, repo, img, ks["p256"].Public(), ks["p256b"].Public())
	if err != nil || len(got) != 2 || got[0].KeyID != first.KeyID || got[1].KeyID != second.KeyID {
		t.Errorf("Verify with both keys = %+v, %v", got, err)
	}
	if _, err := Verify(ctx, s, repo, img, ks["rsa"].Public()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with a third key: %v", err)
	}

	// Ed25519 signatures are deterministic: signing twice is found as well.
	third, err := Sign(ctx, s, repo, img, ks["ed25519"])
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Sign(ctx, s, repo, img, ks["ed25519"]); err != nil || again.Digest != third.Digest {
		t.Errorf("Ed25519 twice: %v, %v", again.Digest, err)
	}
	if n := cosignCheck(t, reg, path, img.Digest, ks["ed25519"].Public()); n != 1 {
		t.Errorf("cosign's check: %d layers verify with the Ed25519 key", n)
	}
}

// TestRealCosignSignature verifies, through a registry, signatures that
// cosign itself made (see realSignatures), laid out as cosign lays them out
// when two keys sign one image, then adds one of ferry's.
func TestRealCosignSignature(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	repo := reg.Host + "/registry-testing/busybox"
	dg, _ := v1.NewHash(testDigest)
	img := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: dg}
	var pubs []crypto.PublicKey
	var layers []layerSpec
	for _, v := range realSignatures {
		pub, err := LoadPublicKey([]byte(v.pub))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, pub)
		layers = append(layers, layerSpec{payload: []byte(realPayload), ann: map[string]string{AnnotationSignature: v.sig}})
	}
	pushSignatures(t, s, repo, img.Digest, layers...)

	for i, pub := range pubs {
		got, err := Verify(ctx, s, repo, img, pub)
		if err != nil || len(got) != 1 || got[0].Signature != realSignatures[i].sig ||
			got[0].DockerReference != "registry-testing.svc.lan/busybox" || string(got[0].Payload) != realPayload {
			t.Fatalf("Verify with real key %d = %+v, %v", i, got, err)
		}
	}
	if _, err := Verify(ctx, s, repo, img, keys(t)["p256"].Public()); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify with a key of ours: %v", err)
	}

	ours, err := Sign(ctx, s, repo, img, keys(t)["p256"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(ctx, s, repo, img, append(pubs, keys(t)["p256"].Public())...)
	if err != nil || len(got) != 3 || got[2].Signature != ours.Signature || got[0].Signature != realSignatures[0].sig {
		t.Fatalf("Verify after appending ours = %+v, %v", got, err)
	}
}

// TestReferrer finds a signature kept as an OCI 1.1 referrer, as cosign's
// experimental mode writes it (WriteSignaturesExperimentalOCI: the
// signature image with its config media type set to the artifact type, the
// top-level artifactType, and the image as subject), listed under the
// referrers tag since distribution has no referrers API.
func TestReferrer(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	ctx := t.Context()
	key := keys(t)["p256"]
	repo := reg.Host + "/referrer/app"
	img := pushSample(t, s, repo, 0)

	payload, err := newPayload(repo, img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signPayload(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	ld := oci.DescriptorOf(MediaTypeSimpleSigning, payload)
	cfg := []byte(`{"architecture":"","created":"2024-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":["` + ld.Digest.String() + `"]},"config":{}}`)
	cd := oci.DescriptorOf(ArtifactTypeSignature, cfg)
	for _, c := range []struct {
		d v1.Descriptor
		b []byte
	}{{ld, payload}, {cd, cfg}} {
		if err := oci.PushBytes(ctx, s, repo, c.d, c.b); err != nil {
			t.Fatal(err)
		}
	}
	ld.Annotations = sigAnn(sig)
	subject := img
	mb, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: ArtifactTypeSignature,
		Config: cd, Layers: []v1.Descriptor{ld}, Subject: &subject})
	md := oci.DescriptorOf(types.OCIManifestSchema1, mb)
	if err := s.Push(ctx, repo, md, bytes.NewReader(mb)); err != nil {
		t.Fatal(err)
	}
	listed := md
	listed.ArtifactType = ArtifactTypeSignature
	ib, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{listed}})
	id := oci.DescriptorOf(types.OCIImageIndex, ib)
	if err := s.Push(ctx, repo, id, bytes.NewReader(ib)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, mustRef(t, repo+":"+remote.ReferrersTag(img.Digest)), id); err != nil {
		t.Fatal(err)
	}

	got, err := Verify(ctx, s, repo, img, key.Public())
	if err != nil || len(got) != 1 || got[0].Digest != md.Digest || got[0].Tag != "" {
		t.Fatalf("Verify of a referrer signature = %+v, %v", got, err)
	}
	// A reader without the referrers API (a CTF, a bundle) finds it by
	// the tag schema.
	if got, err := Verify(ctx, readerOnly{s}, repo, img, key.Public()); err != nil || len(got) != 1 || got[0].Digest != md.Digest {
		t.Errorf("Verify through a plain oci.Reader: %+v, %v", got, err)
	}
	// The signature tag failing to resolve does not hide the referrer.
	broken := failingResolve{s, fmt.Errorf("resolve: %w", oci.ErrUnauthorized)}
	if got, err := Verify(ctx, broken, repo, img, key.Public()); err != nil || len(got) != 1 {
		t.Errorf("Verify with the tag unreadable = %v, %v", got, err)
	}
}

type readerOnly struct{ oci.Reader }

type failingResolve struct {
	*remote.Store
	err error
}

func (f failingResolve) Resolve(context.Context, oci.Ref) (v1.Descriptor, error) {
	return v1.Descriptor{}, f.err
}

// failingPayload refuses to hand out signature payloads.
type failingPayload struct{ *remote.Store }

func (f failingPayload) Fetch(ctx context.Context, repo string, d v1.Descriptor) (io.ReadCloser, error) {
	if d.MediaType == MediaTypeSimpleSigning {
		return nil, &oci.Error{Op: "fetch", Ref: repo, Digest: d.Digest, Status: http.StatusForbidden, Err: oci.ErrDenied}
	}
	return f.Store.Fetch(ctx, repo, d)
}

func TestVerifyStoreErrors(t *testing.T) {
	reg := registrytest.New(t)
	s := newStore(t)
	repo := reg.Host + "/errors/app"
	img := pushSample(t, s, repo, 0)
	// Not being able to read the signature is not "unsigned".
	broken := readerOnly{failingResolve{s, fmt.Errorf("resolve: %w", oci.ErrUnauthorized)}}
	_, err := Verify(t.Context(), broken, repo, img, keys(t)["p256"].Public())
	if !errors.Is(err, oci.ErrUnauthorized) || errors.Is(err, ErrUnsigned) || errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with the registry refusing: %v", err)
	}
	// Nor is a payload that cannot be read a bad signature.
	signed := pushSample(t, s, repo, 2)
	if _, err := Sign(t.Context(), s, repo, signed, keys(t)["p256"]); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(t.Context(), failingPayload{s}, repo, signed, keys(t)["p256"].Public())
	if !errors.Is(err, oci.ErrDenied) || errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with the payload unreadable: %v", err)
	}
	// The signature tag naming an index is not a signature image.
	if err := s.Tag(t.Context(), mustRef(t, repo+":"+SignatureTag(img.Digest)), pushSample(t, s, repo, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(t.Context(), s, repo, img, keys(t)["p256"].Public()); !errors.Is(err, oci.ErrUnsupported) {
		t.Errorf("Verify with an index at the signature tag: %v", err)
	}
	if _, err := Sign(t.Context(), s, repo, img, keys(t)["p256"]); !errors.Is(err, oci.ErrUnsupported) {
		t.Errorf("Sign with an index at the signature tag: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Sign(ctx, s, repo, pushSample(t, s, repo, 0), keys(t)["p256b"]); !errors.Is(err, context.Canceled) {
		t.Errorf("Sign with a cancelled context: %v", err)
	}
	if _, err := Sign(t.Context(), s, repo, v1.Descriptor{}, keys(t)["p256"]); err == nil {
		t.Error("Sign without a digest passed")
	}
	if _, err := Sign(t.Context(), s, repo, img, nil); err == nil {
		t.Error("Sign without a key passed")
	}
}
