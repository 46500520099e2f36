package ocireg

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ferry-oci/ferry/component"
)

// TestDescriptorTarMatchesOCM re-tars the descriptor OCM stored and gets
// OCM's layer byte for byte (header fields, padding, end blocks).
func TestDescriptorTarMatchesOCM(t *testing.T) {
	d := readDump(t, "testdata/registry", "ocm.podinfo-6.3.5")
	raw, err := DescriptorFromTar(d.layer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, d.yaml) {
		t.Fatal("the descriptor read from the layer is not the dumped component-descriptor.yaml")
	}
	got, err := DescriptorTar(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, d.layer) {
		t.Fatalf("DescriptorTar differs from OCM's layer:\n got %q\nwant %q", got[:512], d.layer[:512])
	}
	hdr, err := tar.NewReader(bytes.NewReader(got)).Next()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Name != DescriptorFile || hdr.Mode != 0 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" ||
		hdr.Gname != "" || !hdr.ModTime.Equal(tarModTime) || hdr.Typeflag != tar.TypeReg || hdr.Format != tar.FormatUSTAR {
		t.Errorf("header %+v", hdr)
	}
}

// TestManifestMatchesOCM computes the manifest of the dumped descriptor and
// its blobs: with OCM's creator value it is OCM's manifest byte for byte,
// with the default creator only that annotation differs.
func TestManifestMatchesOCM(t *testing.T) {
	d := readDump(t, "testdata/registry", "ocm.podinfo-6.3.5")
	cd, err := component.Decode(d.yaml)
	if err != nil {
		t.Fatal(err)
	}
	creator := d.m.Annotations[AnnotationCreator]
	a, err := Manifest(cd, layerDescs(d.m), WriteOptions{Creator: creator})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.LayerBytes, d.layer) {
		t.Errorf("descriptor layer differs from OCM's (is component.Encode byte-exact?)")
	}
	if !bytes.Equal(a.ConfigBytes, d.config) {
		t.Errorf("config:\n got %s\nwant %s", a.ConfigBytes, d.config)
	}
	if !bytes.Equal(a.ManifestBytes, d.manifest) {
		t.Errorf("manifest:\n got %s\nwant %s", a.ManifestBytes, d.manifest)
	}

	// The default creator: same structure, ferry's creator.
	b, err := Manifest(cd, layerDescs(d.m), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	json.Unmarshal(b.ManifestBytes, &got)
	json.Unmarshal(d.manifest, &want)
	if c := got["annotations"].(map[string]any)[AnnotationCreator]; c != DefaultCreator {
		t.Errorf("creator %v, want %q", c, DefaultCreator)
	}
	got["annotations"].(map[string]any)[AnnotationCreator] = creator
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("with the default creator the manifest differs beyond the creator:\n got %s\nwant %s", g, w)
	}

	// Deterministic: the blob order given does not matter.
	ls := layerDescs(d.m)
	ls[0], ls[1] = ls[1], ls[0]
	c, err := Manifest(cd, ls, WriteOptions{Creator: creator})
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Digest != a.Manifest.Digest {
		t.Errorf("blob order changed the manifest: %s vs %s", c.Manifest.Digest, a.Manifest.Digest)
	}
}
