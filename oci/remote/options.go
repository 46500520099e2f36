package remote

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Defaults of the options.
const (
	// DefaultUserAgent is the User-Agent header sent without WithUserAgent.
	DefaultUserAgent = "ferry"
	// DefaultMaxAttempts is how many times a replayable request is tried
	// without WithRetry.
	DefaultMaxAttempts = 5
	// DefaultBackoff is the wait before the first retry without WithRetry;
	// it doubles with each further retry.
	DefaultBackoff = 250 * time.Millisecond
	// DefaultListBudget is how many bytes one tag or repository listing
	// may read from a registry, all pages together, and keep (each name's
	// bytes and 16 more), without WithListBudget: some 100,000 tags of 20
	// characters, and well within a small machine's memory.
	DefaultListBudget = 8 << 20
)

// Option configures a Store. Options are checked together in New, so a
// conflict between two of them is an error rather than a silent choice.
type Option func(*settings) error

type settings struct {
	registryConfig     string
	keychain           authn.Keychain
	caFile             string
	certFile, keyFile  string
	clientCertSet      bool
	plainHTTP          bool
	insecureSkipVerify bool
	userAgent          string
	maxAttempts        int
	backoff            time.Duration
	transport          http.RoundTripper
	logger             *slog.Logger
	listBudget         int64
}

// WithRegistryConfig reads credentials from the Docker config.json at path,
// including its credential helpers (credsStore, credHelpers), instead of the
// default Docker config. The file must exist.
//
// Default: the Docker config as `docker login` writes it ($DOCKER_CONFIG/config.json,
// else ~/.docker/config.json, then $REGISTRY_AUTH_FILE and podman's
// auth.json), with its credential helpers; registries it has no entry for
// are accessed anonymously.
func WithRegistryConfig(path string) Option {
	return func(s *settings) error {
		if path == "" {
			return errors.New("registry config: empty path")
		}
		s.registryConfig = path
		return nil
	}
}

// WithKeychain resolves credentials with k instead of a Docker config. It
// cannot be combined with WithRegistryConfig.
func WithKeychain(k authn.Keychain) Option {
	return func(s *settings) error {
		if k == nil {
			return errors.New("keychain: nil")
		}
		s.keychain = k
		return nil
	}
}

// WithCAFile trusts the PEM certificates in path, in addition to the system's
// roots, for registries served over TLS. Default: the system's roots only.
func WithCAFile(path string) Option {
	return func(s *settings) error {
		if path == "" {
			return errors.New("CA file: empty path")
		}
		s.caFile = path
		return nil
	}
}

// WithClientCert presents the PEM certificate in certFile, with its private
// key in keyFile, to registries that ask for one (mutual TLS). Both are
// required. Default: no client certificate.
func WithClientCert(certFile, keyFile string) Option {
	return func(s *settings) error {
		s.certFile, s.keyFile, s.clientCertSet = certFile, keyFile, true
		return nil
	}
}

// WithPlainHTTP allows plain HTTP to every registry: HTTPS is still tried
// first. Default: false, and plain HTTP is allowed only to loopback hosts
// (127.0.0.0/8, ::1, localhost). Private addresses (10/8, 172.16/12,
// 192.168/16) get no exception.
func WithPlainHTTP(allow bool) Option {
	return func(s *settings) error {
		s.plainHTTP = allow
		return nil
	}
}

// WithInsecureSkipTLSVerify accepts any certificate a registry presents.
// Default: false, certificates are verified. It cannot be combined with
// WithCAFile.
func WithInsecureSkipTLSVerify(skip bool) Option {
	return func(s *settings) error {
		s.insecureSkipVerify = skip
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request; the CLI passes
// "ferry/<version>". Default: DefaultUserAgent.
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return fmt.Errorf("user agent %q: empty or more than one line", ua)
		}
		s.userAgent = ua
		return nil
	}
}

// WithRetry sets how many times a request whose body can be replayed is
// tried (maxAttempts >= 1; 1 means no retry) and the wait before the first
// retry (baseBackoff >= 0), which doubles with each retry, up to 30 s, with
// jitter. A Retry-After header (up to one minute) overrides the wait.
// Default: DefaultMaxAttempts attempts, DefaultBackoff.
func WithRetry(maxAttempts int, baseBackoff time.Duration) Option {
	return func(s *settings) error {
		if maxAttempts < 1 {
			return fmt.Errorf("retry: %d attempts, want at least 1", maxAttempts)
		}
		if baseBackoff < 0 {
			return fmt.Errorf("retry: negative backoff %s", baseBackoff)
		}
		s.maxAttempts, s.backoff = maxAttempts, baseBackoff
		return nil
	}
}

// WithTransport sends requests through rt instead of the default transport
// (a clone of http.DefaultTransport with the TLS settings of the options
// above), for tests and fault injection. The plain-HTTP guard, retries, logs
// and authentication still sit above rt. It cannot be combined with the TLS
// options (WithCAFile, WithClientCert, WithInsecureSkipTLSVerify): rt brings
// its own.
func WithTransport(rt http.RoundTripper) Option {
	return func(s *settings) error {
		if rt == nil {
			return errors.New("transport: nil")
		}
		s.transport = rt
		return nil
	}
}

// WithLogger logs every request at debug level: method, URL without
// credentials or query values, status and duration. Headers, tokens and
// passwords are never logged. Default: no logs.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return errors.New("logger: nil")
		}
		s.logger = l
		return nil
	}
}

// WithListBudget bounds what one listing of tags or repositories may read
// from a registry, all pages together, and keep, in bytes (n > 0). Default:
// DefaultListBudget.
func WithListBudget(n int64) Option {
	return func(s *settings) error {
		if n <= 0 {
			return fmt.Errorf("list budget: %d bytes, want more than 0", n)
		}
		s.listBudget = n
		return nil
	}
}

// build applies opts and checks the rules between them.
func build(opts []Option) (*settings, error) {
	s := &settings{userAgent: DefaultUserAgent, maxAttempts: DefaultMaxAttempts, backoff: DefaultBackoff, listBudget: DefaultListBudget}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.registryConfig != "" && s.keychain != nil {
		return nil, errors.New("WithRegistryConfig and WithKeychain both set: choose one source of credentials")
	}
	if s.clientCertSet && (s.certFile == "" || s.keyFile == "") {
		return nil, fmt.Errorf("client certificate: need both a certificate and a key file, got %q and %q", s.certFile, s.keyFile)
	}
	if s.insecureSkipVerify && s.caFile != "" {
		return nil, errors.New("WithInsecureSkipTLSVerify and WithCAFile both set: a CA file has no effect when certificates are not verified")
	}
	if s.transport != nil && (s.caFile != "" || s.clientCertSet || s.insecureSkipVerify) {
		return nil, errors.New("WithTransport cannot be combined with WithCAFile, WithClientCert or WithInsecureSkipTLSVerify: configure TLS on the transport")
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// tlsConfig returns the client TLS configuration the settings ask for.
func (s *settings) tlsConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.insecureSkipVerify} //nolint:gosec // explicit option
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", s.caFile)
		}
		c.RootCAs = pool
	}
	if s.clientCertSet {
		cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate %s with key %s: %w", s.certFile, s.keyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// baseTransport returns the transport below the guard.
func (s *settings) baseTransport() (http.RoundTripper, error) {
	if s.transport != nil {
		return s.transport, nil
	}
	tc, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	t.MaxIdleConnsPerHost = 32 // a transfer keeps many blobs in flight to one registry
	t.DialContext = dialWide(t.DialContext)
	return t, nil
}

// keychainFor returns the keychain the settings ask for.
func (s *settings) keychainFor() (authn.Keychain, error) {
	switch {
	case s.keychain != nil:
		return s.keychain, nil
	case s.registryConfig != "":
		return loadConfigKeychain(s.registryConfig)
	}
	return authn.DefaultKeychain, nil
}
