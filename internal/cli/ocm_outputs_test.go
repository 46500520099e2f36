package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/fixture"
	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/release"
)

// sharedDir returns ../shared beside the checkout (where CI puts it), or
// skips the test when it is not there.
func sharedDir(t *testing.T) string { t.Helper(); return fixture.Shared(t) }

// fields splits each line of a table into its whitespace-separated cells.
func fields(s string) [][]string {
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		out = append(out, strings.Fields(l))
	}
	return out
}

// TestComponentGetMatchesOCM runs `ferry component get` and `resources` on
// the CTFs the OCM CLI made and compares the tables with what `ocm get cv`
// and `ocm get resources -o wide` printed for them.
func TestComponentGetMatchesOCM(t *testing.T) {
	fixtures := filepath.Join(sharedDir(t), "testdata", "ocm")
	t.Chdir(fixtures) // ocm ran there, and prints paths as given
	tests := []struct {
		args   []string
		output string
		cols   int // columns ferry prints the way ocm does (ferry adds DIGEST after them)
	}{
		{[]string{"component", "get", "./ctf-dir"}, "a-get-cv-ctf-dir-wide.txt", 4},
		{[]string{"component", "get", "./ctf.tar"}, "a-get-cv-ctf-tar-wide.txt", 4},
		{[]string{"component", "get", "./ctf.tgz"}, "a-get-cv-ctf-tgz-wide.txt", 4},
		{[]string{"component", "resources", "./ctf-dir//example.com/podinfo:6.3.5"}, "a-get-resources-ctf-dir-wide.txt", 6},
		{[]string{"component", "resources", "./ctf-dir//example.com/podinfo:6.3.6"}, "a-get-resources-ctf-dir-6.3.6-wide.txt", 6},
	}
	for _, tc := range tests {
		t.Run(tc.output, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want, err := os.ReadFile(filepath.Join("outputs", tc.output))
			if err != nil {
				t.Fatal(err)
			}
			got, exp := fields(stdout), fields(string(want))
			if len(got) != len(exp) {
				t.Fatalf("ferry printed %d lines, ocm %d:\n%s\nocm:\n%s", len(got), len(exp), stdout, want)
			}
			for i := range exp {
				if len(got[i]) < tc.cols || strings.Join(got[i][:tc.cols], " ") != strings.Join(exp[i][:min(tc.cols, len(exp[i]))], " ") {
					t.Errorf("line %d: ferry %q, ocm %q", i, got[i], exp[i])
				}
			}
		})
	}
}

// TestComponentGetYAMLMatchesOCM compares `ferry component get -o yaml` with
// `ocm get cv -o yaml` for the same version, byte for byte.
func TestComponentGetYAMLMatchesOCM(t *testing.T) {
	fixtures := filepath.Join(sharedDir(t), "testdata", "ocm")
	for _, tc := range []struct {
		ref, want string
		extra     []string
	}{
		{"ctf-dir//example.com/podinfo:6.3.5", "descriptors/podinfo-6.3.5.v2.yaml", nil},
		{"ctf-dir//example.com/app:1.0.0", "descriptors/app-1.0.0.v2.yaml", nil},
		{"ctf-dir//example.com/podinfo:6.3.5", "descriptors/podinfo-6.3.5.v3alpha1.yaml", []string{"--scheme", "v3alpha1"}},
		{"ctf-signed//example.com/podinfo:6.3.5", "descriptors/podinfo-6.3.5.signed.v2.yaml", nil},
	} {
		args := append([]string{"component", "get", fixtures + "/" + tc.ref, "-o", "yaml"}, tc.extra...)
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		want, _ := os.ReadFile(filepath.Join(fixtures, tc.want))
		if stdout != string(want) {
			t.Errorf("%s: ferry printed\n%s\nocm printed\n%s", tc.ref, stdout, want)
		}
	}
}

// TestComponentVerifyFixtures checks the signed fixtures with the CLI.
func TestComponentVerifyFixtures(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	ctf := filepath.Join(ocm, "ctf-signed")
	for _, tc := range []struct {
		ref, key string
		code     int
		want     string
	}{
		{"//example.com/podinfo:6.3.5", "acme.pub", 0, "verified"},
		{"//example.com/app:1.0.0", "acme.pub", 0, "verified"},
		{"//example.com/podinfo:6.3.5", "other.pub", 1, "signature invalid"},
		{"//example.com/podinfo:6.3.6", "acme.pub", 1, "not signed"},
	} {
		code, stdout, stderr := run(t, "component", "verify", ctf+tc.ref, "--signature", "acme",
			"--public-key", filepath.Join(ocm, "signing", tc.key), "--local-only")
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("verify %s with %s: exit %d, output %q; want exit %d and %q", tc.ref, tc.key, code, stdout+stderr, tc.code, tc.want)
		}
	}
}

// TestComponentCreateIsReproducible builds the fixture constructor twice
// (its images served by a real registry) and gets the same digests, with
// the image and file digests OCM computed for the same input.
func TestComponentCreateIsReproducible(t *testing.T) {
	ocm := filepath.Join(sharedDir(t), "testdata", "ocm")
	reg := registrytest.New(t)
	// The fixture's images, pushed from the artifact sets ocm made, keep their digests.
	if code, _, stderr := run(t, "transfer", filepath.Join(ocm, "ctf-copied"), reg.Host+"/fixture"); code != 0 {
		t.Fatalf("seeding images: %s", stderr)
	}
	src := t.TempDir()
	copyTree(t, filepath.Join(ocm, "src"), src)
	constructor := filepath.Join(src, "component-constructor.yaml")
	b, _ := os.ReadFile(constructor)
	os.WriteFile(constructor, []byte(strings.ReplaceAll(string(b), "127.0.0.1:5055/", reg.Host+"/fixture/")), 0o644)

	var digests []string
	for i := range 2 {
		out := filepath.Join(t.TempDir(), "ctf")
		code, stdout, stderr := run(t, "component", "create", "-f", constructor, "--to", out, "--creation-time", "2026-11-21T04:54:13Z", "-o", "json")
		if code != 0 {
			t.Fatalf("create #%d: %s", i+1, stderr)
		}
		var created []release.CreatedVersion
		if err := json.Unmarshal([]byte(stdout), &created); err != nil || len(created) != 3 {
			t.Fatalf("create printed %q: %v", stdout, err)
		}
		var ds []string
		for _, c := range created {
			ds = append(ds, c.Component+":"+c.Version+"@"+c.Digest.String())
		}
		digests = append(digests, strings.Join(ds, " "))
		if i == 0 {
			code, res, stderr := run(t, "component", "resources", out+"//example.com/podinfo:6.3.5", "-o", "json")
			if code != 0 {
				t.Fatal(stderr)
			}
			for _, want := range []string{
				"01be29a86d5dbaacecc53a381ff194f72bb62c8422ec7e6fa683e3535f96472c", // config.yaml, as ocm
				"dec1e7679a6dc3e79db0a1765eeb0de7f1e8ab19c97ce4f10b2125f4e789d774", // the image, as ocm
			} {
				if !strings.Contains(res, want) {
					t.Errorf("resources lack digest %s:\n%s", want, res)
				}
			}
		}
	}
	if digests[0] != digests[1] {
		t.Fatalf("two creates from the same input differ:\n%s\n%s", digests[0], digests[1])
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
