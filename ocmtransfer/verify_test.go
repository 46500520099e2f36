package ocmtransfer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/ocireg"
	"github.com/ferry-oci/ferry/ctf"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/ocmtransfer"
	"github.com/ferry-oci/ferry/transfer"
)

// gate returns the signature check "acme" with the fixture key file name.
func gate(t *testing.T, keyFile string) []ocmtransfer.SignatureCheck {
	t.Helper()
	pub, err := component.ParsePublicKey(readShared(t, "signing", keyFile))
	if err != nil {
		t.Fatal(err)
	}
	return []ocmtransfer.SignatureCheck{{Name: "acme", Key: pub, KeyFile: keyFile}}
}

// noWrites fails when any write request reached reg.
func noWrites(t *testing.T, reg *registrytest.Registry) {
	t.Helper()
	for _, m := range []string{"PUT", "POST", "PATCH", "DELETE"} {
		if n := reg.Requests().Count(m, ""); n != 0 {
			t.Errorf("%d %s requests reached the target", n, m)
		}
	}
}

// TestVerifySignatureGate: the versions ocm signed in ctf-signed pass with
// acme.pub, the same with other.pub and the unsigned 6.3.6 are refused
// before anything is written.
func TestVerifySignatureGate(t *testing.T) {
	ctx := t.Context()
	imgs, images := serveFixtureImages(t)
	_ = imgs
	from := end{store: openCTF(t, "ctf-signed")}

	t.Run("acme.pub passes", func(t *testing.T) {
		dst := registrytest.New(t)
		to := end{store: storeFor(t, dst), base: dst.Host + "/air", scheme: "http"}
		p, rep, err := move(ctx, from, images, versions(t, "example.com/app:1.0.0"), to,
			ocmtransfer.PlanOptions{Recursive: true, Verify: gate(t, "acme.pub")}, transfer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Components) != 2 || rep.ComponentsWritten != 2 {
			t.Fatalf("planned %d versions, wrote %d; want app and podinfo 6.3.5", len(p.Components), rep.ComponentsWritten)
		}
		b := rep.BOM
		if b == nil || len(b.Components) != 2 {
			t.Fatalf("BOM: %+v", b)
		}
		for _, c := range b.Components {
			var verified bool
			for _, s := range c.Signatures {
				verified = verified || (s.Name == "acme" && s.Verified && strings.HasPrefix(s.Key, "sha256:"))
			}
			// app was named, podinfo 6.3.5 is proven by app's reference digest.
			if c.Name == "example.com/app" && !verified {
				t.Errorf("the BOM does not record app's verified signature: %+v", c.Signatures)
			}
			if c.Name == "example.com/podinfo" && c.Digest.Value != "2917b26d0a0995811c633683043a225366957396e9eaf8e31749bf0c9416b1de" {
				t.Errorf("podinfo 6.3.5 BOM digest %s, want ocm's 2917b26d…", c.Digest.Value)
			}
			for _, r := range c.Resources {
				if r.Digest != nil && !r.Checked {
					t.Errorf("%s:%s resource %s: not checked against its digest", c.Name, c.Version, r.Name)
				}
			}
		}
		if len(b.Images) != 1 || b.Images[0].Digest.String() != image635 {
			t.Errorf("BOM images: %+v", b.Images)
		}
	})

	refused := []struct {
		name, version, key string
		want               error
	}{
		{"example.com/podinfo", "6.3.5", "other.pub", component.ErrSignatureInvalid},
		{"example.com/podinfo", "6.3.6", "acme.pub", component.ErrNoSignature},
	}
	for _, c := range refused {
		t.Run(c.version+" with "+c.key+" is refused", func(t *testing.T) {
			dst := registrytest.New(t)
			to := end{store: storeFor(t, dst), base: dst.Host + "/air", scheme: "http"}
			_, _, err := move(ctx, from, images, versions(t, c.name+":"+c.version), to,
				ocmtransfer.PlanOptions{Verify: gate(t, c.key)}, transfer.Options{})
			if !errors.Is(err, ocmtransfer.ErrNotVerified) || !errors.Is(err, c.want) {
				t.Fatalf("got %v, want ErrNotVerified and %v", err, c.want)
			}
			for _, s := range []string{c.name + ":" + c.version, `"acme"`, c.key} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error does not name %s: %v", s, err)
				}
			}
			noWrites(t, dst)
		})
	}
}

// copyCTF copies a fixture CTF directory into a writable temporary one.
func copyCTF(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(sharedOCM(t, name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rewriteVersion writes podinfo 6.3.5 of the CTF dir back after change.
func rewriteVersion(t *testing.T, dir string, change func(*component.Descriptor)) {
	t.Helper()
	ctx := t.Context()
	a, err := ctf.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	repo := ocireg.New(a, "")
	cv, err := repo.Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := cv.Descriptor.Clone()
	change(d)
	var blobs []ocireg.LocalBlob
	for _, b := range cv.LocalBlobs() {
		blobs = append(blobs, ocireg.LocalBlob{Descriptor: b.Descriptor})
	}
	if _, err := repo.Write(ctx, d, blobs, ocireg.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyReferences: a version without a signature of its own crosses
// when a verified version of the same transfer references it with its
// digest (as in a bundle import, where every version is named); alone, or
// changed after its parent was signed, it is refused.
func TestVerifyReferences(t *testing.T) {
	ctx := t.Context()
	_, images := serveFixtureImages(t)
	dir := copyCTF(t, "ctf-signed")
	rewriteVersion(t, dir, func(d *component.Descriptor) { d.Signatures = nil })
	from := end{store: openDir(t, dir)}
	try := func(o ocmtransfer.PlanOptions, nvs ...string) (*ocmtransfer.Plan, error) {
		dst := registrytest.New(t)
		to := end{store: storeFor(t, dst), base: dst.Host + "/air", scheme: "http"}
		o.Verify = gate(t, "acme.pub")
		p, _, err := plan(ctx, from, images, versions(t, nvs...), to, o)
		return p, err
	}
	for _, o := range []ocmtransfer.PlanOptions{{Recursive: true}, {}} {
		p, err := try(o, "example.com/app:1.0.0", "example.com/podinfo:6.3.5")
		if err != nil {
			t.Fatalf("recursive %v: %v", o.Recursive, err)
		}
		for _, cv := range p.Components {
			want := "signature"
			if cv.Name == "example.com/podinfo" {
				want = "reference from example.com/app:1.0.0"
			}
			if cv.VerifiedBy != want {
				t.Errorf("recursive %v: %s verified by %q, want %q", o.Recursive, cv.Name, cv.VerifiedBy, want)
			}
		}
	}
	if _, err := try(ocmtransfer.PlanOptions{}, "example.com/podinfo:6.3.5"); !errors.Is(err, component.ErrNoSignature) {
		t.Errorf("the unsigned version alone: got %v, want ErrNoSignature", err)
	}

	rewriteVersion(t, dir, func(d *component.Descriptor) { d.Provider.Name = "mallory.example" })
	from = end{store: openDir(t, dir)}
	_, err := try(ocmtransfer.PlanOptions{Recursive: true}, "example.com/app:1.0.0")
	if !errors.Is(err, ocmtransfer.ErrNotVerified) || !errors.Is(err, component.ErrDigestChanged) {
		t.Fatalf("got %v, want ErrNotVerified and ErrDigestChanged", err)
	}
	if !strings.Contains(err.Error(), "reference podinfo") {
		t.Errorf("the error does not name the reference: %v", err)
	}
}

func openDir(t *testing.T, dir string) *ctf.Archive {
	t.Helper()
	a, err := ctf.Open(dir, ctf.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestVerifyAlteredResource: a local blob whose bytes were changed in the
// source after signing (the descriptor and its signature still verify) is
// found while it streams, and nothing of the version is tagged.
func TestVerifyAlteredResource(t *testing.T) {
	ctx := t.Context()
	_, images := serveFixtureImages(t)
	dir := copyCTF(t, "ctf-signed")
	blob := filepath.Join(dir, "blobs", "sha256."+strings.TrimPrefix(configBlob, "sha256:"))
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := registrytest.New(t)
	ds := storeFor(t, dst)
	to := end{store: ds, base: dst.Host + "/air", scheme: "http"}
	_, _, err = move(ctx, end{store: openDir(t, dir)}, images, versions(t, "example.com/podinfo:6.3.5"), to,
		ocmtransfer.PlanOptions{Verify: gate(t, "acme.pub")}, transfer.Options{Attempts: 1})
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("got %v, want ErrDigestMismatch", err)
	}
	t.Log(err)
	if n := dst.Requests().Count("PUT", "/manifests/"); n != 0 {
		t.Errorf("%d manifests were pushed to the target", n)
	}
	if _, err := ocireg.New(ds, dst.Host+"/air").Resolve(ctx, "example.com/podinfo", "6.3.5"); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("the target holds the version: %v", err)
	}
}

// TestVerifyArtifactSetsKept: into a CTF, images that ocm stored as
// artifact sets stay sets; with a signature gate each set is opened and
// every byte of its image checked against the signed digest. ocm's
// signature of podinfo 6.3.5 (ctf-signed) is put on the copy ocm made
// with --copy-resources (ctf-copied): the signed digest leaves accesses
// out, so it holds for both.
func TestVerifyArtifactSetsKept(t *testing.T) {
	ctx := t.Context()
	signed := ocireg.New(openCTF(t, "ctf-signed"), "")
	scv, err := signed.Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	dir := copyCTF(t, "ctf-copied")
	rewriteVersion(t, dir, func(d *component.Descriptor) { d.Signatures = scv.Descriptor.Signatures })

	out, err := ctf.Create(filepath.Join(t.TempDir(), "out"), ctf.FormatDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	to := end{store: out, intermediate: true}
	p, _, err := move(ctx, end{store: openDir(t, dir)}, nil, versions(t, "example.com/podinfo:6.3.5"), to,
		ocmtransfer.PlanOptions{Verify: gate(t, "acme.pub")}, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Components[0].Resources {
		if !r.Checked {
			t.Errorf("resource %s (%s): not checked", r.Name, r.How)
		}
	}
}
