package ocireg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

func newRegistry(t *testing.T) (*registrytest.Registry, *remote.Store) {
	t.Helper()
	reg := registrytest.New(t)
	s, err := remote.New(remote.WithPlainHTTP(true), remote.WithKeychain(authn.NewMultiKeychain()))
	if err != nil {
		t.Fatal(err)
	}
	return reg, s
}

// podinfo returns the podinfo 6.3.5 descriptor of the registry dump and
// its local blobs.
func podinfo(t *testing.T) (dump, *component.Descriptor, []LocalBlob) {
	t.Helper()
	d := readDump(t, "testdata/registry", "ocm.podinfo-6.3.5")
	cd, err := component.Decode(d.yaml)
	if err != nil {
		t.Fatal(err)
	}
	return d, cd, fileBlobs(t, "testdata/blobs", layerDescs(d.m))
}

// TestRegistryRoundTrip writes podinfo 6.3.5 into a real registry,
// compares what landed there with what `ocm transfer ctf` wrote, reads it
// back and streams its local blobs.
func TestRegistryRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg, s := newRegistry(t)
	dmp, cd, blobs := podinfo(t)
	r := New(s, reg.Host+"/ocm")

	md, err := r.Write(ctx, cd, blobs, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	repo := reg.Host + "/ocm/component-descriptors/example.com/podinfo"
	ref, _ := oci.ParseRef(repo + ":6.3.5")
	got, err := s.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != md.Digest || got.MediaType != dmp.m.MediaType {
		t.Fatalf("the tag points at %s %s, Write returned %s", got.MediaType, got.Digest, md.Digest)
	}
	mb, err := oci.FetchBytes(ctx, s, repo, got, 0)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != dmp.m.Config.MediaType || m.Config.Digest != dmp.m.Config.Digest {
		t.Errorf("config %s %s, ocm wrote %s %s", m.Config.MediaType, m.Config.Digest, dmp.m.Config.MediaType, dmp.m.Config.Digest)
	}
	if cfg, err := oci.FetchBytes(ctx, s, repo, m.Config, 0); err != nil || !bytes.Equal(cfg, dmp.config) {
		t.Errorf("config bytes %s (%v), ocm wrote %s", cfg, err, dmp.config)
	}
	if len(m.Layers) != len(dmp.m.Layers) {
		t.Fatalf("%d layers, ocm wrote %d", len(m.Layers), len(dmp.m.Layers))
	}
	for i, l := range m.Layers {
		w := dmp.m.Layers[i]
		if l.MediaType != w.MediaType || l.Digest != w.Digest || l.Size != w.Size || !mapsEqual(l.Annotations, w.Annotations) {
			t.Errorf("layer %d: %+v, ocm wrote %+v", i, l, w)
		}
	}
	if layer, err := oci.FetchBytes(ctx, s, repo, m.Layers[0], 1<<20); err != nil || !bytes.Equal(layer, dmp.layer) {
		t.Errorf("descriptor layer differs from ocm's (%v)", err)
	}
	wantAnn := map[string]string{AnnotationComponentVersion: "example.com/podinfo:6.3.5", AnnotationCreator: DefaultCreator}
	if !mapsEqual(m.Annotations, wantAnn) {
		t.Errorf("annotations %v, want %v", m.Annotations, wantAnn)
	}
	if m.MediaType != dmp.m.MediaType || m.SchemaVersion != 2 || m.Subject != nil {
		t.Errorf("manifest %s v%d subject %v", m.MediaType, m.SchemaVersion, m.Subject)
	}

	// Read it back: one GET each for the manifest, the config and the
	// descriptor layer, the last two at once.
	reg.ResetRequests()
	v, err := r.Get(ctx, "example.com/podinfo", "6.3.5")
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Requests(); got.Count("GET", "/v2/"+ref.Repository+"/manifests/") != 1 || got.Count("GET", "/v2/"+ref.Repository+"/blobs/") != 2 || len(got) != 3 {
		t.Errorf("reading the version took %d requests, want 3 GETs: %v", len(got), got)
	}
	if !bytes.Equal(v.Raw, dmp.yaml) || v.Manifest.Digest != md.Digest || v.Ref.String() != ref.String()+"@"+md.Digest.String() {
		t.Errorf("read back %s, raw equal %v", v.Ref, bytes.Equal(v.Raw, dmp.yaml))
	}
	for _, res := range v.Descriptor.Resources {
		if res.Access.Kind() != component.AccessLocalBlob {
			continue
		}
		lb, _ := res.Access.LocalBlob()
		rc, d, err := v.LocalBlob(ctx, lb)
		if err != nil {
			t.Fatal(err)
		}
		b := readAll(t, rc)
		want := readFile(t, filepath.Join("testdata/blobs", strings.Replace(lb.LocalReference, ":", ".", 1)))
		if !bytes.Equal(b, want) || d.Digest.String() != lb.LocalReference || string(d.MediaType) != lb.MediaType {
			t.Errorf("resource %s: %d bytes, descriptor %+v", res.Name, len(b), d)
		}
	}

	// Written again: same digest, no blob uploaded.
	reg.ResetRequests()
	md2, err := r.Write(ctx, cd, blobs, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if md2.Digest != md.Digest {
		t.Errorf("second write gave %s, first %s", md2.Digest, md.Digest)
	}
	if n := reg.Requests().Count("POST", ""); n != 0 {
		t.Errorf("second write started %d uploads", n)
	}

	// With OCM's creator value, the manifest is OCM's own.
	md3, err := New(s, reg.Host+"/copy").Write(ctx, cd, blobs, WriteOptions{Creator: dmp.m.Annotations[AnnotationCreator]})
	if err != nil {
		t.Fatal(err)
	}
	if want := oci.Digest(dmp.manifest); md3.Digest != want {
		t.Errorf("with OCM's creator the manifest is %s, ocm wrote %s", md3.Digest, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRegistryVersions writes several versions, one with build metadata,
// and lists them in semver order.
func TestRegistryVersions(t *testing.T) {
	ctx := context.Background()
	reg, s := newRegistry(t)
	_, cd, blobs := podinfo(t)
	r := New(s, reg.Host)
	written := []string{"1.10.0", "1.2.0", "1.2.0-rc.1", "v1.3", "1.2.0-rc.10", "1.2.0-beta", "1.2.0+build.5", "0.9.1"}
	for _, ver := range written {
		d := *cd
		d.Version = ver
		if _, err := r.Write(ctx, &d, blobs, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Versions(ctx, "example.com/podinfo")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.9.1", "1.2.0-beta", "1.2.0-rc.1", "1.2.0-rc.10", "1.2.0", "1.2.0+build.5", "v1.3", "1.10.0"}
	if !slices.Equal(got, want) {
		t.Errorf("Versions = %v, want %v", got, want)
	}
	tags, err := s.Tags(ctx, ComponentRepo(reg.Host, "example.com/podinfo"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tags, "1.2.0.build-build.5") {
		t.Errorf("tags %v lack 1.2.0.build-build.5", tags)
	}
	v, err := r.Get(ctx, "example.com/podinfo", "1.2.0+build.5")
	if err != nil {
		t.Fatal(err)
	}
	if v.Descriptor.Version != "1.2.0+build.5" || v.Ref.Tag != "1.2.0.build-build.5" {
		t.Errorf("read %s as %s", v.Ref, v.Descriptor.Version)
	}
	if v.Annotations[AnnotationComponentVersion] != "example.com/podinfo:1.2.0+build.5" {
		t.Errorf("annotation %q", v.Annotations[AnnotationComponentVersion])
	}

	_, err = r.Get(ctx, "example.com/podinfo", "9.9.9")
	if !errors.Is(err, oci.ErrNotFound) || !strings.Contains(err.Error(), "example.com/podinfo:9.9.9") ||
		!strings.Contains(err.Error(), reg.Host+"/component-descriptors/example.com/podinfo") {
		t.Errorf("missing version: %v", err)
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Versions) == 0 || !strings.Contains(err.Error(), "nearest") {
		t.Errorf("missing version: %v does not list the nearest versions", err)
	}
	_, err = r.Get(ctx, "example.com/nothing", "1.0.0")
	if !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("missing component: %v", err)
	}
	_, err = r.Get(ctx, "example.com/podinfox", "1.0.0")
	if !errors.As(err, &nf) || !slices.Contains(nf.Components, "example.com/podinfo") {
		t.Errorf("misspelt component: %v does not name example.com/podinfo", err)
	}
	if vs, err := r.Versions(ctx, "example.com/nothing"); err != nil || len(vs) != 0 {
		t.Errorf("versions of a missing component: %v, %v", vs, err)
	}
}
