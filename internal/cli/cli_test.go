package cli

import (
	"bytes"
	"crypto/tls"
	b64 "encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-oci/ferry/internal/registrytest"
	"github.com/ferry-oci/ferry/oci"
	"github.com/ferry-oci/ferry/oci/remote"
	"github.com/ferry-oci/ferry/oci/storetest"
)

// run runs ferry in process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(t.Context(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// seed pushes a small image to host/repo:tag with credentials from cfg.
func seed(t *testing.T, reg *registrytest.Registry, repo, tag string, opts ...remote.Option) storetest.Image {
	t.Helper()
	s, err := remote.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	img := storetest.NewImage(2, 1024)
	img.Push(t.Context(), t, s, reg.Host+"/"+repo)
	r, _ := oci.ParseRef(reg.Host + "/" + repo + ":" + tag)
	if err := s.Tag(t.Context(), r, img.Desc); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestArtifactCopyThroughAuthAndTLS(t *testing.T) {
	src := registrytest.New(t)
	dst := registrytest.New(t, registrytest.WithTLS(), registrytest.WithAuth("alice", "s3cret-Pa55"))
	img := seed(t, src, "app", "1.0")
	code, stdout, stderr := run(t, "artifact", "copy", src.Host+"/app:1.0", dst.Host+"/mirror/app",
		"--ca-file", dst.CAFile, "--registry-config", dst.DockerConfigFile(), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Artifacts   []struct{ Digest string }
		BlobsCopied int
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("-o json printed %q: %v", stdout, err)
	}
	if len(rep.Artifacts) != 1 || rep.Artifacts[0].Digest != img.Desc.Digest.String() || rep.BlobsCopied != 3 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestWrongPassword(t *testing.T) {
	const password = "correct-horse-battery"
	dst := registrytest.New(t, registrytest.WithAuth("alice", password))
	src := registrytest.New(t)
	seed(t, src, "app", "1.0")
	cfgDir := t.TempDir()
	// A Docker config with the right user and a wrong password that must never be printed.
	const wrong = "wrong-Pa55word-xyz"
	writeDockerConfig(t, filepath.Join(cfgDir, "config.json"), dst.Host, "alice", wrong)
	code, stdout, stderr := run(t, "-vv", "artifact", "copy", src.Host+"/app:1.0", dst.Host+"/app:1.0",
		"--registry-config", filepath.Join(cfgDir, "config.json"))
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	first := strings.SplitN(stderr[strings.Index(stderr, "ferry: "):], "\n", 2)[0]
	if !strings.Contains(first, dst.Host) || !strings.Contains(first, "401") {
		t.Errorf("error line %q does not name the registry and the 401", first)
	}
	if !strings.Contains(stderr, "\nhint: ") {
		t.Errorf("no hint in %q", stderr)
	}
	for _, secret := range []string{wrong, password} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("output contains a password: %s%s", stdout, stderr)
		}
	}
}

func writeDockerConfig(t *testing.T, path, host, user, password string) {
	t.Helper()
	auth := base64(user + ":" + password)
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestUntrustedCertificate(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTLS())
	seed(t, reg, "app", "1.0", remote.WithCAFile(reg.CAFile))
	code, _, stderr := run(t, "artifact", "copy", reg.Host+"/app:1.0", reg.Host+"/copy:1.0")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	if !strings.Contains(stderr, "certificate") || !strings.Contains(stderr, "hint: ") || !strings.Contains(stderr, "--ca-file") {
		t.Errorf("stderr %q does not say the certificate is untrusted and how to trust it", stderr)
	}
}

func TestPlainHTTPRefusedForRemoteHosts(t *testing.T) {
	// Nothing is contacted: the refusal comes before any connection.
	code, _, stderr := run(t, "artifact", "copy", "http://registry.example.invalid/app:1.0", "127.0.0.1:1/app:1.0", "--retries", "1")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	if !strings.Contains(stderr, "--plain-http") {
		t.Errorf("stderr %q does not mention --plain-http", stderr)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"artifact", "copy", "only-one"},
		{"nonsense"},
		{"version", "--bogus-flag"},
		{"-o", "xml", "version"},
		{"artifact", "copy", "UPPER/case:1", "x/y:1"},
	} {
		code, _, stderr := run(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
		if !strings.HasPrefix(stderr, "ferry: ") {
			t.Errorf("%v: stderr %q does not start with 'ferry: '", args, stderr)
		}
	}
}

func base64(s string) string { return b64.StdEncoding.EncodeToString([]byte(s)) }

// TestClientCertificateRequired: a registry that wants a client
// certificate gets a hint naming --cert-file and --key-file.
func TestClientCertificateRequired(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	host := strings.TrimPrefix(srv.URL, "https://")
	code, _, stderr := run(t, "artifact", "copy", host+"/a:1", host+"/b:1", "--ca-file", ca)
	if code != 1 || !strings.Contains(stderr, "--cert-file") {
		t.Errorf("exit %d, want 1 with a hint for --cert-file\n%s", code, stderr)
	}
}

// TestServeWithoutFerryServe: ferry serve runs ferry-serve; when it is
// neither beside ferry nor on $PATH, ferry says so and how to install it.
func TestServeWithoutFerryServe(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := run(t, "serve", "--root", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "ferry-serve is neither beside ferry's executable nor on $PATH") ||
		!strings.Contains(stderr, "hint: ") || !strings.Contains(stderr, "make build") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	_, _, stderr = run(t, "help", "serve")
	if !strings.Contains(stderr, "ferry-serve is neither") || !strings.Contains(stderr, "hint: ") {
		t.Fatalf("ferry help serve: stderr %q", stderr)
	}
}
