package registrytest

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-oci/ferry/internal/serve"
)

// Registry is a running distribution registry. It stops when the test ends (or at Close).
type Registry struct {
	// Host is "127.0.0.1:PORT", the registry part of references to this registry.
	Host string
	// URL is "http://127.0.0.1:PORT", or "https://…" with WithTLS.
	URL string
	// CAFile is the PEM file of the CA that signed the server certificate (WithTLS);
	// "" without TLS.
	CAFile string
	// User and Password are the credentials set with WithAuth; "" without auth.
	User, Password string

	t      testing.TB
	srv    *httptest.Server
	app    *handlers.App
	caPool *x509.CertPool
	once   sync.Once

	mu   sync.Mutex
	reqs Requests
}

// Option changes how New starts the registry.
type Option func(*settings)

type settings struct {
	tls      bool
	user     string
	password string
	root     string
	readOnly bool
	wrap     func(http.Handler) http.Handler
	addr     string
}

// WithTLS serves HTTPS with a certificate for 127.0.0.1, ::1 and localhost, signed by a CA
// made for this registry alone (see Registry.CAFile, CAPool and Client). Clients that do not
// trust that CA fail the handshake.
func WithTLS() Option { return func(s *settings) { s.tls = true } }

// WithAuth requires HTTP basic auth (distribution's htpasswd access controller) with this
// user and password on every /v2/ request; others get 401 with a Basic challenge.
func WithAuth(user, password string) Option {
	return func(s *settings) { s.user, s.password = user, password }
}

// WithFilesystem stores content under dir (created if missing) instead of in memory, so a
// second registry started on the same dir sees the first one's content.
func WithFilesystem(dir string) Option { return func(s *settings) { s.root = dir } }

// WithAddr listens on addr (a loopback host:port) instead of a free port, for fixtures
// whose references name a fixed port. New fails the test when addr is taken.
func WithAddr(addr string) Option { return func(s *settings) { s.addr = addr } }

// WithReadOnly rejects every write (distribution's maintenance read-only mode).
func WithReadOnly() Option { return func(s *settings) { s.readOnly = true } }

// WithHandlerWrapper puts wrap's handler in front of the registry, for fault injection.
// The request log (Registry.Requests) sits in front of it, so it records the requests the
// wrapper answers itself too.
func WithHandlerWrapper(wrap func(http.Handler) http.Handler) Option {
	return func(s *settings) { s.wrap = wrap }
}

// New starts a registry on 127.0.0.1 for the rest of the test. It fails the test if the
// registry cannot start.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var s settings
	for _, o := range opts {
		o(&s)
	}
	// Distribution logs through logrus's standard logger; tests want silence.
	if err := serve.SetLogging("panic", io.Discard); err != nil {
		t.Fatalf("registrytest: %v", err)
	}

	r := &Registry{t: t, User: s.user, Password: s.password}
	o := serve.Options{Root: s.root, ReadOnly: s.readOnly}
	if s.user != "" || s.password != "" {
		o.Htpasswd = writeHtpasswd(t, s.user, s.password)
	}
	cfg, err := o.Configuration()
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	// The upload purger is a goroutine that outlives a short test; tests need no purging.
	maint := cfg.Storage["maintenance"]
	if maint == nil {
		maint = configuration.Parameters{}
		cfg.Storage["maintenance"] = maint
	}
	maint["uploadpurging"] = map[any]any{"enabled": false}

	app, err := serve.NewApp(context.Background(), cfg)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	r.app = app

	h := serve.Handler(app, cfg)
	if s.wrap != nil {
		h = s.wrap(h)
	}
	r.srv = httptest.NewUnstartedServer(r.record(h))
	if s.addr != "" {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			t.Fatalf("registrytest: %v", err)
		}
		r.srv.Listener.Close()
		r.srv.Listener = l
	}
	if s.tls {
		ca := newCA(t)
		r.caPool = ca.pool()
		r.CAFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(r.CAFile, ca.certPEM, 0o644); err != nil {
			t.Fatalf("registrytest: writing CA file: %v", err)
		}
		r.srv.TLS = ca.serverTLS(t)
		r.srv.StartTLS()
		// httptest's own client trusts the leaf; make it trust the CA like everyone else.
		r.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs = r.caPool
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.Close)
	r.URL = r.srv.URL
	r.Host = strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "https://"), "http://")
	return r
}

// Close stops the registry; later requests fail to connect. It is safe to call more than
// once, and the test's cleanup calls it.
func (r *Registry) Close() {
	r.once.Do(func() {
		r.srv.Close()
		_ = r.app.Shutdown()
	})
}

// CAPool returns a pool holding the registry's CA (WithTLS), or nil without TLS.
func (r *Registry) CAPool() *x509.CertPool { return r.caPool }

// Client returns an HTTP client that trusts the registry's CA. It sends no credentials.
func (r *Registry) Client() *http.Client { return r.srv.Client() }

// DockerConfigFile writes a Docker config.json with an "auths" entry holding this
// registry's credentials, in a fresh temporary directory, and returns the file's path
// (point DOCKER_CONFIG at its directory). The test fails without WithAuth.
func (r *Registry) DockerConfigFile() string {
	r.t.Helper()
	if r.User == "" && r.Password == "" {
		r.t.Fatalf("registrytest: DockerConfigFile needs a registry started WithAuth")
	}
	type entry struct {
		Auth string `json:"auth"`
	}
	b, err := json.MarshalIndent(map[string]map[string]entry{
		"auths": {r.Host: {Auth: base64.StdEncoding.EncodeToString([]byte(r.User + ":" + r.Password))}},
	}, "", "\t")
	if err != nil {
		r.t.Fatalf("registrytest: encoding docker config: %v", err)
	}
	p := filepath.Join(r.t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		r.t.Fatalf("registrytest: writing docker config: %v", err)
	}
	return p
}

func writeHtpasswd(t testing.TB, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("registrytest: hashing password: %v", err)
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatalf("registrytest: writing htpasswd: %v", err)
	}
	return p
}
