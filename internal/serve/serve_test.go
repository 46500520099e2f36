package serve_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-oci/ferry/internal/serve"
)

// start runs a server for the rest of the test and returns it.
func start(t *testing.T, o serve.Options) *serve.Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.LogOutput == nil {
		o.LogOutput = io.Discard
	}
	s, err := serve.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { stop(t, s) })
	return s
}

func stop(t *testing.T, s *serve.Server) {
	t.Helper()
	// A connection that the client dialed but never used counts as active for 5 seconds
	// in http.Server.Shutdown; close the client's spare ones.
	remote.DefaultTransport.(*http.Transport).CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func ref(t *testing.T, s *serve.Server, repo string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s.Addr()+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func push(t *testing.T, r name.Reference, opts ...remote.Option) (v1.Image, error) {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	return img, remote.Write(r, img, opts...)
}

func writeHtpasswd(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte("# users\n"+user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMain(m *testing.M) {
	// Some tests call distribution's handlers.NewApp directly; keep them quiet too.
	if err := serve.SetLogging("panic", io.Discard); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func TestRestartKeepsContent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "does", "not", "exist", "yet")
	s, err := serve.New(serve.Options{Addr: "127.0.0.1:0", Root: root, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr() = %s, want the port chosen", s.Addr())
	}
	img, err := push(t, ref(t, s, "acme/api:1.4"))
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	want, _ := img.Digest()
	stop(t, s)
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait after Shutdown: %v", err)
	}
	if _, err := http.Get(s.URL() + "/v2/"); err == nil {
		t.Fatalf("stopped server still answers")
	}

	s2 := start(t, serve.Options{Root: root})
	got, err := remote.Image(ref(t, s2, "acme/api:1.4"))
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Fatalf("digest after restart = %s, want %s", d, want)
	}
	if err := validate.Image(got); err != nil {
		t.Fatalf("image after restart: %v", err)
	}
}

func TestInMemoryByDefault(t *testing.T) {
	s := start(t, serve.Options{})
	if _, err := push(t, ref(t, s, "acme/api:1")); err != nil {
		t.Fatalf("push: %v", err)
	}
	s2 := start(t, serve.Options{})
	if _, err := remote.Head(ref(t, s2, "acme/api:1")); err == nil {
		t.Fatalf("a second in-memory server has the first one's image")
	}
}

func TestDefaultAddr(t *testing.T) {
	s, err := serve.New(serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != serve.DefaultAddr || serve.DefaultAddr != "127.0.0.1:5000" {
		t.Fatalf("Addr() before Start = %q", s.Addr())
	}
}

func TestReadOnlyRejectsPush(t *testing.T) {
	s := start(t, serve.Options{ReadOnly: true})
	_, err := push(t, ref(t, s, "acme/api:1"))
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("push to read-only registry: %v, want a 405", err)
	}
	if resp, err := http.Get(s.URL() + "/v2/"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ on read-only registry: %v %v", resp, err)
	}
}

func TestHtpasswd(t *testing.T) {
	s := start(t, serve.Options{Htpasswd: writeHtpasswd(t, "alice", "s3cret")})
	r := ref(t, s, "acme/api:1")

	for _, c := range []struct {
		name string
		opts []remote.Option
	}{
		{"anonymous", nil},
		{"wrong password", []remote.Option{remote.WithAuth(&authn.Basic{Username: "alice", Password: "nope"})}},
		{"unknown user", []remote.Option{remote.WithAuth(&authn.Basic{Username: "mallory", Password: "s3cret"})}},
	} {
		_, err := push(t, r, c.opts...)
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: push gave %v, want a 401", c.name, err)
		}
	}
	if _, err := push(t, r, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})); err != nil {
		t.Fatalf("push with the right password: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their paths and a
// pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := start(t, serve.Options{TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL() = %s", s.URL())
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(s.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ over TLS: %d", resp.StatusCode)
	}
	if _, err := http.Get(s.URL() + "/v2/"); err == nil {
		t.Fatalf("a client that does not trust the certificate connected")
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "data")
	cfgFile := filepath.Join(dir, "config.yml")
	yml := "version: 0.1\n" +
		"http:\n  addr: 127.0.0.1:0\n  headers:\n    X-Ferry-Test: [yes]\n" +
		"storage:\n  filesystem:\n    rootdirectory: " + root + "\n  delete:\n    enabled: true\n"
	if err := os.WriteFile(cfgFile, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := start(t, serve.Options{ConfigFile: cfgFile, LogOutput: &logs})
	if _, err := push(t, ref(t, s, "acme/api:1")); err != nil {
		t.Fatalf("push: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker", "registry", "v2", "repositories", "acme", "api")); err != nil {
		t.Fatalf("the file's storage root was not used: %v", err)
	}
	resp, err := http.Get(s.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Ferry-Test") != "yes" {
		t.Errorf("http.headers not applied: %v", resp.Header)
	}
	if logs.Len() != 0 {
		t.Errorf("a file without log.level is not quiet:\n%s", logs.String())
	}

	// Options override the file: read-only on the same file rejects the push.
	ro := start(t, serve.Options{ConfigFile: cfgFile, ReadOnly: true, LogOutput: io.Discard})
	if _, err := push(t, ref(t, ro, "acme/api:2")); err == nil {
		t.Fatalf("ReadOnly did not override the file")
	}
}

func TestLogLevel(t *testing.T) {
	var logs syncBuffer
	s := start(t, serve.Options{LogLevel: "debug", LogOutput: &logs})
	if _, err := http.Get(s.URL() + "/v2/acme/api/manifests/missing"); err != nil {
		t.Fatal(err)
	}
	stop(t, s)
	if !strings.Contains(logs.String(), "manifest unknown") {
		t.Fatalf("debug logging shows no request:\n%s", logs.String())
	}
	if _, err := serve.New(serve.Options{LogLevel: "loud"}); err == nil {
		t.Fatalf("unknown log level accepted")
	}

	// A level the file sets is kept.
	var fileLogs syncBuffer
	cfgFile := writeFile(t, "config.yml", "version: 0.1\nlog:\n  level: debug\nstorage: inmemory\n")
	s = start(t, serve.Options{ConfigFile: cfgFile, LogOutput: &fileLogs})
	if _, err := http.Get(s.URL() + "/v2/acme/api/manifests/missing"); err != nil {
		t.Fatal(err)
	}
	stop(t, s)
	if !strings.Contains(fileLogs.String(), "manifest unknown") {
		t.Fatalf("log.level debug from the file shows no request:\n%s", fileLogs.String())
	}
}

// syncBuffer is a bytes.Buffer that server goroutines may write to.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.lock()
	defer func() { <-b.mu }()
	return b.b.String()
}

func TestRunShutsDownGracefully(t *testing.T) {
	s, err := serve.New(serve.Options{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx, func(s *serve.Server) { ready <- s.URL() }) }()
	url := <-ready

	// Start a blob upload whose body is still streaming when ctx is cancelled. Run's
	// shutdown must let it finish: it uses a fresh timeout, not the cancelled ctx.
	resp, err := http.Post(url+"/v2/acme/api/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = url + loc
	}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPatch, loc, pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	done := make(chan *http.Response, 1)
	// A new connection, so the server cannot take it for an idle keep-alive one.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("PATCH during shutdown: %v", err)
			done <- nil
			return
		}
		resp.Body.Close()
		done <- resp
	}()
	if _, err := pw.Write([]byte("first half ")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the handler start reading the body
	cancel()
	time.Sleep(200 * time.Millisecond) // let Shutdown begin; the upload is still open
	if _, err := pw.Write([]byte("second half")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if resp := <-done; resp != nil && resp.StatusCode != http.StatusAccepted {
		t.Errorf("PATCH during shutdown: status %d, want 202", resp.StatusCode)
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Run did not return after cancel")
	}
	if _, err := http.Get(url + "/v2/"); err == nil {
		t.Fatalf("server still answers after Run returned")
	}
}

func TestStartTwiceAndPortInUse(t *testing.T) {
	s := start(t, serve.Options{})
	if err := s.Start(context.Background()); err == nil {
		t.Fatalf("second Start succeeded")
	}
	busy, err := serve.New(serve.Options{Addr: s.Addr(), LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := busy.Start(context.Background()); err == nil {
		stop(t, busy)
		t.Fatalf("Start on a busy address %s succeeded", s.Addr())
	}
}

// TestQuietLogging checks the default level's filter: client errors are dropped, the
// registry's own failures are kept.
func TestQuietLogging(t *testing.T) {
	var logs syncBuffer
	if err := serve.SetLogging("", &logs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.SetLogging("panic", io.Discard) })
	logrus.WithField("http.response.status", 404).Error("response completed with error")
	logrus.Info("chatter")
	if got := logs.String(); got != "" {
		t.Fatalf("default level logged:\n%s", got)
	}
	logrus.WithField("http.response.status", 500).Error("response completed with error")
	if got := logs.String(); !strings.Contains(got, "status=500") {
		t.Fatalf("a 500 was not logged: %q", got)
	}
}

// TestBlobFromFile: on filesystem storage ferry serve sends a blob's body from its file
// (blobfile.go), and only where distribution answers with the whole blob: authorization,
// the repository's link to the blob and ranges stay distribution's.
func TestBlobFromFile(t *testing.T) {
	t.Run("http", func(t *testing.T) { testBlobFromFile(t, serve.Options{}, http.DefaultTransport) })
	t.Run("https", func(t *testing.T) {
		certFile, keyFile, pool := selfSigned(t)
		testBlobFromFile(t, serve.Options{TLSCert: certFile, TLSKey: keyFile}, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	})
}

func testBlobFromFile(t *testing.T, o serve.Options, tr http.RoundTripper) {
	o.Root, o.Htpasswd = t.TempDir(), writeHtpasswd(t, "alice", "s3cret")
	s := start(t, o)
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()
	img, err := random.Image(1<<20, 1) // above the size sent from files
	if err != nil {
		t.Fatal(err)
	}
	err = remote.Write(ref(t, s, "acme/api:1"), img, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"}), remote.WithTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}

	get := func(repo string, auth bool, header ...string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.URL()+"/v2/"+repo+"/blobs/"+d.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth("alice", "s3cret")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, body
	}

	status, h, body := get("acme/api", true)
	if status != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("GET: %d, %d bytes; want 200 and the layer's %d bytes", status, len(body), len(want))
	}
	if h.Get("Docker-Content-Digest") != d.String() || h.Get("Content-Length") != fmt.Sprint(len(want)) || h.Get("Etag") != `"`+d.String()+`"` {
		t.Errorf("GET: headers %v", h)
	}
	if status, _, body := get("acme/api", true, "Range", "bytes=10-19"); status != http.StatusPartialContent || !bytes.Equal(body, want[10:20]) {
		t.Errorf("GET of a range: %d, %q; want 206 and %q", status, body, want[10:20])
	}
	if status, _, _ := get("acme/api", true, "If-None-Match", `"`+d.String()+`"`); status != http.StatusNotModified {
		t.Errorf("GET with If-None-Match: %d, want 304", status)
	}
	if status, _, body := get("acme/api", false); status != http.StatusUnauthorized || bytes.Contains(body, want[:64]) {
		t.Errorf("GET without credentials: %d, %d bytes; want 401 without the blob", status, len(body))
	}
	if status, _, body := get("acme/other", true); status != http.StatusNotFound || bytes.Contains(body, want[:64]) {
		t.Errorf("GET from a repository the blob is not linked into: %d, %d bytes; want 404 without the blob", status, len(body))
	}
}
