package serve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/auth"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"

	// The access controllers and storage drivers ferry serve offers. Registering them here
	// also makes them known to Validate.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/azure"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/s3-aws"
)

// DefaultAddr is where the registry listens when neither Options.Addr nor the configuration
// file's http.addr say otherwise. Loopback only: serving other hosts is an explicit choice.
const DefaultAddr = "127.0.0.1:5000"

// drivers are the storage drivers registered above, and those AddDriver names.
var drivers = []string{"azure", "filesystem", "inmemory", "s3", "s3aws"}

// AddDriver names a storage driver that another package registers with distribution, so
// that Drivers lists it. It is for package initialisation (internal/serve/gcs).
func AddDriver(name string) { drivers = append(drivers, name) }

// Drivers returns the storage drivers this program registers, sorted. ferry-serve has every
// driver distribution ships (s3aws is the s3 driver's other name): those registered above,
// and gcs (internal/serve/gcs). The gcs driver brings Google's cloud client stack with it,
// which adds 24.5 MB to ferry-serve and 12–13 MiB to an idle registry's resident memory,
// so the in-process registries of the tests (internal/registrytest) leave it out. distribution's storage middleware (cloudfront,
// redirect, rewrite) is not registered. A test checks that each name is registered.
func Drivers() []string { return slices.Sorted(slices.Values(drivers)) }

// Options describe the registry `ferry serve` runs. The zero value is an in-memory registry
// on DefaultAddr without TLS or authentication.
//
// Options and a configuration file combine key by key. The file is read first; then each
// non-empty option replaces its key: Addr sets http.addr, TLSCert and TLSKey set
// http.tls.certificate and http.tls.key, Htpasswd sets auth to htpasswd, ReadOnly sets
// storage.maintenance.readonly.enabled, LogLevel sets log.level. Two combinations are errors
// rather than silent choices: Root with a ConfigFile (the file's storage section decides; set
// storage.filesystem.rootdirectory there), and Htpasswd with a file whose auth section names
// another access controller.
type Options struct {
	// Addr is the listen address ("host:port"). "" means the file's http.addr, or DefaultAddr.
	// Port 0 picks a free port; Server.Addr reports the one chosen.
	Addr string

	// Root is the directory of filesystem storage; it is created (0o755) if missing.
	// "" means in-memory storage, lost when the server stops, unless ConfigFile is set.
	Root string

	// ConfigFile is a distribution configuration YAML (version 0.1), so any storage driver
	// this build registers (see Drivers) and any distribution setting can be used. As with
	// distribution itself, REGISTRY_* environment variables override the file's keys.
	ConfigFile string

	// TLSCert and TLSKey are PEM files; both or neither. Without them the registry speaks
	// plain HTTP.
	TLSCert, TLSKey string

	// Htpasswd is an htpasswd file of bcrypt entries (htpasswd -B). It must exist: unlike
	// distribution, ferry never provisions one with a random password.
	Htpasswd string

	// ReadOnly rejects every write (distribution's maintenance read-only mode).
	ReadOnly bool

	// LogLevel is a logrus level: panic, fatal, error, warn, info, debug, trace.
	// "" means the level the file (or REGISTRY_LOG_LEVEL) sets explicitly, else "error",
	// which also drops the line distribution logs for each client error (see SetLogging).
	// Distribution logs through logrus's standard logger, so this setting is process-wide.
	LogLevel string

	// LogOutput receives distribution's log lines; nil means os.Stderr.
	LogOutput io.Writer

	// ShutdownTimeout bounds the graceful shutdown in Server.Run. <= 0 means the file's
	// http.draintimeout, or 10 seconds.
	ShutdownTimeout time.Duration
}

// ConfigError reports a configuration setting that cannot work, before distribution sees it.
type ConfigError struct {
	File string // the configuration file; "" when the configuration came from Options alone
	Key  string // dotted key such as "storage", "http.tls.key", "auth.htpasswd.path"; "" for the whole file
	Err  error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

func keyErr(key string, format string, args ...any) *ConfigError {
	return &ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Configuration builds the distribution configuration o describes, validates it (see
// Validate) and creates Root if it is missing. Errors about the configuration are
// *ConfigError.
func (o Options) Configuration() (*configuration.Configuration, error) {
	cfg, err := o.configuration()
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.File == "" {
			ce.File = o.ConfigFile
		}
		return nil, err
	}
	if o.Root != "" {
		if err := os.MkdirAll(o.Root, 0o755); err != nil {
			return nil, fmt.Errorf("creating storage root: %w", err)
		}
	}
	return cfg, nil
}

func (o Options) configuration() (*configuration.Configuration, error) {
	var cfg *configuration.Configuration
	if o.ConfigFile != "" {
		if o.Root != "" {
			return nil, keyErr("storage", "root directory %q conflicts with the file's storage section; set storage.filesystem.rootdirectory in the file instead", o.Root)
		}
		b, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		cfg, err = parse(b)
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		if !setsLogLevel(b) {
			cfg.Log.Level = "error" // not distribution's "info": quiet unless asked
		}
	} else {
		cfg = defaultConfiguration(o.Root)
	}

	if o.Addr != "" {
		cfg.HTTP.Addr = o.Addr
	}
	if cfg.HTTP.Addr == "" {
		cfg.HTTP.Addr = DefaultAddr
	}
	if o.TLSCert != "" || o.TLSKey != "" {
		cfg.HTTP.TLS.Certificate = o.TLSCert
		cfg.HTTP.TLS.Key = o.TLSKey
	}
	if o.Htpasswd != "" {
		realm := "ferry"
		switch t := cfg.Auth.Type(); t {
		case "", "none":
		case "htpasswd":
			if r, ok := cfg.Auth.Parameters()["realm"].(string); ok && r != "" {
				realm = r
			}
		default:
			return nil, keyErr("auth", "htpasswd file %q conflicts with the %q access controller the file configures", o.Htpasswd, t)
		}
		cfg.Auth = configuration.Auth{"htpasswd": {"realm": realm, "path": o.Htpasswd}}
	}
	if o.ReadOnly {
		if err := setMaintenance(cfg, "readonly", map[any]any{"enabled": true}); err != nil {
			return nil, err
		}
	}
	if o.LogLevel != "" {
		cfg.Log.Level = configuration.Loglevel(o.LogLevel)
	}
	if cfg.HTTP.Secret == "" {
		// One process serves every request, so a random secret is right; setting it here
		// spares the warning distribution logs when it makes one itself.
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("generating http secret: %w", err)
		}
		cfg.HTTP.Secret = hex.EncodeToString(b[:])
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parse reads a configuration file's bytes; distribution's parser panics on some shapes
// (a storage section naming two drivers through the environment), so it is guarded.
func parse(b []byte) (cfg *configuration.Configuration, err error) {
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return configuration.Parse(bytes.NewReader(b))
}

// setsLogLevel reports whether a configuration file, or the environment that overrides it,
// sets the log level; configuration.Parse fills in "info" when nothing does.
func setsLogLevel(b []byte) bool {
	if os.Getenv("REGISTRY_LOG_LEVEL") != "" || os.Getenv("REGISTRY_LOGLEVEL") != "" {
		return true
	}
	var f struct {
		Log struct {
			Level string `yaml:"level"`
		} `yaml:"log"`
		Loglevel string `yaml:"loglevel"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return false
	}
	return f.Log.Level != "" || f.Loglevel != ""
}

func defaultConfiguration(root string) *configuration.Configuration {
	cfg := &configuration.Configuration{}
	cfg.Version = configuration.MajorMinorVersion(0, 1)
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.Catalog.MaxEntries = 1000 // what configuration.Parse defaults to; 0 would list nothing
	cfg.Tags.MaxTags = 1000
	if root != "" {
		cfg.Storage = configuration.Storage{"filesystem": {"rootdirectory": root}}
	} else {
		cfg.Storage = configuration.Storage{"inmemory": {}}
	}
	return cfg
}

// setMaintenance sets storage.maintenance.<key>, keeping the rest of the section.
func setMaintenance(cfg *configuration.Configuration, key string, v map[any]any) error {
	if cfg.Storage == nil {
		cfg.Storage = configuration.Storage{}
	}
	m, ok := cfg.Storage["maintenance"]
	if !ok || m == nil {
		m = configuration.Parameters{}
		cfg.Storage["maintenance"] = m
	}
	if old, ok := m[key]; ok {
		om, ok := old.(map[any]any)
		if !ok {
			return keyErr("storage.maintenance."+key, "want a mapping, got %T", old)
		}
		merged := maps.Clone(om)
		for k, x := range v {
			merged[k] = x
		}
		v = merged
	}
	m[key] = v
	return nil
}

// storageSections are the keys of the storage section that configure the registry rather
// than name a driver (configuration.Storage.Type skips the same ones).
var storageSections = []string{"maintenance", "cache", "delete", "redirect", "tag"}

// Validate checks every part of cfg that handlers.NewApp would otherwise panic on, or that
// ferry serve does not support, and returns a *ConfigError naming the key (and the file,
// for a setting that names one). It loads the TLS files and the htpasswd file, and creates
// the storage driver and access controller once to let them check their own parameters;
// neither writes, and only gcs without a keyfile may touch the network (its search for
// default credentials can ask a cloud metadata server); s3 and azure only build clients.
func Validate(cfg *configuration.Configuration) error {
	if cfg == nil {
		return keyErr("", "no configuration")
	}
	for _, check := range []func(*configuration.Configuration) error{
		validateLog, validateStorage, validateMaintenance, validateHTTP, validateAuth, validateValidation,
	} {
		if err := check(cfg); err != nil {
			return err
		}
	}
	return nil
}

func validateLog(cfg *configuration.Configuration) error {
	if cfg.Log.Level != "" {
		if _, err := logrus.ParseLevel(string(cfg.Log.Level)); err != nil {
			return keyErr("log.level", "unknown level %q", cfg.Log.Level)
		}
	}
	switch cfg.Log.Formatter {
	case "", "text", "json", "logstash":
	default:
		return keyErr("log.formatter", "unknown formatter %q (want text, json or logstash)", cfg.Log.Formatter)
	}
	return nil
}

func validateStorage(cfg *configuration.Configuration) error {
	var drivers []string
	for k := range cfg.Storage {
		if !slices.Contains(storageSections, k) {
			drivers = append(drivers, k)
		}
	}
	sort.Strings(drivers)
	switch len(drivers) {
	case 0:
		return keyErr("storage", "no storage driver configured (this ferry has %s)", strings.Join(Drivers(), ", "))
	case 1:
	default:
		return keyErr("storage", "more than one storage driver: %s", strings.Join(drivers, ", "))
	}
	name := drivers[0]
	params := map[string]any{}
	for k, v := range cfg.Storage[name] {
		params[k] = v
	}
	d, err := factory.Create(context.Background(), name, params)
	var unknown factory.InvalidStorageDriverError
	if errors.As(err, &unknown) {
		return keyErr("storage", "unknown driver %q (this ferry has %s)", name, strings.Join(Drivers(), ", "))
	}
	if err != nil {
		return keyErr("storage."+name, "%w", err)
	}
	if d == nil {
		return keyErr("storage."+name, "driver %q returned no driver", name)
	}

	if s, ok := cfg.Storage["delete"]; ok {
		if v, ok := s["enabled"]; ok {
			if _, ok := v.(bool); !ok {
				return keyErr("storage.delete.enabled", "want true or false, got %v", v)
			}
		}
	}
	if s, ok := cfg.Storage["redirect"]; ok {
		if _, ok := s["disable"].(bool); !ok {
			return keyErr("storage.redirect.disable", "want true or false, got %v", s["disable"])
		}
	}
	if s, ok := cfg.Storage["tag"]; ok {
		if v, ok := s["concurrencylimit"]; ok {
			if n, ok := v.(int); !ok || n < 0 {
				return keyErr("storage.tag.concurrencylimit", "want a non-negative integer, got %v", v)
			}
		}
	}
	if s, ok := cfg.Storage["cache"]; ok {
		v, ok := s["blobdescriptor"]
		if !ok {
			v = s["layerinfo"]
		}
		switch v {
		case nil, "", "inmemory":
		case "redis":
			if len(cfg.Redis.Options.Addrs) == 0 {
				return keyErr("storage.cache.blobdescriptor", "redis cache needs the redis section (redis.addrs)")
			}
		default:
			return keyErr("storage.cache.blobdescriptor", "unknown cache %v (want inmemory or redis)", v)
		}
		if v, ok := s["blobdescriptorsize"]; ok {
			if _, ok := v.(int); !ok {
				return keyErr("storage.cache.blobdescriptorsize", "want an integer, got %v", v)
			}
		}
	}
	return nil
}

func validateMaintenance(cfg *configuration.Configuration) error {
	m, ok := cfg.Storage["maintenance"]
	if !ok {
		return nil
	}
	if v, ok := m["uploadpurging"]; ok {
		p, ok := v.(map[any]any)
		if !ok {
			return keyErr("storage.maintenance.uploadpurging", "want a mapping, got %v", v)
		}
		if e, ok := p["enabled"]; ok {
			if _, ok := e.(bool); !ok {
				return keyErr("storage.maintenance.uploadpurging.enabled", "want true or false, got %v", e)
			}
		}
		if p["enabled"] != false {
			for _, k := range []string{"age", "interval"} {
				s, ok := p[k].(string)
				if !ok {
					return keyErr("storage.maintenance.uploadpurging."+k, "want a duration such as 168h, got %v", p[k])
				}
				if _, err := time.ParseDuration(s); err != nil {
					return keyErr("storage.maintenance.uploadpurging."+k, "%w", err)
				}
			}
			if _, ok := p["dryrun"].(bool); !ok {
				return keyErr("storage.maintenance.uploadpurging.dryrun", "want true or false, got %v", p["dryrun"])
			}
		}
	}
	if v, ok := m["readonly"]; ok {
		r, ok := v.(map[any]any)
		if !ok {
			return keyErr("storage.maintenance.readonly", "want a mapping, got %v", v)
		}
		if e, ok := r["enabled"]; ok {
			if _, ok := e.(bool); !ok {
				return keyErr("storage.maintenance.readonly.enabled", "want true or false, got %v", e)
			}
		}
	}
	return nil
}

func validateHTTP(cfg *configuration.Configuration) error {
	h := cfg.HTTP
	switch h.Net {
	case "", "tcp", "tcp4", "tcp6", "unix":
	default:
		return keyErr("http.net", "unknown network %q (want tcp or unix)", h.Net)
	}
	if h.Host != "" {
		if _, err := url.Parse(h.Host); err != nil {
			return keyErr("http.host", "%w", err)
		}
	}
	if h.Debug.Addr != "" {
		return keyErr("http.debug.addr", "the debug server is not supported by ferry serve")
	}
	_, err := tlsConfig(cfg)
	return err
}

// tlsConfig loads the certificate, key and client CAs named in cfg.HTTP.TLS and returns
// the server's TLS configuration, or nil when TLS is off.
func tlsConfig(cfg *configuration.Configuration) (*tls.Config, error) {
	t := cfg.HTTP.TLS
	if t.LetsEncrypt.CacheFile != "" || len(t.LetsEncrypt.Hosts) > 0 {
		return nil, keyErr("http.tls.letsencrypt", "not supported by ferry serve; set http.tls.certificate and http.tls.key")
	}
	switch {
	case t.Certificate == "" && t.Key == "":
		if len(t.ClientCAs) > 0 {
			return nil, keyErr("http.tls.clientcas", "set without http.tls.certificate and http.tls.key")
		}
		return nil, nil
	case t.Certificate == "":
		return nil, keyErr("http.tls.certificate", "missing, but http.tls.key is set (%s)", t.Key)
	case t.Key == "":
		return nil, keyErr("http.tls.key", "missing, but http.tls.certificate is set (%s)", t.Certificate)
	}
	for _, kf := range [][2]string{{"http.tls.certificate", t.Certificate}, {"http.tls.key", t.Key}} {
		if _, err := os.Stat(kf[1]); err != nil {
			return nil, keyErr(kf[0], "%w", err)
		}
	}
	pair, err := tls.LoadX509KeyPair(t.Certificate, t.Key)
	if err != nil {
		return nil, keyErr("http.tls", "loading %s and %s: %w", t.Certificate, t.Key, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	switch t.MinimumTLS {
	case "", "tls1.2":
	case "tls1.3":
		tc.MinVersion = tls.VersionTLS13
	case "tls1.0", "tls1.1":
		return nil, keyErr("http.tls.minimumtls", "%s is not supported; use tls1.2 or tls1.3", t.MinimumTLS)
	default:
		return nil, keyErr("http.tls.minimumtls", "unknown version %q (want tls1.2 or tls1.3)", t.MinimumTLS)
	}
	if len(t.CipherSuites) > 0 {
		known := map[string]uint16{}
		for _, s := range tls.CipherSuites() {
			known[s.Name] = s.ID
		}
		for _, name := range t.CipherSuites {
			id, ok := known[name]
			if !ok {
				return nil, keyErr("http.tls.ciphersuites", "unknown or insecure cipher suite %q", name)
			}
			tc.CipherSuites = append(tc.CipherSuites, id)
		}
	}
	if len(t.ClientCAs) > 0 {
		pool := x509.NewCertPool()
		for _, f := range t.ClientCAs {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, keyErr("http.tls.clientcas", "%w", err)
			}
			if !pool.AppendCertsFromPEM(b) {
				return nil, keyErr("http.tls.clientcas", "%s: no PEM certificate", f)
			}
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	switch t.ClientAuth {
	case "":
	case configuration.ClientAuthRequestClientCert:
		tc.ClientAuth = tls.RequestClientCert
	case configuration.ClientAuthRequireAnyClientCert:
		tc.ClientAuth = tls.RequireAnyClientCert
	case configuration.ClientAuthVerifyClientCertIfGiven:
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	case configuration.ClientAuthRequireAndVerifyClientCert:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, keyErr("http.tls.clientauth", "unknown mode %q", t.ClientAuth)
	}
	return tc, nil
}

func validateAuth(cfg *configuration.Configuration) error {
	if len(cfg.Auth) > 1 {
		return keyErr("auth", "more than one access controller")
	}
	name := cfg.Auth.Type()
	if name == "" || strings.EqualFold(name, "none") {
		return nil
	}
	params := map[string]any{}
	for k, v := range cfg.Auth.Parameters() {
		params[k] = v
	}
	if name == "htpasswd" {
		if r, ok := params["realm"].(string); !ok || r == "" {
			return keyErr("auth.htpasswd.realm", "missing")
		}
		p, ok := params["path"].(string)
		if !ok || p == "" {
			return keyErr("auth.htpasswd.path", "missing")
		}
		// Checked before distribution sees it: its controller writes a file with a random
		// password when the path does not exist.
		if err := checkHtpasswd(p); err != nil {
			return keyErr("auth.htpasswd.path", "%w", err)
		}
	}
	if _, err := auth.GetAccessController(name, params); err != nil {
		if strings.HasPrefix(err.Error(), "no access controller registered") {
			return keyErr("auth", "unknown access controller %q (want htpasswd or token)", name)
		}
		return keyErr("auth."+name, "%w", err)
	}
	return nil
}

// checkHtpasswd reads an htpasswd file the way distribution does and also checks that
// every entry is a bcrypt hash, the only kind distribution accepts.
func checkHtpasswd(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory, not an htpasswd file", path)
	}
	sc := bufio.NewScanner(f)
	n, users := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return fmt.Errorf("%s:%d: want user:bcrypt-hash", path, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return fmt.Errorf("%s:%d: user %q: not a bcrypt hash (create entries with htpasswd -B)", path, n, user)
		}
		users++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if users == 0 {
		return fmt.Errorf("%s has no users", path)
	}
	return nil
}

func validateValidation(cfg *configuration.Configuration) error {
	for _, s := range cfg.Validation.Manifests.URLs.Allow {
		if _, err := regexp.Compile(s); err != nil {
			return keyErr("validation.manifests.urls.allow", "%w", err)
		}
	}
	for _, s := range cfg.Validation.Manifests.URLs.Deny {
		if _, err := regexp.Compile(s); err != nil {
			return keyErr("validation.manifests.urls.deny", "%w", err)
		}
	}
	switch p := cfg.Validation.Manifests.Indexes.Platforms; p {
	case "", "all", "none", "list":
	default:
		return keyErr("validation.manifests.indexes.platforms", "unknown value %q (want all, none or list)", p)
	}
	return nil
}
