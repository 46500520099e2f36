package cli

import (
	"archive/tar"
	"bufio"
	"cmp"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/ferry-oci/ferry/component"
	"github.com/ferry-oci/ferry/internal/registrytest"
)

// The OCM v2 CLI fixtures (testdata/ocm2, a copy of shared/testdata/ocm2):
// what `ocm` v2 wrote for example.com/shop and example.com/shop-lite 2.1.0.
const (
	ocm2Dir      = "../../testdata/ocm2"
	ocm2Registry = "127.0.0.1:5091" // the descriptors and image references name it
)

var ocm2Components = []string{"example.com/shop", "example.com/shop-lite"}

// serveOCM2Registry serves the fixture's registry storage on 127.0.0.1:5091,
// where its image references point. The port is shared with other runs of
// this test on the machine: it waits a while for it, then skips.
func serveOCM2Registry(t *testing.T) *registrytest.Registry {
	t.Helper()
	root := t.TempDir()
	untar(t, filepath.Join(ocm2Dir, "registry", "registry-storage.tar"), root)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		l, err := net.Listen("tcp", ocm2Registry)
		if err == nil {
			l.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Skipf("%s stays taken (another run of this test?): %v", ocm2Registry, err)
		}
	}
	return registrytest.New(t, registrytest.WithFilesystem(root), registrytest.WithAddr(ocm2Registry))
}

// untar extracts a fixture tar (regular files and directories only) to dir.
func untar(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, filepath.Clean(dir)) {
			t.Fatalf("%s: member %s leaves the directory", file, h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fixtureDescriptor decodes `ocm get cv -o yaml` output (a list of one).
func fixtureDescriptor(t *testing.T, file string) *component.Descriptor {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var list []json.RawMessage
	if err := yaml.Unmarshal(b, &list); err != nil || len(list) != 1 {
		t.Fatalf("%s: want a list of one descriptor: %v", file, err)
	}
	d, err := component.Decode(list[0])
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// sameDescriptor compares two descriptors as OCM v2 stores them (every
// field, in one canonical encoding).
func sameDescriptor(t *testing.T, what string, got, want *component.Descriptor) {
	t.Helper()
	g, err := component.EncodeJSONOCMv2(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := component.EncodeJSONOCMv2(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s: descriptor differs from ocm's:\nferry: %s\nocm:   %s", what, g, w)
	}
}

// ferryDescriptor runs `ferry component get REF -o yaml` and decodes it.
func ferryDescriptor(t *testing.T, ref string) *component.Descriptor {
	t.Helper()
	code, stdout, stderr := run(t, "component", "get", ref, "-o", "yaml")
	if code != 0 {
		t.Fatalf("component get %s: exit %d: %s", ref, code, stderr)
	}
	d, err := component.Decode([]byte(stdout))
	if err != nil {
		t.Fatalf("component get %s: %v\n%s", ref, err, stdout)
	}
	return d
}

// TestOCM2Read reads every component version of the v2 fixtures' CTFs
// (directory and tar; index-shaped and plain) and compares it with what
// `ocm get cv -o yaml` printed for the same version.
func TestOCM2Read(t *testing.T) {
	for _, src := range []struct{ path, fixture string }{
		{"ctf-dir", "ctf-dir"}, {"ctf.tar", "ctf-tar"}, {"ctf-signed", "ctf-signed"}, {"ctf-signed.tar", "ctf-signed"}, {"ctf-copied", "ctf-copied"},
	} {
		for _, c := range ocm2Components {
			name := strings.TrimPrefix(c, "example.com/")
			t.Run(src.path+"/"+name, func(t *testing.T) {
				got := ferryDescriptor(t, filepath.Join(ocm2Dir, src.path)+"//"+c+":2.1.0")
				sameDescriptor(t, src.path, got, fixtureDescriptor(t, filepath.Join(ocm2Dir, "descriptors", src.fixture+"."+name+".cv.yaml")))
				if got.Provider.Name != "example.com" || len(got.Provider.Labels) != 1 {
					t.Errorf("provider written as a JSON string: read %+v", got.Provider)
				}
				code, stdout, stderr := run(t, "component", "resources", filepath.Join(ocm2Dir, src.path)+"//"+c+":2.1.0")
				if code != 0 || len(fields(stdout)) != 1+len(got.Resources) {
					t.Errorf("component resources: exit %d\n%s%s", code, stdout, stderr)
				}
			})
		}
	}
	code, stdout, stderr := run(t, "component", "get", filepath.Join(ocm2Dir, "ctf-copied"))
	if code != 0 || !strings.Contains(stdout, "example.com/shop ") || !strings.Contains(stdout, "example.com/shop-lite") {
		t.Errorf("listing ctf-copied: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestOCM2VerifyLocal checks both signatures (RSASSA-PSS and PKCS1v15 over
// jsonNormalisation/v4alpha1) and every local content digest, and that the
// wrong key fails as it fails `ocm verify`.
func TestOCM2VerifyLocal(t *testing.T) {
	pub := filepath.Join(ocm2Dir, "signing", "shop.pub")
	for _, src := range []string{"ctf-signed", "ctf-signed.tar", "ctf-copied"} {
		for _, c := range ocm2Components {
			for _, sig := range []string{"shop-release", "shop-pkcs1"} {
				ref := filepath.Join(ocm2Dir, src) + "//" + c + ":2.1.0"
				code, stdout, stderr := run(t, "component", "verify", ref, "--signature", sig, "--public-key", pub, "--local-only")
				if code != 0 || !strings.Contains(stdout, "verified "+c+":2.1.0") {
					t.Errorf("%s %s: exit %d\n%s%s", ref, sig, code, stdout, stderr)
				}
			}
		}
	}
	want, err := os.ReadFile(filepath.Join(ocm2Dir, "outputs", "b-verify-pss-wrongkey.txt"))
	if err != nil {
		t.Fatal(err)
	}
	const reason = "crypto/rsa: verification error"
	if !strings.Contains(string(want), reason) {
		t.Fatalf("the fixture's wrong-key output no longer says %q", reason)
	}
	for _, sig := range []string{"shop-release", "shop-pkcs1"} {
		code, _, stderr := run(t, "component", "verify", filepath.Join(ocm2Dir, "ctf-signed")+"//example.com/shop:2.1.0",
			"--signature", sig, "--public-key", filepath.Join(ocm2Dir, "signing", "stranger.pub"), "--local-only")
		if code != 1 || !strings.Contains(stderr, reason) {
			t.Errorf("wrong key for %s: exit %d: %s", sig, code, stderr)
		}
	}
}

// downloads reads outputs/dl-files.sha256.txt: for "<source>/<resource>",
// the sha256 of each file `ocm download resource` wrote, by path below it.
func downloads(t *testing.T) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(ocm2Dir, "outputs", "dl-files.sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		parts := strings.SplitN(strings.TrimPrefix(fs[2], "./"), "/", 3)
		key, rest := parts[0]+"/"+parts[1], ""
		if len(parts) == 3 {
			rest = parts[2]
		}
		if out[key] == nil {
			out[key] = map[string]string{}
		}
		out[key][rest] = fs[0]
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkDownload compares what `ferry component download` wrote for a
// resource with what `ocm download resource` wrote (want: path → sha256):
// the same config file; the same files in the manifests archive; the
// chart's content layer as the chart .tgz; every blob of an image's OCI
// layout inside ferry's artifact set.
func checkDownload(t *testing.T, file, resource string, want map[string]string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	switch resource {
	case "config":
		got[""] = sha(b)
	case "chart":
		for p, h := range want {
			if strings.HasPrefix(p, "blobs/sha256/") && h == sha(b) {
				got[p] = h
			}
		}
		if len(got) != 1 {
			t.Errorf("%s: the chart archive (sha256 %s) is not the chart layer ocm downloaded", resource, sha(b))
		}
		return
	default: // a gzipped tar: the manifests directory, or an artifact set
		zr, err := gzip.NewReader(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", resource, err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", resource, err)
			}
			c, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(h.Name, "./")
			if after, ok := strings.CutPrefix(name, "blobs/sha256."); ok {
				name = "blobs/sha256/" + after
			}
			got[name] = sha(c)
		}
	}
	for p, h := range want {
		if resource != "config" && resource != "manifests" && !strings.HasPrefix(p, "blobs/") {
			continue // index.json and oci-layout: ocm's own layout files
		}
		if got[p] != h {
			t.Errorf("%s: %s is %q in ferry's download, %s in ocm's", resource, p, got[p], h)
		}
	}
}

func TestOCM2DownloadLocal(t *testing.T) {
	want := downloads(t)
	for _, res := range []string{"config", "manifests", "chart"} {
		out := filepath.Join(t.TempDir(), res)
		code, _, stderr := run(t, "component", "download", filepath.Join(ocm2Dir, "ctf-signed")+"//example.com/shop:2.1.0", res, "-O", out)
		if code != 0 {
			t.Fatalf("download %s: exit %d: %s", res, code, stderr)
		}
		checkDownload(t, out, res, want["ctf-signed/"+res])
	}
	// After `ocm transfer --copy-resources` the images are in the version's index.
	for _, res := range []string{"web", "worker"} {
		out := filepath.Join(t.TempDir(), res)
		code, _, stderr := run(t, "component", "download", filepath.Join(ocm2Dir, "ctf-copied")+"//example.com/shop:2.1.0", res, "-O", out)
		if code != 0 {
			t.Fatalf("download %s: exit %d: %s", res, code, stderr)
		}
		checkDownload(t, out, res, want["ctf-signed/"+res])
	}
}

// topDigest returns the digest of what a component version's tag names in
// reg under base.
func topDigest(t *testing.T, reg *registrytest.Registry, base, comp string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, reg.URL+"/v2/"+base+"/component-descriptors/"+comp+"/manifests/2.1.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := reg.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s/%s %s: %s", reg.Host, base, comp, resp.Status)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

func fixtureFile(t *testing.T, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{ocm2Dir}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// verifyAll runs `ferry component verify` with both signatures on every
// component version of repo, with every content digest (images included).
func verifyAll(t *testing.T, repo string) {
	t.Helper()
	for _, c := range ocm2Components {
		for _, sig := range []string{"shop-release", "shop-pkcs1"} {
			code, stdout, stderr := run(t, "component", "verify", repo+"//"+c+":2.1.0", "--signature", sig,
				"--public-key", filepath.Join(ocm2Dir, "signing", "shop.pub"))
			if code != 0 || !strings.Contains(stdout, "every resource digest") {
				t.Errorf("verify %s//%s %s: exit %d\n%s%s", repo, c, sig, code, stdout, stderr)
			}
		}
	}
}

// TestOCM2Registry runs the fixtures' registry (what `ocm transfer` wrote,
// and the images the CTFs name) and carries every version through ferry:
// CTF → registry → registry → CTF → bundle → registry, checking both
// signatures and every content digest at each step, the image manifests'
// digests, and that what ocm wrote is copied with its digests.
func TestOCM2Registry(t *testing.T) {
	serveOCM2Registry(t)
	src := "http://" + ocm2Registry
	want := downloads(t)

	t.Run("verify", func(t *testing.T) {
		verifyAll(t, filepath.Join(ocm2Dir, "ctf-signed"))
		verifyAll(t, filepath.Join(ocm2Dir, "ctf-copied"))
		verifyAll(t, src+"/shop/ocm")
		verifyAll(t, src+"/shop/ocm-oci")
	})
	t.Run("read", func(t *testing.T) {
		for _, repo := range []struct{ path, fixture string }{{"shop/ocm", "registry-shop-ocm"}, {"shop/ocm-oci", "registry-shop-ocm-oci"}} {
			for _, c := range ocm2Components {
				name := strings.TrimPrefix(c, "example.com/")
				got := ferryDescriptor(t, src+"/"+repo.path+"//"+c+":2.1.0")
				sameDescriptor(t, repo.path, got, fixtureDescriptor(t, filepath.Join(ocm2Dir, "descriptors", repo.fixture+"."+name+".cv.yaml")))
			}
		}
	})
	t.Run("download", func(t *testing.T) {
		for _, dl := range []struct{ ref, key string }{
			{filepath.Join(ocm2Dir, "ctf-signed"), "ctf-signed"}, {src + "/shop/ocm", "shop-ocm"}, {src + "/shop/ocm-oci", "shop-ocm-oci"},
		} {
			for _, res := range []string{"web", "worker", "config", "manifests", "chart"} {
				w, ok := want[dl.key+"/"+res]
				if !ok {
					continue // ocm downloaded only web and worker from shop/ocm-oci
				}
				out := filepath.Join(t.TempDir(), res)
				code, _, stderr := run(t, "component", "download", dl.ref+"//example.com/shop:2.1.0", res, "-O", out)
				if code != 0 {
					t.Fatalf("download %s from %s: exit %d: %s", res, dl.ref, code, stderr)
				}
				checkDownload(t, out, res, w)
			}
		}
	})
	t.Run("carry ocm's layout", func(t *testing.T) {
		// What ocm itself wrote keeps every digest through ferry: shop/ocm
		// holds every resource in the versions' indexes; shop/ocm-oci names
		// its images in that registry, so a copy that leaves them there
		// (--by-reference) is the same version, byte for byte.
		dst := registrytest.New(t)
		for _, repo := range []struct{ path, fixture, flag string }{{"shop/ocm", "shop-ocm", "--jobs=4"}, {"shop/ocm-oci", "shop-ocm-oci", "--by-reference"}} {
			for _, c := range ocm2Components {
				code, _, stderr := run(t, "transfer", src+"/"+repo.path+"//"+c+":2.1.0", "http://"+dst.Host+"/"+repo.path, repo.flag)
				if code != 0 {
					t.Fatalf("transfer %s %s: exit %d: %s", repo.path, c, code, stderr)
				}
				name := strings.TrimPrefix(c, "example.com/")
				wantTop := fixtureFile(t, "registry", repo.fixture+"."+name+"-2.1.0.top.digest.txt")
				if got := topDigest(t, dst, repo.path, c); got != wantTop {
					t.Errorf("%s %s: ferry's copy is %s, ocm's %s", repo.path, c, got, wantTop)
				}
			}
		}
		verifyAll(t, "http://"+dst.Host+"/shop/ocm")
		// ctf-copied (ocm's CTF after --copy-resources) into a registry is what
		// ocm wrote into shop/ocm from the same version: the same index.
		ctfDst := registrytest.New(t)
		code, _, stderr := run(t, "transfer", filepath.Join(ocm2Dir, "ctf-copied"), "http://"+ctfDst.Host+"/shop/ocm")
		if code != 0 {
			t.Fatalf("transfer ctf-copied: exit %d: %s", code, stderr)
		}
		for _, c := range ocm2Components {
			name := strings.TrimPrefix(c, "example.com/")
			if got, w := topDigest(t, ctfDst, "shop/ocm", c), fixtureFile(t, "registry", "shop-ocm."+name+"-2.1.0.top.digest.txt"); got != w {
				t.Errorf("ctf-copied %s in a registry: %s, ocm wrote %s", c, got, w)
			}
		}
	})
	t.Run("round trip", func(t *testing.T) {
		a, b, imp := registrytest.New(t), registrytest.New(t), registrytest.New(t)
		work := t.TempDir()
		steps := [][]string{
			{"transfer", filepath.Join(ocm2Dir, "ctf-signed"), "http://" + a.Host + "/air"},
			{"transfer", "http://" + a.Host + "/air//example.com/shop", "http://" + a.Host + "/air//example.com/shop-lite", "http://" + b.Host + "/air2"},
			{"transfer", "http://" + b.Host + "/air2//example.com/shop", "http://" + b.Host + "/air2//example.com/shop-lite", filepath.Join(work, "ctf")},
			{"bundle", "create", filepath.Join(work, "ctf"), "-o", filepath.Join(work, "shop.tar")},
			{"bundle", "verify", filepath.Join(work, "shop.tar")},
			{"bundle", "import", filepath.Join(work, "shop.tar"), "http://" + imp.Host + "/inside"},
		}
		repos := []string{"http://" + a.Host + "/air", "http://" + b.Host + "/air2", filepath.Join(work, "ctf"), filepath.Join(work, "shop.tar"), "", "http://" + imp.Host + "/inside"}
		for i, args := range steps {
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
			if repos[i] == "" {
				continue
			}
			verifyAll(t, repos[i])
			for _, c := range ocm2Components {
				d := ferryDescriptor(t, repos[i]+"//"+c+":2.1.0")
				for _, r := range d.Resources {
					if r.Name == "web" && r.Digest.Value != "380bcebca14d6a8cb5d2092e706baceb76d3d25028cd422b8063583fc17bce0f" ||
						r.Name == "worker" && r.Digest.Value != "335915a42a6ea938831e02b487c1fcc0cbe8791fc316207fdfab11a40b11412b" ||
						r.Digest.NormalisationAlgorithm != component.GenericBlobDigestV1 {
						t.Errorf("%s %s %s: digest %s re-digested", repos[i], c, r.Name, r.Digest)
					}
				}
			}
		}
		// The images kept their manifest digests in the final registry.
		for _, img := range []struct{ repo, digest string }{
			{"inside/shop/images/web", "sha256:380bcebca14d6a8cb5d2092e706baceb76d3d25028cd422b8063583fc17bce0f"},
			{"inside/shop/images/worker", "sha256:335915a42a6ea938831e02b487c1fcc0cbe8791fc316207fdfab11a40b11412b"},
		} {
			code, _, stderr := run(t, "artifact", "copy", "http://"+imp.Host+"/"+img.repo+"@"+img.digest, "http://"+b.Host+"/check/"+img.repo)
			if code != 0 {
				t.Errorf("%s@%s is not in the final registry: %s", img.repo, img.digest, stderr)
			}
		}
	})
	t.Run("carry chain", func(t *testing.T) {
		// ocm's --copy-resources CTF through registries, a CTF and a
		// differential bundle: every tag names the bytes ocm wrote.
		a, b, c := registrytest.New(t), registrytest.New(t), registrytest.New(t)
		work := t.TempDir()
		inv := filepath.Join(work, "inventory.json")
		for _, args := range [][]string{
			{"transfer", filepath.Join(ocm2Dir, "ctf-copied"), "http://" + a.Host + "/shop/ocm"},
			{"transfer", "http://" + a.Host + "/shop/ocm//example.com/shop", "http://" + a.Host + "/shop/ocm//example.com/shop-lite", "http://" + b.Host + "/shop/ocm"},
			{"transfer", "http://" + b.Host + "/shop/ocm//example.com/shop", "http://" + b.Host + "/shop/ocm//example.com/shop-lite", filepath.Join(work, "ctf")},
			{"inventory", "http://" + a.Host + "/shop/ocm//example.com/shop-lite", "-o", inv},
			{"bundle", "create", filepath.Join(work, "ctf"), "-o", filepath.Join(work, "b.tar"), "--missing-from", inv},
			{"bundle", "verify", filepath.Join(work, "b.tar")},
			{"transfer", "http://" + a.Host + "/shop/ocm//example.com/shop-lite", "http://" + c.Host + "/shop/ocm"},
			{"bundle", "import", filepath.Join(work, "b.tar"), "http://" + c.Host + "/shop/ocm"},
		} {
			if code, stdout, stderr := run(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
		}
		for _, reg := range []*registrytest.Registry{a, b, c} {
			for _, comp := range ocm2Components {
				name := strings.TrimPrefix(comp, "example.com/")
				if got, w := topDigest(t, reg, "shop/ocm", comp), fixtureFile(t, "registry", "shop-ocm."+name+"-2.1.0.top.digest.txt"); got != w {
					t.Errorf("%s %s: %s, ocm wrote %s", reg.Host, comp, got, w)
				}
			}
		}
		verifyAll(t, "http://"+c.Host+"/shop/ocm")
		code, stdout, _ := run(t, "bundle", "inspect", filepath.Join(work, "b.tar"))
		if code != 0 || !strings.Contains(stdout, "in the version's index") {
			t.Errorf("bundle inspect lists no image of a version's index:\n%s", stdout)
		}
		// The inventory of shop-lite lists the images in its index, so the
		// differential bundle can leave them out.
		for _, img := range []string{"380bcebca14d6a8cb5d2092e706baceb76d3d25028cd422b8063583fc17bce0f", "335915a42a6ea938831e02b487c1fcc0cbe8791fc316207fdfab11a40b11412b"} {
			out, err := os.ReadFile(inv)
			if err != nil || !strings.Contains(string(out), img) {
				t.Errorf("the inventory lacks %s, which the version's index holds", img)
			}
		}
		// localize names the copies a cluster pulls: the version's repository by digest.
		outDir := filepath.Join(work, "localized")
		if code, _, stderr := run(t, "localize", "http://"+c.Host+"/shop/ocm//example.com/shop:2.1.0", "--resource", "manifests", "-O", outDir); code != 0 {
			t.Fatalf("localize: exit %d: %s", code, stderr)
		}
		dep, err := os.ReadFile(filepath.Join(outDir, "deployment.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			c.Host + "/shop/ocm/component-descriptors/example.com/shop@sha256:380bcebca14d6a8cb5d2092e706baceb76d3d25028cd422b8063583fc17bce0f",
			c.Host + "/shop/ocm/component-descriptors/example.com/shop@sha256:335915a42a6ea938831e02b487c1fcc0cbe8791fc316207fdfab11a40b11412b",
		} {
			if !strings.Contains(string(dep), want) {
				t.Errorf("localized deployment.yaml does not name %s:\n%s", want, dep)
			}
		}
	})
	t.Run("sign", testOCM2Sign)
	t.Run("ocm-artifact-sets", func(t *testing.T) {
		// Images as OCM v1 artifact sets keep OCM v2's manifest digests.
		work, dst := t.TempDir(), registrytest.New(t)
		gate := []string{"--verify-signature", "shop-release", "--public-key", filepath.Join(ocm2Dir, "signing", "shop.pub")}
		for _, args := range [][]string{
			append([]string{"transfer", filepath.Join(ocm2Dir, "ctf-signed"), filepath.Join(work, "sets"), "--ocm-artifact-sets"}, gate...),
			append([]string{"transfer", filepath.Join(work, "sets"), filepath.Join(work, "sets2")}, gate...),
			append([]string{"transfer", filepath.Join(work, "sets"), "http://" + dst.Host + "/air"}, gate...),
		} {
			if code, stdout, stderr := run(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
		}
		verifyAll(t, filepath.Join(work, "sets"))
		verifyAll(t, filepath.Join(work, "sets2"))
		verifyAll(t, "http://"+dst.Host+"/air")
	})
	t.Run("upload-as localBlob", func(t *testing.T) {
		dst := registrytest.New(t)
		code, _, stderr := run(t, "transfer", filepath.Join(ocm2Dir, "ctf-signed"), "http://"+dst.Host+"/shop/ocm", "--upload-as", "localBlob")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		verifyAll(t, "http://"+dst.Host+"/shop/ocm")
		compareLayout(t, "http://"+dst.Host+"/shop/ocm", dst)

		// The same through a bundle: created in the v2 CLI's layout, imported.
		work, imp := t.TempDir(), registrytest.New(t)
		for _, args := range [][]string{
			{"bundle", "create", filepath.Join(ocm2Dir, "ctf-signed"), "-o", filepath.Join(work, "b.tar"), "--upload-as", "localBlob"},
			{"bundle", "verify", filepath.Join(work, "b.tar")},
			{"bundle", "import", filepath.Join(work, "b.tar"), "http://" + imp.Host + "/shop/ocm"},
		} {
			if code, stdout, stderr := run(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
		}
		verifyAll(t, filepath.Join(work, "b.tar"))
		verifyAll(t, "http://"+imp.Host+"/shop/ocm")
		compareLayout(t, "http://"+imp.Host+"/shop/ocm", imp)
	})
}

// ociManifest is the part of a manifest or index compareLayout compares.
type ociManifest struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Config       *struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	} `json:"layers"`
	Manifests []struct {
		MediaType    string            `json:"mediaType"`
		Digest       string            `json:"digest"`
		ArtifactType string            `json:"artifactType"`
		Annotations  map[string]string `json:"annotations"`
	} `json:"manifests"`
	Annotations map[string]string `json:"annotations"`
}

func fetchManifest(t *testing.T, reg *registrytest.Registry, repo, ref string) ociManifest {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, reg.URL+"/v2/"+repo+"/manifests/"+ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := reg.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m ociManifest
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s/%s:%s: %s %v", reg.Host, repo, ref, resp.Status, err)
	}
	return m
}

func readFixtureManifest(t *testing.T, name string) ociManifest {
	t.Helper()
	var m ociManifest
	if err := json.Unmarshal([]byte(fixtureFile(t, "registry", name)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// compareLayout compares, field by field, the component versions ferry wrote
// with --upload-as localBlob with those `ocm transfer --copy-resources`
// wrote into shop/ocm: the index (media type, entries, their media types,
// digests, artifact types and software.ocm.artifact annotations), the
// descriptor manifest (artifact type, config, layers and their annotations)
// and the accesses of the resources.
func compareLayout(t *testing.T, repo string, reg *registrytest.Registry) {
	t.Helper()
	for _, c := range ocm2Components {
		name := strings.TrimPrefix(c, "example.com/")
		cdRepo := "shop/ocm/component-descriptors/" + c
		got, want := fetchManifest(t, reg, cdRepo, "2.1.0"), readFixtureManifest(t, "shop-ocm."+name+"-2.1.0.top.json")
		if got.MediaType != want.MediaType || len(got.Manifests) != len(want.Manifests) {
			t.Fatalf("%s: top %s with %d entries, ocm's %s with %d", c, got.MediaType, len(got.Manifests), want.MediaType, len(want.Manifests))
		}
		for i, w := range want.Manifests {
			g := got.Manifests[i]
			if g.MediaType != w.MediaType || g.Digest != w.Digest || g.ArtifactType != w.ArtifactType ||
				g.Annotations["software.ocm.artifact"] != w.Annotations["software.ocm.artifact"] ||
				g.Annotations["software.ocm.componentversion"] != w.Annotations["software.ocm.componentversion"] {
				t.Errorf("%s: index entry %d:\nferry %+v\nocm   %+v", c, i, g, w)
			}
		}
		gm := fetchManifest(t, reg, cdRepo, got.Manifests[0].Digest)
		wm := readFixtureManifest(t, "shop-ocm."+name+"-2.1.0."+strings.TrimPrefix(want.Manifests[0].Digest, "sha256:")+".json")
		if gm.ArtifactType != wm.ArtifactType || *gm.Config != *wm.Config || len(gm.Layers) != len(wm.Layers) {
			t.Fatalf("%s: descriptor manifest\nferry %+v\nocm   %+v", c, gm, wm)
		}
		for i := range wm.Layers {
			if gm.Layers[i].MediaType != wm.Layers[i].MediaType || gm.Layers[i].Digest != wm.Layers[i].Digest ||
				gm.Layers[i].Annotations["software.ocm.artifact"] != wm.Layers[i].Annotations["software.ocm.artifact"] {
				t.Errorf("%s: layer %d:\nferry %+v\nocm   %+v", c, i, gm.Layers[i], wm.Layers[i])
			}
		}
		gd := ferryDescriptor(t, repo+"//"+c+":2.1.0")
		wd := fixtureDescriptor(t, filepath.Join(ocm2Dir, "descriptors", "registry-shop-ocm."+name+".cv.yaml"))
		for i, r := range wd.Resources {
			ga, _ := json.Marshal(gd.Resources[i].Access)
			wa, _ := json.Marshal(r.Access)
			if string(ga) != string(wa) {
				t.Errorf("%s resource %s: access\nferry %s\nocm   %s", c, r.Name, ga, wa)
			}
		}
		if c == "example.com/shop" {
			if g, w := topDigest(t, reg, "shop/ocm", c), fixtureFile(t, "registry", "shop-ocm.shop-2.1.0.top.digest.txt"); g != w {
				t.Errorf("%s: ferry wrote %s, ocm %s (the same content should give the same digest)", c, g, w)
			}
		}
	}
}

// testOCM2Sign (run by TestOCM2Registry: signing re-digests the images)
// signs versions the OCM v2 CLI wrote (one stored as an index
// with a chart in it, one as a plain manifest) with RSASSA-PSS and
// PKCS1v15 under jsonNormalisation v3 and v4alpha1, and verifies every
// signature; the version keeps its layout, its index entries and its
// resource digests.
func testOCM2Sign(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ctf")
	copyTree(t, filepath.Join(ocm2Dir, "ctf-dir"), dir)
	key := filepath.Join(t.TempDir(), "key.pem")
	pub := writeRSAKey(t, key)
	type sig struct{ name, algo, norm string }
	var sigs []sig
	for _, algo := range []string{component.AlgorithmRSAPSS, component.AlgorithmRSAPKCS1v15} {
		for _, norm := range []string{component.JSONNormalisationV3, component.JSONNormalisationV4Alpha1, ""} {
			sigs = append(sigs, sig{"s-" + algo + "-" + strings.NewReplacer("/", "-").Replace(norm), algo, norm})
		}
	}
	for _, c := range ocm2Components {
		ref := dir + "//" + c + ":2.1.0"
		before := ferryDescriptor(t, ref)
		for _, s := range sigs {
			args := []string{"component", "sign", ref, "--signature", s.name, "--private-key", key, "--algorithm", s.algo}
			if s.norm != "" {
				args = append(args, "--normalisation", s.norm)
			}
			if code, _, stderr := run(t, args...); code != 0 {
				t.Fatalf("sign %s %s: exit %d: %s", c, s.name, code, stderr)
			}
		}
		after := ferryDescriptor(t, ref)
		for i, r := range before.Resources {
			if *after.Resources[i].Digest != *r.Digest {
				t.Errorf("%s resource %s: digest %s became %s", c, r.Name, r.Digest, after.Resources[i].Digest)
			}
		}
		for _, s := range sigs {
			code, stdout, stderr := run(t, "component", "verify", ref, "--signature", s.name, "--public-key", pub, "--local-only")
			if code != 0 {
				t.Errorf("verify %s %s: exit %d\n%s%s", c, s.name, code, stdout, stderr)
			}
			got := after.Signatures[after.SignatureIndex(s.name)]
			wantNorm := cmp.Or(s.norm, component.JSONNormalisationV4Alpha1) // the v2 CLI's, for its layout
			wantMT := map[string]string{component.AlgorithmRSAPSS: component.MediaTypeRSAPSSSignature, component.AlgorithmRSAPKCS1v15: component.MediaTypeRSASignature}[s.algo]
			if got.Digest.NormalisationAlgorithm != wantNorm || got.Signature.MediaType != wantMT {
				t.Errorf("%s %s: signed %s as %s, want %s as %s", c, s.name, got.Digest.NormalisationAlgorithm, got.Signature.MediaType, wantNorm, wantMT)
			}
		}
	}
	// The chart is still in shop's index, where the v2 CLI put it.
	out := filepath.Join(t.TempDir(), "chart.tgz")
	if code, _, stderr := run(t, "component", "download", dir+"//example.com/shop:2.1.0", "chart", "-O", out); code != 0 {
		t.Fatalf("download chart after signing: exit %d: %s", code, stderr)
	}
	checkDownload(t, out, "chart", downloads(t)["ctf-signed/chart"])
}

// writeRSAKey writes a new RSA private key (PKCS#8 PEM) to file and its
// public key next to it, and returns the public key's file.
func writeRSAKey(t *testing.T, file string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		t.Fatal(err)
	}
	return file + ".pub"
}

// TestUnsupportedAccessNamed: a resource whose access ferry cannot fetch
// stops a copying transfer with its name, its type and what to do, before
// anything is written; --by-reference carries the access as it is.
func TestUnsupportedAccessNamed(t *testing.T) {
	dir := t.TempDir()
	cc := filepath.Join(dir, "cc.yaml")
	if err := os.WriteFile(cc, []byte(`components:
- name: example.com/gh
  version: 1.0.0
  provider: {name: example.com}
  resources:
  - name: src
    type: blob
    version: 1.0.0
    access: {type: gitHub, repoUrl: "https://github.com/example/repo", commit: 0123456789abcdef0123456789abcdef01234567}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "component", "create", "-f", cc, "--to", filepath.Join(dir, "ctf")); code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	reg := registrytest.New(t)
	code, _, stderr := run(t, "transfer", filepath.Join(dir, "ctf"), "http://"+reg.Host+"/air")
	if code != 1 || !strings.Contains(stderr, "example.com/gh:1.0.0 resource src") || !strings.Contains(stderr, "gitHub") || !strings.Contains(stderr, "--by-reference") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := reg.Requests().Count("PUT", "/v2/") + reg.Requests().Count("POST", "/v2/"); got != 0 {
		t.Errorf("%d writes reached the registry", got)
	}
	if code, _, stderr := run(t, "transfer", filepath.Join(dir, "ctf"), "http://"+reg.Host+"/air", "--by-reference"); code != 0 {
		t.Fatalf("--by-reference: exit %d: %s", code, stderr)
	}
}

// TestHelmRepositoryAccess: a helm/v1 resource (a chart in a classic Helm
// repository, served here on 127.0.0.1) is fetched on transfer and stored in
// the version's index as an OCI Helm chart with Helm's media types and its
// provenance, as the OCM v2 CLI stores a chart; a chart that does not match
// the repository's digest stops the transfer before anything is written.
func TestHelmRepositoryAccess(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join(ocm2Dir, "ctf-dir", "blobs", "sha256.6c762e3fb483abaa4b76d99d3470e3d62870e7b5c646a9ac62c474ddc483a625"))
	if err != nil {
		t.Fatal(err)
	}
	prov := []byte("-----BEGIN PGP SIGNED MESSAGE-----\nfixture provenance\n")
	digest := sha(chart)
	mux := http.NewServeMux()
	mux.HandleFunc("/charts/index.yaml", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "apiVersion: v1\nentries:\n  shop:\n  - name: shop\n    version: 0.4.2\n    digest: "+digest+"\n    urls: [shop-0.4.2.tgz]\n  - name: shop\n    version: 0.4.3\n    digest: "+strings.Repeat("ab", 32)+"\n    urls: [shop-0.4.2.tgz]\n")
	})
	mux.HandleFunc("/charts/shop-0.4.2.tgz", func(w http.ResponseWriter, r *http.Request) { w.Write(chart) })
	mux.HandleFunc("/charts/shop-0.4.2.tgz.prov", func(w http.ResponseWriter, r *http.Request) { w.Write(prov) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	for _, v := range []string{"0.4.2", "0.4.3"} {
		cc := filepath.Join(dir, "cc-"+v+".yaml")
		if err := os.WriteFile(cc, []byte(`components:
- name: example.com/helm
  version: `+v+`
  provider: {name: example.com}
  resources:
  - name: chart
    type: helmChart
    version: `+v+`
    access: {type: helm/v1, helmRepository: "`+srv.URL+`/charts", helmChart: "shop:`+v+`"}
`), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := run(t, "component", "create", "-f", cc, "--to", filepath.Join(dir, "ctf")); code != 0 {
			t.Fatalf("create: exit %d: %s", code, stderr)
		}
	}
	reg := registrytest.New(t)
	dst := "http://" + reg.Host + "/air"
	if code, _, stderr := run(t, "transfer", filepath.Join(dir, "ctf")+"//example.com/helm:0.4.2", dst); code != 0 {
		t.Fatalf("transfer: exit %d: %s", code, stderr)
	}
	d := ferryDescriptor(t, dst+"//example.com/helm:0.4.2")
	lb, err := d.Resources[0].Access.LocalBlob()
	if err != nil || lb.MediaType != "application/vnd.oci.image.manifest.v1+json" || d.Resources[0].Access.Type != "LocalBlob/v1" {
		t.Fatalf("access after transfer: %+v %v", d.Resources[0].Access, err)
	}
	top := fetchManifest(t, reg, "air/component-descriptors/example.com/helm", "0.4.2")
	if top.MediaType != "application/vnd.oci.image.index.v1+json" || len(top.Manifests) != 2 || top.Manifests[1].Digest != lb.LocalReference {
		t.Fatalf("the version's index: %+v", top)
	}
	m := fetchManifest(t, reg, "air/component-descriptors/example.com/helm", lb.LocalReference)
	if m.Config.MediaType != "application/vnd.cncf.helm.config.v1+json" || len(m.Layers) != 2 ||
		m.Layers[0].MediaType != "application/vnd.cncf.helm.chart.content.v1.tar+gzip" || m.Layers[0].Digest != "sha256:"+digest ||
		m.Layers[1].MediaType != "application/vnd.cncf.helm.chart.provenance.v1.prov" || m.Layers[1].Digest != "sha256:"+sha(prov) {
		t.Errorf("chart manifest: %+v", m)
	}
	out := filepath.Join(t.TempDir(), "chart.tgz")
	if code, _, stderr := run(t, "component", "download", dst+"//example.com/helm:0.4.2", "chart", "-O", out); code != 0 {
		t.Fatalf("download: exit %d: %s", code, stderr)
	} else if b, _ := os.ReadFile(out); sha(b) != digest {
		t.Errorf("downloaded chart is not the repository's")
	}
	// A chart whose bytes are not what the index says.
	before := reg.Requests().Count("PUT", "/v2/")
	code, _, stderr := run(t, "transfer", filepath.Join(dir, "ctf")+"//example.com/helm:0.4.3", dst)
	if code != 4 || !strings.Contains(stderr, "example.com/helm:0.4.3 resource chart") || !strings.Contains(stderr, "digest mismatch") { // 4: damaged input
		t.Errorf("bad chart digest: exit %d: %s", code, stderr)
	}
	if reg.Requests().Count("PUT", "/v2/") != before {
		t.Errorf("a failed transfer wrote to the registry")
	}
}

// TestCreateUploadAsLocalBlob: component create --upload-as localBlob
// stores the image in the version's OCI index with OCM v2's access, and a
// compressed dir input gets the media type both OCM CLIs unpack.
func TestCreateUploadAsLocalBlob(t *testing.T) {
	reg := registrytest.New(t)
	img := seed(t, reg, "images/web", "1.0")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deploy", "d.yaml"), []byte("kind: Deployment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cc := filepath.Join(dir, "cc.yaml")
	if err := os.WriteFile(cc, []byte(`components:
- name: example.com/local
  version: 1.0.0
  provider: {name: example.com}
  resources:
  - name: web
    type: ociImage
    version: "1.0"
    access: {type: ociArtifact, imageReference: "`+reg.Host+`/images/web:1.0"}
  - name: manifests
    type: directoryTree
    input: {type: dir, path: deploy, compress: true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := "http://" + reg.Host + "/ocm"
	if code, stdout, stderr := run(t, "component", "create", "-f", cc, "--to", dst, "--upload-as", "localBlob", "--creation-time", "2026-12-04T10:00:00Z"); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, stdout, stderr)
	}
	d := ferryDescriptor(t, dst+"//example.com/local:1.0.0")
	lb, err := d.Resources[0].Access.LocalBlob()
	if err != nil || d.Resources[0].Access.Type != "LocalBlob/v1" || lb.LocalReference != img.Desc.Digest.String() ||
		lb.MediaType != string(img.Desc.MediaType) || lb.ReferenceName != "images/web:1.0" {
		t.Errorf("web access: %+v (%v)", d.Resources[0].Access, err)
	}
	if mlb, err := d.Resources[1].Access.LocalBlob(); err != nil || mlb.MediaType != "application/x-tar+gzip" {
		t.Errorf("manifests access: %+v (%v)", d.Resources[1].Access, err)
	}
	if len(d.RepositoryContexts) != 0 {
		t.Errorf("repositoryContexts %v: OCM v2's layout records none", d.RepositoryContexts)
	}
	top := fetchManifest(t, reg, "ocm/component-descriptors/example.com/local", "1.0.0")
	if top.MediaType != "application/vnd.oci.image.index.v1+json" || len(top.Manifests) != 2 ||
		top.Manifests[0].ArtifactType != "application/vnd.ocm.software.component-descriptor.v2" || top.Manifests[1].Digest != img.Desc.Digest.String() {
		t.Fatalf("index: %+v", top)
	}
	// A second run finds the version identical.
	code, stdout, stderr := run(t, "component", "create", "-f", cc, "--to", dst, "--upload-as", "localBlob", "--creation-time", "2026-12-04T10:00:00Z")
	if code != 0 || !strings.Contains(stdout, "unchanged") {
		t.Errorf("second create: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestOCM2PlatformRefused: a multi-platform image stored in a version's
// index cannot be filtered (the index names it whole): bundle create says
// so and writes nothing.
func TestOCM2PlatformRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.tar")
	code, _, stderr := run(t, "bundle", "create", filepath.Join(ocm2Dir, "ctf-copied"), "-o", out, "--platform", "linux/amd64")
	if code != 1 || !strings.Contains(stderr, "resource worker") || !strings.Contains(stderr, "--platform") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if m, _ := filepath.Glob(out + "*"); len(m) != 0 {
		t.Errorf("left %v", m)
	}
}

// TestUploadAsUsage: --upload-as takes OCM's two names, and localBlob
// combines neither with --ocm-artifact-sets nor with --platform.
func TestUploadAsUsage(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out")
	src := filepath.Join(ocm2Dir, "ctf-copied")
	for _, args := range [][]string{
		{"transfer", src, dst, "--upload-as", "inline"},
		{"transfer", src, dst, "--upload-as", "localBlob", "--ocm-artifact-sets"},
		{"bundle", "create", src, "-o", dst + ".tar", "--upload-as", "localBlob", "--platform", "linux/amd64"},
		{"component", "create", "-f", filepath.Join(ocm2Dir, "src", "component-constructor.yaml"), "--to", dst, "--upload-as", "oci"},
	} {
		if code, _, stderr := run(t, args...); code != 2 || !strings.Contains(stderr, "--") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
