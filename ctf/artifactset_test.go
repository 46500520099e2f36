package ctf

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferry-oci/ferry/oci"
)

// Every artifact set in the fixtures opens from inside its CTF, and its
// main artifact with everything below it reads back verified.
func TestArtifactSetFixtures(t *testing.T) {
	tests := []struct {
		ctf      string
		blob     string
		mainType types.MediaType
		main     string
		tags     []string
		refName  string
	}{
		{shared(t, "testdata", "ocm", "ctf-copied"), "sha256:c42524bee43aeb899bd9ca4626e99e2d32df034a3386716d8535e2f997038474",
			types.DockerManifestSchema2, "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774", []string{"6.3.5"}, "stefanprodan/podinfo:6.3.5"},
		{shared(t, "testdata", "ocm", "ctf-copied"), "sha256:745988e9393e1adf310866465b3b3a61c5e6a504d4df409ba612208cc9f60383",
			types.OCIImageIndex, "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a", []string{"6.3.6"}, "stefanprodan/podinfo:6.3.6"},
		{shared(t, "testdata", "ocm", "ctf-from-registry"), "sha256:c42524bee43aeb899bd9ca4626e99e2d32df034a3386716d8535e2f997038474",
			types.DockerManifestSchema2, "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774", []string{"6.3.5"}, "stefanprodan/podinfo:6.3.5"},
		{shared(t, "spec", "ocm", "fixtures", "ctf", "ocm-0.20.0-compat-02", "with-resource"), "sha256:e40e3a2f1ab1a98328dfd14539a79d27aff5c4d5c34cd16a85f0288bfa76490b",
			types.OCIManifestSchema1, "sha256:62be4af3382a4493cb7f1dd4ec47bcb28f1863b615fc9e4a1dceefbe93898dd0", []string{"6.7.1"}, "jakobmoellerdev/podinfo/podinfo:6.7.1"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(filepath.Base(tc.ctf)+"/"+tc.blob[7:15], func(t *testing.T) {
			a, err := Open(tc.ctf, ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			h, _ := v1.NewHash(tc.blob)
			// The component version lists the set as a local blob of an artifact-set media type.
			if !setListed(t, a, h) {
				t.Fatalf("no component version lists %s as an artifact set", h)
			}
			b, err := a.OpenBlob(h)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			s, err := OpenArtifactSet(b, b.Size())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if m := s.Main(); m.Digest.String() != tc.main || m.MediaType != tc.mainType || m.Size <= 0 {
				t.Fatalf("Main = %+v, want %s %s", m, tc.mainType, tc.main)
			}
			if !slices.Equal(s.Tags(), tc.tags) {
				t.Errorf("Tags = %v, want %v", s.Tags(), tc.tags)
			}
			for _, ref := range []string{"x/y:" + tc.tags[0], "x/y@" + tc.main} {
				r, _ := oci.ParseRef(ref)
				d, err := s.Resolve(ctx, r)
				if err != nil || d.Digest != s.Main().Digest || d.Size != s.Main().Size {
					t.Fatalf("Resolve(%s) = %+v, %v", ref, d, err)
				}
			}
			walk(t, s, "any/repo", s.Main())
			repo, tag, _, err := ParseReferenceName(tc.refName)
			if err != nil || repo+":"+tag != tc.refName || tag != s.Tags()[0] {
				t.Errorf("ParseReferenceName(%q) = %q, %q, %v", tc.refName, repo, tag, err)
			}
		})
	}
}

// setListed reports whether a manifest in a lists h as a layer of an
// artifact-set media type.
func setListed(t *testing.T, a *Archive, h v1.Hash) bool {
	for _, e := range a.Entries() {
		b, err := oci.FetchBytes(context.Background(), a, e.Repository, v1.Descriptor{Digest: e.Digest, Size: -1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		kids, _ := oci.Children(types.OCIManifestSchema1, b)
		for _, k := range kids {
			if k.Digest == h && IsArtifactSet(string(k.MediaType)) {
				return true
			}
		}
	}
	return false
}

// An uncompressed set (+tar) in the nested OCI layout and the old ocm/v1
// flavour (artifact-descriptor.json) read the same.
func TestArtifactSetVariants(t *testing.T) {
	ctx := context.Background()
	a, err := Open(shared(t, "testdata", "ocm", "ctf-copied"), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, _ := v1.NewHash("sha256:745988e9393e1adf310866465b3b3a61c5e6a504d4df409ba612208cc9f60383")
	b, err := a.OpenBlob(h)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	files := untgz(t, b)
	for _, tc := range []struct {
		name   string
		nested bool
		desc   string
		gz     bool
	}{
		{"tar flat", false, "index.json", false},
		{"tar nested", true, "index.json", false},
		{"tgz ocm/v1", false, "artifact-descriptor.json", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			var w io.Writer = &buf
			var zw *gzip.Writer
			if tc.gz {
				zw = gzip.NewWriter(&buf)
				w = zw
			}
			tw := tar.NewWriter(w)
			for _, f := range files {
				name := f.name
				if name == "index.json" {
					name = tc.desc
				}
				if tc.nested && len(name) > 13 && name[:13] == "blobs/sha256." {
					name = "blobs/sha256/" + name[13:]
				}
				if name == "oci-layout" && tc.desc != "index.json" {
					continue
				}
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(f.data)), Mode: 0o644})
				tw.Write(f.data)
			}
			tw.Close()
			if zw != nil {
				zw.Close()
			}
			s, err := OpenArtifactSet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Main().Digest.String() != "sha256:925ee23a84a5ed63ae20ed075a0d3eace84c9a167a6974b35294966029a4385a" {
				t.Fatalf("Main = %v", s.Main())
			}
			walk(t, s, "", s.Main())
			if _, err := s.Resolve(ctx, oci.Ref{Repository: "x", Tag: "nope"}); !errors.Is(err, oci.ErrNotFound) {
				t.Fatalf("Resolve of a missing tag: %v", err)
			}
		})
	}
}

type file struct {
	name string
	data []byte
}

func untgz(t *testing.T, r io.Reader) []file {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []file
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, _ := io.ReadAll(tr)
		out = append(out, file{hdr.Name, b})
	}
}

func TestIsArtifactSet(t *testing.T) {
	for mt, want := range map[string]bool{
		"application/vnd.oci.image.manifest.v1+tar+gzip":           true,
		"application/vnd.oci.image.index.v1+tar":                   true,
		"application/vnd.docker.distribution.manifest.v2+tar+gzip": true,
		"application/vnd.docker.distribution.manifest.list.v2+tar": true,
		"application/vnd.ocm.software.oci.layout.v1+tar+gzip":      true,
		"application/vnd.oci.image.manifest.v1+json":               false,
		"application/x-tgz": false,
		"application/vnd.ocm.software.component-descriptor.v2+yaml+tar": false,
	} {
		if IsArtifactSet(mt) != want {
			t.Errorf("IsArtifactSet(%q) = %v", mt, !want)
		}
	}
}

func TestParseReferenceName(t *testing.T) {
	d := "sha256:dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774"
	for _, tc := range []struct{ in, repo, tag, dg string }{
		{"stefanprodan/podinfo:6.3.5", "stefanprodan/podinfo", "6.3.5", ""},
		{"stefanprodan/podinfo:6.3.5@" + d, "stefanprodan/podinfo", "6.3.5", d},
		{"x/y@" + d, "x/y", "", d},
		{"library/nginx", "library/nginx", "", ""},
		{"", "", "", ""},
	} {
		repo, tag, dg, err := ParseReferenceName(tc.in)
		if err != nil || repo != tc.repo || tag != tc.tag || (tc.dg != "" && dg.String() != tc.dg) {
			t.Errorf("ParseReferenceName(%q) = %q %q %v %v", tc.in, repo, tag, dg, err)
		}
	}
	for _, bad := range []string{"X/Y:1", "a/b@sha256:short", "a/../b:1"} {
		if _, _, _, err := ParseReferenceName(bad); !errors.Is(err, oci.ErrInvalidReference) {
			t.Errorf("ParseReferenceName(%q) = %v, want ErrInvalidReference", bad, err)
		}
	}
}
