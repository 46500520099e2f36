package construct_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/component/construct"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
)

// The fixture: what `ocm add componentversions --create --file ./ctf-dir
// src/component-constructor.yaml` made (shared/testdata/ocm, copied into
// testdata/ocm so these tests run without ../shared).
const (
	fixtureDir      = "testdata/ocm"
	fixtureRegistry = "127.0.0.1:5055" // the registry the fixture's imageReferences name
	fixtureTime     = "2026-11-21T04:54:13Z"
	// The deployment tgz OCM made: its tar headers carry the file's mtime
	// and owner names of that run, so no other run reproduces it.
	fixtureDeploymentDigest = "0d7b4d8a72296b9074ca1c7e04d7d60ad288174045e5c6e37621c66b89b1464f"
)

func fixedClock() time.Time { return time.Date(2026, 11, 21, 4, 54, 13, 0, time.UTC) }

// fixtureRegistryStore starts a registry holding the fixture's two podinfo
// images, byte for byte (taken from the artifact sets OCM wrote into
// ctf-copied), and returns a Store for it and its host.
func fixtureRegistryStore(t *testing.T) (oci.Store, string) {
	t.Helper()
	reg := registrytest.New(t)
	s, err := remote.New(remote.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"podinfo-6.3.5.artifactset.tgz", "podinfo-6.3.6.artifactset.tgz"} {
		pushArtifactSet(t, s, reg.Host+"/stefanprodan/podinfo", filepath.Join(fixtureDir, set))
	}
	return s, reg.Host
}

// pushArtifactSet pushes the artifacts of an OCM artifact set (index.json +
// flat blobs/sha256.<hex>) into repo, children first, and tags the main one.
func pushArtifactSet(t *testing.T, s oci.Store, repo, file string) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	blob := func(d v1.Descriptor) []byte {
		b, ok := files["blobs/sha256."+d.Digest.Hex]
		if !ok {
			t.Fatalf("%s: no blob %s", file, d.Digest)
		}
		return b
	}
	push := func(d v1.Descriptor) {
		if err := s.Push(ctx, repo, d, bytes.NewReader(blob(d))); err != nil {
			t.Fatalf("pushing %s: %v", d.Digest, err)
		}
	}
	for _, m := range index.Manifests { // OCM lists children before the main artifact
		if m.MediaType == types.OCIManifestSchema1 || m.MediaType == types.DockerManifestSchema2 {
			var man v1.Manifest
			if err := json.Unmarshal(blob(m), &man); err != nil {
				t.Fatal(err)
			}
			push(man.Config)
			for _, l := range man.Layers {
				push(l)
			}
		}
		push(m)
		if tag := m.Annotations["software.ocm/tags"]; tag != "" {
			ref, err := oci.ParseRef(repo + ":" + tag)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Tag(ctx, ref, m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// parseFixture parses the fixture constructor with the image registry
// replaced by host.
func parseFixture(t *testing.T, host string) []construct.Spec {
	t.Helper()
	file := filepath.Join(fixtureDir, "src", "component-constructor.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(fixtureRegistry), []byte(host))
	specs, err := construct.Parse(data, construct.ParseOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

// TestFixtureDescriptors builds the fixture constructor and compares every
// descriptor with the one OCM stored. What differs, and why:
//   - creationTime: the clock (here fixed to OCM's time, so it matches);
//   - the deployment resource's digest and localReference: the tgz of the
//     dir input. ferry's tar has normalised headers (mtime 0, no owner
//     names) where OCM wrote the file's mtime and "root"; the gzip is the
//     same (TestDirTarMatchesOCM proves the bytes);
//   - the image references name the test registry instead of 127.0.0.1:5055
//     (replaced back before comparing); the images pushed are the fixture's
//     own, so the ociArtifactDigest/v1 values match.
func TestFixtureDescriptors(t *testing.T) {
	store, host := fixtureRegistryStore(t)
	specs := parseFixture(t, host)
	want := []string{"podinfo-6.3.5.raw.yaml", "podinfo-6.3.6.raw.yaml", "app-1.0.0.raw.yaml"}
	if len(specs) != len(want) {
		t.Fatalf("%d specs, want %d", len(specs), len(want))
	}
	for i, s := range specs {
		res, err := construct.Build(context.Background(), s, construct.Options{Resolver: store, Now: fixedClock, CompressedDirMediaType: construct.MediaTypeTGZv1})
		if err != nil {
			t.Fatalf("%s:%s: %v", s.Name, s.Version, err)
		}
		got, err := component.Encode(res.Descriptor, "")
		if err != nil {
			t.Fatal(err)
		}
		got = bytes.ReplaceAll(got, []byte(host), []byte(fixtureRegistry))
		ours := ""
		for _, b := range res.Blobs {
			if b.Identity["name"] == "deployment" {
				ours = b.Descriptor.Digest.Hex
			}
		}
		if ours != "" {
			if ours == fixtureDeploymentDigest {
				t.Errorf("deployment digest equals OCM's; expected the normalised tar to differ")
			}
			got = bytes.ReplaceAll(got, []byte(ours), []byte(fixtureDeploymentDigest))
		}
		wantBytes, err := os.ReadFile(filepath.Join(fixtureDir, want[i]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBytes) {
			t.Errorf("%s:%s: descriptor differs from %s\n--- got\n%s\n--- want\n%s", s.Name, s.Version, want[i], got, wantBytes)
		}
	}
}

// TestFixtureV3Alpha1 builds podinfo 6.3.5 in scheme ocm.software/v3alpha1
// (`ocm add componentversions --scheme ocm.software/v3alpha1`) and compares
// with the descriptor OCM stored in ctf-v3alpha1.
func TestFixtureV3Alpha1(t *testing.T) {
	store, host := fixtureRegistryStore(t)
	s := parseFixture(t, host)[0]
	res, err := construct.Build(context.Background(), s, construct.Options{Resolver: store, Now: fixedClock, Scheme: component.SchemeV3Alpha1, CompressedDirMediaType: construct.MediaTypeTGZv1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := component.Encode(res.Descriptor, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(fixtureDir, "podinfo-6.3.5.v3alpha1.raw.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// ctf-v3alpha1 was made in a second run: its own creationTime and tgz.
	wd, _ := component.Decode(want)
	got = bytes.ReplaceAll(got, []byte(host), []byte(fixtureRegistry))
	got = bytes.ReplaceAll(got, []byte(fixtureTime), []byte(wd.CreationTime.Format(time.RFC3339)))
	got = bytes.ReplaceAll(got, []byte(res.Blobs[1].Descriptor.Digest.Hex), []byte(wd.Resources[1].Digest.Value))
	if !bytes.Equal(got, want) {
		t.Errorf("descriptor differs\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// TestFixtureBlobs checks the local blobs: the file and utf8 blobs are the
// bytes OCM stored (same digest, size and media type), and the dir blob is
// a gzipped tar.
func TestFixtureBlobs(t *testing.T) {
	specs := parseFixture(t, fixtureRegistry)
	want := map[string]struct {
		digest, mediaType string
		size              int64
	}{
		"config": {"01be29a86d5dbaacecc53a381ff194f72bb62c8422ec7e6fa683e3535f96472c", "application/x-yaml", 647},
		"notes":  {"e6de35446d66b90827d3814c7b9728e30b3d140136e56937a35fbade882c96ed", "text/plain", 56},
	}
	seen := 0
	for _, s := range specs {
		res, err := construct.Build(context.Background(), s, construct.Options{Now: fixedClock, SkipDigestGeneration: true, CompressedDirMediaType: construct.MediaTypeTGZv1})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range res.Blobs {
			content := readBlob(t, b)
			sum := sha256.Sum256(content)
			if hex.EncodeToString(sum[:]) != b.Descriptor.Digest.Hex || int64(len(content)) != b.Descriptor.Size {
				t.Errorf("%s: Open gives content that does not match the descriptor %v", b.Identity, b.Descriptor)
			}
			if b.Kind != "resource" {
				t.Errorf("%s: kind %q", b.Identity, b.Kind)
			}
			w, ok := want[b.Identity["name"]]
			if !ok {
				if b.Descriptor.MediaType != construct.MediaTypeTGZv1 {
					t.Errorf("%s: media type %s, want %s", b.Identity, b.Descriptor.MediaType, construct.MediaTypeTGZv1)
				}
				continue
			}
			seen++
			if b.Descriptor.Digest.Hex != w.digest || b.Descriptor.Size != w.size || string(b.Descriptor.MediaType) != w.mediaType {
				t.Errorf("%s: %v, want %s %d %s", b.Identity, b.Descriptor, w.digest, w.size, w.mediaType)
			}
		}
		for _, r := range res.Descriptor.Resources {
			if r.Digest != nil {
				t.Errorf("%s: digest %v with SkipDigestGeneration", r.Name, r.Digest)
			}
		}
	}
	if seen != 3 { // config twice (6.3.5, 6.3.6), notes once
		t.Errorf("saw %d file/utf8 blobs, want 3", seen)
	}
}

func readBlob(t *testing.T, b construct.Blob) []byte {
	t.Helper()
	rc, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	content, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return content
}

// TestDirTarMatchesOCM compares the dir input's tar with the one inside the
// tgz OCM made from the same directory. OCM's headers carry the file's mtime
// and owner names ("root"); with just those two set back, ferry's tar is
// byte-identical to OCM's, and gzipping it with Go's compress/gzip gives
// OCM's tgz exactly — OCM uses the same gzip, so the only difference in the
// resource digest comes from the headers ferry normalises.
func TestDirTarMatchesOCM(t *testing.T) {
	ocmTGZ, err := os.ReadFile(filepath.Join(fixtureDir, "deployment.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(ocmTGZ); hex.EncodeToString(sum[:]) != fixtureDeploymentDigest {
		t.Fatal("fixture tgz damaged")
	}
	zr, err := gzip.NewReader(bytes.NewReader(ocmTGZ))
	if err != nil {
		t.Fatal(err)
	}
	ocmTar, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	ocmHeaders := tarHeaders(t, ocmTar)

	s := parseFixture(t, fixtureRegistry)[0]
	s.Resources[1].Input.Compress = false
	res, err := construct.Build(context.Background(), s, construct.Options{Now: fixedClock, SkipDigestGeneration: true, CompressedDirMediaType: construct.MediaTypeTGZv1})
	if err != nil {
		t.Fatal(err)
	}
	ours := readBlob(t, res.Blobs[1])
	if res.Blobs[1].Descriptor.MediaType != construct.MediaTypeTar {
		t.Errorf("media type %s, want %s", res.Blobs[1].Descriptor.MediaType, construct.MediaTypeTar)
	}
	ourHeaders := tarHeaders(t, ours)
	if len(ourHeaders) != len(ocmHeaders) {
		t.Fatalf("%d entries, OCM has %d", len(ourHeaders), len(ocmHeaders))
	}
	// Put OCM's mtime and owner names into ferry's headers and re-write.
	var redone bytes.Buffer
	tw := tar.NewWriter(&redone)
	tr := tar.NewReader(bytes.NewReader(ours))
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uname != "" || h.Gname != "" || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: header not normalised: %v %q %q %d %d", h.Name, h.ModTime, h.Uname, h.Gname, h.Uid, h.Gid)
		}
		o := ocmHeaders[i]
		if h.Name != o.Name || h.Mode != o.Mode || h.Size != o.Size || h.Typeflag != o.Typeflag {
			t.Errorf("entry %d: %s %o %d %c, OCM %s %o %d %c", i, h.Name, h.Mode, h.Size, h.Typeflag, o.Name, o.Mode, o.Size, o.Typeflag)
		}
		h.ModTime, h.Uname, h.Gname = o.ModTime, o.Uname, o.Gname
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(redone.Bytes(), ocmTar) {
		t.Fatalf("tar with OCM's mtime and owner names differs from OCM's tar")
	}
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	zw.Write(redone.Bytes())
	zw.Close()
	if sum := sha256.Sum256(tgz.Bytes()); hex.EncodeToString(sum[:]) != fixtureDeploymentDigest {
		t.Errorf("Go's gzip of OCM's tar gives %x, OCM's tgz is %s", sum, fixtureDeploymentDigest)
	}
}

func tarHeaders(t *testing.T, b []byte) []*tar.Header {
	t.Helper()
	var hs []*tar.Header
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hs
		}
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
}

// TestBuildTwice: the same constructor and files give the same descriptor
// and blobs, byte for byte, including the compressed dir.
func TestBuildTwice(t *testing.T) {
	var first []string
	for run := 0; run < 2; run++ {
		var got []string
		for _, s := range parseFixture(t, fixtureRegistry) {
			res, err := construct.Build(context.Background(), s, construct.Options{Now: fixedClock, SkipDigestGeneration: true, CompressedDirMediaType: construct.MediaTypeTGZv1})
			if err != nil {
				t.Fatal(err)
			}
			enc, err := component.Encode(res.Descriptor, "")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(enc))
			for _, b := range res.Blobs {
				sum := sha256.Sum256(readBlob(t, b))
				got = append(got, b.Descriptor.Digest.String(), "sha256:"+hex.EncodeToString(sum[:]))
			}
		}
		if run == 0 {
			first = got
			continue
		}
		if strings.Join(got, "\n") != strings.Join(first, "\n") {
			t.Errorf("second build differs:\n%s\n---\n%s", strings.Join(got, "\n"), strings.Join(first, "\n"))
		}
	}
}
